"""A preview host is a world apart from the app (sessions/serving.py, DESIGN.md "Hosted
previews"): no app cookie is read or set there, the app's URLs don't exist there, the app
gives a preview's origin no CORS allowance, one preview can't reach another's files, and a
preview domain that shares the app's registrable domain is warned about (cookie tossing)."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from outerloop.checks import check_preview_domain, registrable_domain
from sessions.models import BuildSession, Preview
from tests.conftest import PHONE_UA
from tests.hosted import write_build

INDEX = b"<!doctype html><title>Crag finder</title>"
OTHER = b"<!doctype html><title>Someone else's secret build</title>"


@pytest.fixture
def hosted(session, owner) -> Preview:
    build = write_build(owner, {"index.html": INDEX, "static/app.css": b"body{margin:0}"})
    return Preview.hosting(session, build, widget=False)  # the files as stored


@pytest.fixture
def other(outsider) -> Preview:
    theirs = BuildSession.objects.create(builder=outsider, title="Secret")
    return Preview.hosting(theirs, write_build(outsider, {"index.html": OTHER}), widget=False)


def host_of(preview: Preview) -> str:
    return f"{preview.host}.{django_settings.OUTERLOOP_PREVIEW_DOMAIN}"


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_apps_cookies_are_never_read_on_a_preview_host(owner_client, hosted):
    owner_client.cookies["csrftoken"] = "c" * 32
    assert {"sessionid", "csrftoken"} <= set(owner_client.cookies)

    response = owner_client.get("/", HTTP_HOST=host_of(hosted))

    assert response.status_code == 200 and content(response) == INDEX
    # No session, auth or CSRF middleware ran: the request never had them to read.
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert "CSRF_COOKIE" not in request.META
    assert not response.cookies


@pytest.mark.parametrize("path", ["/", "/login/", "/missing.js", "/admin/"])
def test_a_preview_host_sets_no_cookie(client, hosted, path):
    response = client.get(path, HTTP_HOST=host_of(hosted))

    assert not response.cookies
    assert "Set-Cookie" not in response


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/", 200, INDEX),
        ("/login/", 200, INDEX),  # a client route of the build, never the app's login
        ("/admin/", 200, INDEX),
        ("/settings/tokens/", 200, INDEX),
        ("/static/app.css", 200, b"body{margin:0}"),  # the build's, not the app's
        ("/static/css/app.css", 404, None),  # the app's stylesheet is not there
        ("/api/v1/openapi.json", 404, None),
    ],
)
def test_a_preview_host_never_serves_the_app(owner_client, hosted, path, status, body):
    response = owner_client.get(path, HTTP_HOST=host_of(hosted))

    assert response.status_code == status
    if body is not None:
        assert content(response) == body
    else:
        assert b"There is nothing at this address." in content(response)
    assert b"csrfmiddlewaretoken" not in content(response)


def name_of(domain: str) -> str:
    return domain.rsplit(":", 1)[0]  # "preview.localhost:8000" -> "preview.localhost"


@pytest.mark.parametrize(
    "host",
    [
        "{domain}",
        "deeper.{label}.{domain}",
        "not-a-label.{domain}",
        # Host names are compared without their port or a trailing dot, as ALLOWED_HOSTS and
        # cookies compare them: the bare domain at any port is never the app's.
        "{name}",
        "{name}:80",
        "{name}:8001",
        "{name}.:8000",
        "{name}.",
        "deeper.{label}.{name}:8001",
        "not-a-label.{name}",
    ],
)
def test_any_other_name_under_the_preview_domain_is_a_plain_404_never_the_app(client, hosted, host):
    domain = django_settings.OUTERLOOP_PREVIEW_DOMAIN
    host = host.format(label=hosted.host, domain=domain, name=name_of(domain))

    response = client.get(reverse("outerloop:login"), HTTP_HOST=host)

    assert response.status_code == 404
    assert b"There is nothing at this address." in response.content
    assert not response.cookies


@pytest.mark.parametrize(
    "host",
    [
        "{label}.{name}",  # a proxy passing $host, without the port
        "{label}.{name}:80",
        "{label}.{name}:8001",
        "{label}.{name}.:8000",  # a fully qualified name, then the port
        "{label}.{name}.",
    ],
)
def test_a_previews_name_at_any_port_is_the_preview_never_the_app(client, hosted, host):
    name = name_of(django_settings.OUTERLOOP_PREVIEW_DOMAIN)
    host = host.format(label=hosted.host, name=name)

    response = client.get(reverse("outerloop:login"), HTTP_HOST=host)

    assert response.status_code == 200 and content(response) == INDEX  # the build's route
    assert b"csrfmiddlewaretoken" not in content(response)
    assert not response.cookies


def test_a_deploys_preview_name_with_a_port_is_the_preview_never_the_app(client, hosted, settings):
    settings.OUTERLOOP_BASE_URL = "https://loop.example.com"
    settings.OUTERLOOP_PREVIEW_DOMAIN = "loop-previews.net"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".loop-previews.net"]

    for host in (f"{hosted.host}.loop-previews.net", f"{hosted.host}.loop-previews.net:8443"):
        response = client.get("/login/", HTTP_HOST=host)
        assert response.status_code == 200 and content(response) == INDEX
        assert not response.cookies
    bare = client.get("/login/", HTTP_HOST="loop-previews.net:8443")
    assert bare.status_code == 404 and not bare.cookies


def test_a_forwarded_preview_host_never_serves_a_build_on_the_apps_origin(client, hosted, settings):
    # Behind a proxy (OUTERLOOP_BEHIND_PROXY), Django reads the host from X-Forwarded-Host. A
    # client that sends one itself to the app's host must not get a build at the app's origin.
    settings.USE_X_FORWARDED_HOST = True

    forged = {"HTTP_HOST": "127.0.0.1:8000", "HTTP_X_FORWARDED_HOST": host_of(hosted)}

    response = client.get(reverse("outerloop:login"), **forged)

    assert response.status_code == 404
    assert INDEX not in content(response)
    assert b"csrfmiddlewaretoken" not in content(response) and not response.cookies


def test_behind_a_proxy_the_forwarded_preview_host_is_served(client, hosted, settings):
    settings.USE_X_FORWARDED_HOST = True
    host = host_of(hosted)

    response = client.get("/", HTTP_HOST=host, HTTP_X_FORWARDED_HOST=host)

    assert response.status_code == 200 and content(response) == INDEX


def test_a_host_outside_allowed_hosts_is_still_refused_by_the_app(client, db):
    assert client.get("/login/", HTTP_HOST="evil.example.org").status_code == 400


def test_the_apps_own_host_never_serves_a_builds_files(owner_client, hosted):
    key = hosted.build.key

    for path in (f"/{key}/index.html", f"/previews/{key}/index.html", "/index.html"):
        response = owner_client.get(path)
        assert response.status_code == 404
        assert INDEX not in response.content


def test_one_preview_cannot_reach_anothers_files(client, hosted, other):
    theirs = other.build.key

    for path in (f"/../{theirs}/index.html", f"/{theirs}/index.html", f"/%2e%2e/{theirs}/"):
        response = client.get(path, HTTP_HOST=host_of(hosted))
        assert OTHER not in content(response)
    assert content(client.get("/", HTTP_HOST=host_of(other))) == OTHER


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/login/",
        "/sessions/",
        "/api/v1/openapi.json",
    ],
)
def test_the_app_gives_a_preview_origin_no_cors_allowance(owner_client, hosted, url):
    origin = f"http://{host_of(hosted)}"

    for method in ("get", "options"):
        response = getattr(owner_client, method)(
            url, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
        )
        allowances = [name for name in response.headers if name.lower().startswith("access-")]
        assert allowances == [], f"{method.upper()} {url}: {allowances}"


def test_the_app_still_sets_its_own_cookies_on_its_own_host(db):
    client = Client(headers={"User-Agent": PHONE_UA})

    response = client.get(reverse("outerloop:login"))

    assert response.status_code == 200 and "csrftoken" in response.cookies


@pytest.mark.parametrize(
    ("base_url", "preview_domain", "warned"),
    [
        ("https://outerloop.example.com", "preview.example.com", True),
        ("https://example.com", "previews.example.com", True),
        ("https://app.example.co.uk", "preview.example.co.uk", True),
        ("https://outerloop.example.com", "example-previews.net", False),
        ("https://outerloop.example.com", "preview.example.net", False),
        # co.uk is a public suffix: example.co.uk and other.co.uk are different sites.
        ("https://app.example.co.uk", "preview.other.co.uk", False),
        # The PSL's private section: each *.github.io name is a site of its own.
        ("https://alex.github.io", "previews.github.io", False),
        ("http://127.0.0.1:8000", "preview.localhost:8000", False),
        ("http://localhost:8000", "preview.localhost:8000", False),
        ("http://192.168.1.20:8000", "preview.localhost:8000", False),
    ],
)
def test_a_preview_domain_sharing_the_apps_registrable_domain_is_warned(
    settings, base_url, preview_domain, warned
):
    settings.OUTERLOOP_BASE_URL = base_url
    settings.OUTERLOOP_PREVIEW_DOMAIN = preview_domain

    found = check_preview_domain(None)

    assert [w.id for w in found] == (["outerloop.W007"] if warned else [])


def test_the_public_suffix_list_is_read_from_the_bundled_snapshot(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the check went to the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)

    assert registrable_domain("x.preview.example.co.uk") == "example.co.uk"
    assert registrable_domain("localhost") == ""
