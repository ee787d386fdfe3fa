"""Preview URLs a browser would treat dangerously are refused, the same way on every way in.

tests/test_previews.py covers the basic forms (schemes, credentials, spaces, loopback, the
length limit) through the session page's form. Here: the tricks around them, through all three
ways a URL comes in (the session page, the dashboard's one-step turn, the API), the text a
person reads back for each, and what happens to an accepted URL with markup in it.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape, strip_tags

from common.builders import Builder
from outerloop.emails import send_nudge
from outerloop.models import ApiToken
from reactions.models import Channel, Recipient, Share
from reactions.sharing import share_preview
from sessions.hosts import Reach, reach
from sessions.models import BuildSession, Preview, PublishRequest, PublishStatus
from sessions.validators import MAX_URL_LENGTH
from tests.conftest import PHONE_UA
from tests.factories import PASSWORD, ReactionFactory
from tests.outbox import send_publish_email
from tests.test_previews import CREDENTIALS, GARBLED, NOT_WEB, WHITESPACE, local_only, url_errors

INVISIBLE = (
    "That URL has invisible characters in it (such as a zero-width space or a text-direction "
    "mark). Copy it again from the browser's address bar."
)
HOST = "https://crags.example.dev"

REFUSED = {
    # Schemes that run code or read local files, however they are spelled.
    "vbscript": ("vbscript:msgbox(1)", NOT_WEB),
    "mixed-case": ("JaVaScRiPt:alert(1)", NOT_WEB),
    "leading-space": ("   javascript:alert(1)", NOT_WEB),
    "leading-tab-newline": ("\t\njavascript:alert(1)", NOT_WEB),
    "entity-in-scheme": ("jav&#x09;ascript:alert(1)", NOT_WEB),
    "javascript-authority": ("javascript://crags.example.dev/%0Aalert(1)", NOT_WEB),
    "data-base64": ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", NOT_WEB),
    "blob": ("blob:https://crags.example.dev/8d1c6f52", NOT_WEB),
    "about": ("about:blank", NOT_WEB),
    "file-unc": ("file://///server/share/build.html", NOT_WEB),
    "ftps": ("ftps://files.example.com/build.zip", NOT_WEB),
    "ws": ("wss://crags.example.dev/socket", NOT_WEB),
    # Control characters inside the scheme, which browsers strip before parsing.
    "tab-in-scheme": ("java\tscript:alert(1)", WHITESPACE),
    "newline-in-scheme": ("java\nscript:alert(1)", WHITESPACE),
    "cr-in-scheme": ("java\rscript:alert(1)", WHITESPACE),
    "escape-in-scheme": ("java\x1bscript:alert(1)", WHITESPACE),
    # Whitespace a browser would drop (or a server would split a header on) inside the URL.
    "newline-in-path": (f"{HOST}/a\nb", WHITESPACE),
    "crlf-in-path": (f"{HOST}/a\r\nSet-Cookie:x=1", WHITESPACE),
    "tab-in-host": ("https://crags.exam\tple.dev/", WHITESPACE),
    "nbsp-in-path": (f"{HOST}/a\u00a0b", WHITESPACE),
    "line-separator": (f"{HOST}/a\u2028b", WHITESPACE),
    # Invisible characters: a URL that reads as one address and opens another.
    "zero-width-space": ("https://crags.exa\u200bmple.dev/", INVISIBLE),
    "right-to-left-override": (f"{HOST}/\u202elmth.exe", INVISIBLE),
    "byte-order-mark": (f"\ufeff{HOST}/", INVISIBLE),
    "soft-hyphen": ("https://crags.ex\u00adample.dev/", INVISIBLE),
    "bidi-isolate": (f"{HOST}/\u2066x\u2069", INVISIBLE),
    # Backslashes and missing slashes: browsers read these as another host.
    "backslashes": ("https:\\\\evil.example.com", GARBLED),
    "slash-backslash": ("https:/\\evil.example.com", GARBLED),
    "bare-backslashes": ("\\\\evil.example.com", GARBLED),
    "backslash-in-host": ("https://crags.example.dev\\.evil.example.com/", GARBLED),
    "no-slashes": ("https:evil.example.com", GARBLED),
    "one-slash": ("https:/evil.example.com", GARBLED),
    "protocol-relative-backslash": ("/\\evil.example.com", NOT_WEB),
    "three-slashes": ("///evil.example.com", NOT_WEB),
    # Credentials in any disguise (a browser reads "evil.example.com\" as a user name, too).
    "empty-credentials": ("https://:@crags.example.dev/", CREDENTIALS),
    "empty-user": ("https://@crags.example.dev/", CREDENTIALS),
    "host-as-user": ("https://crags.example.dev@evil.example.com/", CREDENTIALS),
    "backslash-before-at": ("https://evil.example.com\\@crags.example.dev/", CREDENTIALS),
    # Hosts and ports no browser opens, or that only exist on the builder's own computer.
    "port-out-of-range": ("https://crags.example.dev:99999/", GARBLED),
    "header-in-host": ("https://crags.example.dev;script-src=*/", GARBLED),
    # A browser's shorthands for an IPv4 address: Django's URL validator refuses them all;
    # one that a browser reads as loopback says so, as localhost does.
    "decimal-ip-elsewhere": ("http://3232235796/", GARBLED),  # 192.168.1.20
    "two-part-ip-elsewhere": ("http://10.1/", GARBLED),
    # Loopback, however it is written: only ever the builder's own computer.
    "localhost": ("http://localhost:3000/", local_only(3000)),
    "localhost-upper-case": ("http://LOCALHOST:5173/", local_only(5173)),
    "localhost-trailing-dot": ("http://localhost.:3000/", local_only(3000)),
    "localhost-subdomain": ("http://my-app.localhost:8080/", local_only(8080)),
    "localhost-https-default-port": ("https://localhost/", local_only(443)),
    "loopback-ipv4": ("http://127.0.0.1:8000/", local_only(8000)),
    "loopback-ipv4-elsewhere-in-8": ("http://127.45.6.7:8000/", local_only(8000)),
    "loopback-short": ("http://127.1:3000/", local_only(3000)),
    "loopback-decimal": ("http://2130706433/", local_only(80)),
    "loopback-hex": ("http://0x7f000001:3000/", local_only(3000)),
    "loopback-octal": ("http://0177.0.0.1:3000/", local_only(3000)),
    "unspecified-ipv4": ("http://0.0.0.0:8000/", local_only(8000)),
    "loopback-ipv6": ("http://[::1]:5173/", local_only(5173)),
    "ipv4-mapped-loopback": ("http://[::ffff:127.0.0.1]:8000/", local_only(8000)),
    "unspecified-ipv6": ("http://[::]:8000/", local_only(8000)),
}

ACCEPTED = {
    "idn": ("https://bücher.example/", "https://bücher.example/"),
    "punycode": ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    "idn-path": ("https://例え.jp/パス?q=ü", "https://例え.jp/パス?q=ü"),
    "outer-whitespace": ("\t\n https://crags.example.dev/ \r\n", "https://crags.example.dev/"),
    "encoded-newline": (f"{HOST}/a%0D%0Ab", f"{HOST}/a%0D%0Ab"),
    "ipv6-public": ("https://[2001:db8::1]/", "https://[2001:db8::1]/"),
    # Private network addresses: accepted, and the builder is told they open only on the
    # same Wi-Fi (test_a_private_address_is_accepted_and_said_to_open_only_on_the_same_wifi).
    "home-wifi": ("http://192.168.1.20:5173", "http://192.168.1.20:5173"),
    "rfc1918-10": ("http://10.0.0.7:3000/", "http://10.0.0.7:3000/"),
    "rfc1918-172": ("http://172.20.10.2:3000/", "http://172.20.10.2:3000/"),
    "mdns-name": ("http://alexs-macbook.local:3000/", "http://alexs-macbook.local:3000/"),
    "ipv6-unique-local": ("http://[fd12:3456:789a::1]:3000/", "http://[fd12:3456:789a::1]:3000/"),
    "ipv6-link-local": ("http://[fe80::1c2b:3d4e]:3000/", "http://[fe80::1c2b:3d4e]:3000/"),
    "ipv4-mapped-private": ("http://[::ffff:192.168.1.20]/", "http://[::ffff:192.168.1.20]/"),
    "tailscale": ("http://100.101.102.103:3000/", "http://100.101.102.103:3000/"),
}


@pytest.fixture
def api(owner) -> Client:
    _, raw = ApiToken.issue(owner, "laptop CLI")
    return Client(headers={"User-Agent": "outerloop-cli/0.1", "Authorization": f"Bearer {raw}"})


def submit(way: str, url: str, *, owner_client: Client, api: Client, session: BuildSession):
    """Paste `url` one way; the status code and the messages shown for the URL."""
    if way == "api":
        response = api.post("/api/v1/previews", {"url": url}, content_type="application/json")
        body = response.json()
        if response.status_code == 422:
            assert body["error"] == "invalid_url", body
            return 422, [body["detail"]]
        return response.status_code, []
    if way == "session-form":
        path, data = reverse("sessions:preview-add", args=[session.pk]), {"url": url}
    else:
        path = reverse("outerloop:turn")
        data = {"url": url, "title": "Crags", "recipient": "Kim", "channel": "dm"}
    response = owner_client.post(path, data)
    return response.status_code, url_errors(response)


WAYS = ["session-form", "turn-form", "api"]
REFUSED_STATUS = {"session-form": 400, "turn-form": 400, "api": 422}
ACCEPTED_STATUS = {"session-form": 302, "turn-form": 302, "api": 201}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("url", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_a_dangerous_url_is_refused_saying_why(way, url, message, owner_client, api, session):
    status, messages = submit(way, url, owner_client=owner_client, api=api, session=session)

    assert (status, messages) == (REFUSED_STATUS[way], [message])
    assert not Preview.objects.exists()
    assert not Share.objects.exists()
    assert list(BuildSession.objects.all()) == [session]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("url", "stored"), list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_international_and_tidied_urls_are_accepted(way, url, stored, owner_client, api, session):
    status, messages = submit(way, url, owner_client=owner_client, api=api, session=session)

    assert (status, messages) == (ACCEPTED_STATUS[way], [])
    assert Preview.objects.get().url == stored


def test_a_nul_is_refused_in_the_form_and_the_api(owner_client, api, session):
    url = f"{HOST}/\x00"

    form = owner_client.post(reverse("sessions:preview-add", args=[session.pk]), {"url": url})
    response = api.post("/api/v1/previews", {"url": url}, content_type="application/json")

    assert form.status_code == 400
    assert "Null characters are not allowed." in url_errors(form)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Value error, Null characters are not allowed."
    assert not Preview.objects.exists()


@pytest.mark.parametrize("way", WAYS)
def test_the_longest_url_is_one_character_short_of_refused(way, owner_client, api, session):
    longest = f"{HOST}/" + "é" * (MAX_URL_LENGTH - len(HOST) - 1)

    refused = submit(way, longest + "x", owner_client=owner_client, api=api, session=session)
    accepted = submit(way, longest, owner_client=owner_client, api=api, session=session)

    assert refused == (
        REFUSED_STATUS[way],
        [f"That URL is {MAX_URL_LENGTH + 1:,} characters long; the limit is {MAX_URL_LENGTH:,}."],
    )
    assert accepted == (ACCEPTED_STATUS[way], [])
    assert [p.url for p in Preview.objects.all()] == [longest]


def test_a_url_bigger_than_any_request_is_a_clean_400(owner_client, api, session):
    huge = f"{HOST}/" + "a" * 100_000

    form = owner_client.post(reverse("sessions:preview-add", args=[session.pk]), {"url": huge})
    response = api.post("/api/v1/previews", {"url": huge}, content_type="application/json")

    assert form.status_code == 400
    assert "<h1>That didn't go through</h1>" in form.content.decode()
    assert response.status_code == 400
    assert response.json() == {
        "error": "too_large",
        "detail": "A request body can be at most 64 KB.",
    }
    assert not Preview.objects.exists()


# Where a preview URL opens: the policy ----------------------------------------------------

# A preview URL must open on the other person's device. Loopback never does (refused above,
# with the ways that work); a private network address does for someone on the same Wi-Fi
# (accepted above, and said so here).

REACH = {
    # Only ever this computer.
    "localhost": Reach.THIS_COMPUTER,
    "LocalHost.": Reach.THIS_COMPUTER,
    "app.localhost": Reach.THIS_COMPUTER,
    "127.0.0.1": Reach.THIS_COMPUTER,
    "127.255.255.254": Reach.THIS_COMPUTER,
    "127.1": Reach.THIS_COMPUTER,
    "2130706433": Reach.THIS_COMPUTER,
    "0x7f.1": Reach.THIS_COMPUTER,
    "0177.0.0.1": Reach.THIS_COMPUTER,
    "0.0.0.0": Reach.THIS_COMPUTER,  # noqa: S104 - a host to classify, not a bind
    "::1": Reach.THIS_COMPUTER,
    "[::1]": Reach.THIS_COMPUTER,
    "::": Reach.THIS_COMPUTER,
    "::ffff:127.0.0.1": Reach.THIS_COMPUTER,
    # The same Wi-Fi (or VPN) only.
    "192.168.1.20": Reach.SAME_NETWORK,
    "10.0.0.7": Reach.SAME_NETWORK,
    "172.16.0.1": Reach.SAME_NETWORK,
    "172.31.255.254": Reach.SAME_NETWORK,
    "100.64.0.1": Reach.SAME_NETWORK,
    "100.127.255.254": Reach.SAME_NETWORK,
    "169.254.10.20": Reach.SAME_NETWORK,
    "3232235796": Reach.SAME_NETWORK,  # 192.168.1.20 to a browser
    "fd12:3456:789a::1": Reach.SAME_NETWORK,
    "fc00::1": Reach.SAME_NETWORK,
    "fe80::1c2b:3d4e": Reach.SAME_NETWORK,
    "::ffff:192.168.1.20": Reach.SAME_NETWORK,
    "::ffff:c0a8:114": Reach.SAME_NETWORK,
    "alexs-macbook.local": Reach.SAME_NETWORK,
    "nas.home.arpa": Reach.SAME_NETWORK,
    "build-box.internal": Reach.SAME_NETWORK,
    "router.lan": Reach.SAME_NETWORK,
    # Anywhere: public names and addresses, the ranges' neighbours, the documentation ranges.
    "crags.example.dev": Reach.ANYWHERE,
    "localhost.example.com": Reach.ANYWHERE,
    "local.example.com": Reach.ANYWHERE,
    "93.184.216.34": Reach.ANYWHERE,
    "172.15.255.255": Reach.ANYWHERE,
    "172.32.0.1": Reach.ANYWHERE,
    "100.63.255.255": Reach.ANYWHERE,
    "100.128.0.1": Reach.ANYWHERE,
    "11.0.0.1": Reach.ANYWHERE,
    "128.0.0.1": Reach.ANYWHERE,
    "192.0.2.10": Reach.ANYWHERE,
    "2001:db8::1": Reach.ANYWHERE,
    "2606:4700::1111": Reach.ANYWHERE,
    "1e100.net": Reach.ANYWHERE,
    "0xcafe.example": Reach.ANYWHERE,
}


@pytest.mark.parametrize(("host", "where"), list(REACH.items()), ids=list(REACH))
def test_every_kind_of_address_opens_where_a_browser_would_open_it(host, where):
    assert reach(host) is where


def test_the_url_field_explains_the_policy_where_the_url_is_typed(owner_client, session):
    dashboard = owner_client.get(reverse("outerloop:dashboard")).content.decode()
    session_page = owner_client.get(
        reverse("sessions:session-detail", args=[session.pk])
    ).content.decode()

    for page in (dashboard, session_page):
        help_text = re.search(r'<div class="helptext" id="id_url_helptext">(.*?)</div>', page)
        assert help_text, "no help text under the preview URL field"
        words = strip_tags(help_text[1])
        assert "It must open on their device: localhost never does; a Wi-Fi address " in words
        assert "(192.168.…) does only on your Wi-Fi. No public URL yet?" in words
        assert (
            "cloudflared tunnel --url http://localhost:3000 or ngrok http 3000 makes one" in words
        )


SAME_WIFI = "Only opens on your Wi-Fi."


@pytest.mark.parametrize("way", ["session-form", "turn-form"])
def test_a_private_address_is_accepted_and_said_to_open_only_on_the_same_wifi(
    way, owner_client, api, session
):
    status, _ = submit(
        way, "http://192.168.1.20:5173", owner_client=owner_client, api=api, session=session
    )
    assert status == 302
    preview = Preview.objects.get()

    session_page = owner_client.get(reverse("sessions:session-detail", args=[preview.session_id]))
    share = share_preview(
        preview, Recipient.objects.get_or_create(builder=session.builder, name="Kim")[0], Channel.DM
    )
    share_page = owner_client.get(reverse("reactions:share-detail", args=[share.pk]))

    for page in (session_page, share_page):
        words = " ".join(strip_tags(page.content.decode()).split())
        assert (
            f"{SAME_WIFI} http://192.168.1.20:5173 is a private network address: it opens only "
            "for someone on the same Wi-Fi (or VPN) as your computer."
        ) in words
    assert "Beside you? Let them scan the QR code below." in strip_tags(share_page.content.decode())


def test_a_public_address_says_nothing_about_wifi(owner_client, share):
    session_page = owner_client.get(
        reverse("sessions:session-detail", args=[share.preview.session_id])
    )
    share_page = owner_client.get(reverse("reactions:share-detail", args=[share.pk]))

    assert SAME_WIFI not in session_page.content.decode()
    assert SAME_WIFI not in share_page.content.decode()


# An accepted URL with markup in it ---------------------------------------------------------

# Browsers accept quotes and angle brackets in a query and a fragment, and so do we: pages and
# emails must escape them wherever the URL is shown or linked.
MARKUP_URL = f"{HOST}/?q=\"'><svg/onload=alert(1)>#</script><script>alert(2)</script>"


@pytest.fixture
def marked_up(owner, owner_client, settings) -> Preview:
    settings.OUTERLOOP_OPERATOR_EMAIL = "operator@example.com"
    session = BuildSession.objects.create(builder=owner, title="Crags")
    response = owner_client.post(
        reverse("sessions:preview-add", args=[session.pk]), {"url": MARKUP_URL, "frameable": "on"}
    )
    assert response.status_code == 302, url_errors(response)
    return Preview.objects.get()


def assert_escaped(html: str) -> None:
    assert escape(MARKUP_URL) in html
    assert "<svg/onload" not in html
    assert "<script>alert(2)" not in html


def test_a_url_with_markup_is_stored_as_pasted(marked_up):
    assert marked_up.url == MARKUP_URL
    assert marked_up.frameable


def test_a_url_with_markup_is_escaped_on_the_session_page(marked_up, owner_client):
    html = owner_client.get(reverse("sessions:session-detail", args=[marked_up.session_id]))

    page = html.content.decode()
    assert_escaped(page)
    assert f'<a href="{escape(MARKUP_URL)}" rel="noopener noreferrer"' in page


def test_a_url_with_markup_is_escaped_in_the_recipients_frame_and_redirect(marked_up, owner):
    share = share_preview(
        marked_up, Recipient.objects.create(builder=owner, name="Kim"), Channel.DM
    )
    sam = Client(headers={"User-Agent": PHONE_UA})

    page = sam.get(reverse("reactions:recipient-page", args=[share.token]))
    go = sam.get(reverse("reactions:recipient-go", args=[share.token]))

    assert_escaped(page.content.decode())
    assert f'<iframe src="{escape(MARKUP_URL)}"' in page.content.decode()
    assert "frame-src https://crags.example.dev;" in page["Content-Security-Policy"] + ";"
    assert go.status_code == 302
    assert go["Location"] == (
        f"{HOST}/?q=%22'%3E%3Csvg/onload=alert(1)%3E#%3C/script%3E%3Cscript%3Ealert(2)%3C/script%3E"
    )


def test_a_url_with_markup_is_escaped_in_emails(marked_up, owner, outbox):
    assert send_nudge(owner.pk, owner.local_day())
    share = share_preview(
        marked_up, Recipient.objects.create(builder=owner, name="Kim"), Channel.DM
    )
    ReactionFactory(share=share)
    publish = PublishRequest.objects.create(preview=marked_up, domain="crags.example.com")
    assert send_publish_email(publish)

    assert [message.subject for message in outbox] == [
        "One outer-loop turn today?",
        "Publish request: crags.example.com for alex@example.com",
    ]
    for message in outbox:
        html, _ = message.alternatives[0]
        assert_escaped(html)
        assert MARKUP_URL in message.body


def test_a_url_with_markup_comes_back_exact_from_the_api(api):
    response = api.post("/api/v1/previews", {"url": MARKUP_URL}, content_type="application/json")

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["url"] == MARKUP_URL
    assert Preview.objects.get().url == MARKUP_URL


# The operator's final URL and the builder's domain -----------------------------------------


@pytest.fixture
def wired_request(share) -> PublishRequest:
    ReactionFactory(share=share)
    return PublishRequest.objects.create(preview=share.preview, domain="crags.example.com")


@pytest.mark.parametrize(
    "final_url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
    ],
)
def test_the_operator_cannot_send_a_builder_a_script_link(final_url, wired_request, db):
    operator = Client()
    operator.force_login(Builder.objects.create_superuser("ops@example.com", PASSWORD, name="O"))
    url = reverse("admin:build_sessions_publishrequest_change", args=[wired_request.pk])

    response = operator.post(
        url, {"status": PublishStatus.WIRED, "final_url": final_url, "_save": "1"}
    )

    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()
    wired_request.refresh_from_db()
    assert (wired_request.status, wired_request.final_url) == (PublishStatus.REQUESTED, "")


@pytest.mark.parametrize(
    "domain",
    [
        "<script>alert(1)</script>.example.com",
        'crags.example.com"><svg onload=alert(1)>',
        "javascript:alert(1)//crags.example.com",
        "crags.example.com/<img src=x onerror=alert(1)>",
        "{{ 7*7 }}.example.com",
    ],
)
def test_a_domain_with_markup_is_refused_and_shown_back_as_text(
    domain, owner_client, wired_request, settings
):
    settings.OUTERLOOP_OPERATOR_EMAIL = "operator@example.com"
    publish_url = reverse("outerloop:publish", args=[wired_request.preview_id])

    response = owner_client.post(publish_url, {"domain": domain, "note": ""})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a domain name like crags.example.com" in page
    assert f'value="{escape(domain)}"' in page
    assert domain not in page or escape(domain) == domain
    assert list(PublishRequest.objects.all()) == [wired_request]
