"""What the bench asks the app with: one request on loopback, a phone's User-Agent, a
builder's session cookie."""

import http.client

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """One request to the app on loopback `port`, its own connection: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def session_cookie(builder) -> str:
    """A `Cookie` header value that logs `builder` in (a fresh session, in the app's database)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(builder)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
