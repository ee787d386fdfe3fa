"""Internationalised preview hosts: ASCII (punycode) wherever a host reaches a header, Unicode
wherever a person reads it. tests/conftest.py checks every header of every response the test
client gets in the suite (`headers_are_ascii`); here, pages with such hosts are swept."""

import pytest
from django.test import Client
from django.urls import reverse

from outerloop.forms import PublishForm
from outerloop.models import ApiToken
from reactions.models import Channel, Recipient
from reactions.sharing import share_preview
from sessions.models import BuildSession, PublishRequest
from tests.conftest import PHONE_UA

BUECHER = ("https://bücher.example/", "https://xn--bcher-kva.example")
PRIMER = ("https://пример.рф/demo", "https://xn--e1afmkfd.xn--p1ai")


@pytest.fixture(params=[BUECHER, PRIMER], ids=["latin-1 host", "cyrillic host"])
def idn(request, owner):
    url, origin = request.param
    session = BuildSession.objects.create(builder=owner, title="Bücherregal")
    preview = session.add_preview(url, frameable=True)
    sam = Recipient.objects.create(builder=owner, name="Sam")
    share = share_preview(preview, sam, Channel.DM)
    return {"url": url, "origin": origin, "share": share, "preview": preview}


def test_the_framed_page_lets_the_preview_in_by_its_ascii_origin(idn):
    response = Client(headers={"User-Agent": PHONE_UA}).get(
        reverse("reactions:recipient-page", args=[idn["share"].token])
    )

    policy = response["Content-Security-Policy"]
    assert f"frame-src {idn['origin']}" in policy
    assert "script-src 'self' 'nonce-" in policy
    assert f'<iframe src="{idn["url"]}"' in response.content.decode()


def test_the_open_button_redirects_to_the_ascii_host(idn):
    sam = Client(headers={"User-Agent": PHONE_UA})
    sam.get(reverse("reactions:recipient-page", args=[idn["share"].token]))

    response = sam.get(reverse("reactions:recipient-go", args=[idn["share"].token]))

    assert response["Location"].startswith(idn["origin"] + "/")


def test_the_builder_reads_the_host_in_unicode_even_when_pasted_as_punycode(owner_client, owner):
    session = BuildSession.objects.create(builder=owner, title="Shelf")
    session.add_preview("https://xn--bcher-kva.example/regal")

    page = owner_client.get(reverse("sessions:session-detail", args=[session.pk]))

    assert ">https://bücher.example/regal</a>" in page.content.decode()


def test_a_publish_domain_is_stored_in_ascii_as_browsers_resolve_it():
    form = PublishForm(data={"domain": "https://Faß.de/", "note": ""})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["domain"] == "xn--fa-hia.de"  # IDNA 2003 made it "fass.de"


def test_every_page_with_an_idn_preview_sends_ascii_headers(idn, owner, owner_client):
    """The autouse check fails the test on the first non-ASCII header."""
    share, preview = idn["share"], idn["preview"]
    PublishRequest.objects.create(preview=preview, domain="xn--bcher-kva.example")
    _, raw = ApiToken.issue(owner, "laptop CLI")
    api = Client(headers={"User-Agent": "outerloop-cli/0.1", "Authorization": f"Bearer {raw}"})
    sam = Client(headers={"User-Agent": PHONE_UA})
    token = share.token

    pages = [
        owner_client.get(reverse("outerloop:dashboard")),
        owner_client.get(reverse("outerloop:habit")),
        owner_client.get(reverse("sessions:session-list")),
        owner_client.get(reverse("sessions:session-detail", args=[preview.session_id])),
        owner_client.get(reverse("reactions:share-create", args=[preview.pk])),
        owner_client.get(reverse("reactions:share-detail", args=[share.pk])),
        owner_client.get(
            reverse("reactions:share-detail", args=[share.pk]), HTTP_HX_REQUEST="true"
        ),
        owner_client.get(reverse("reactions:share-renew", args=[share.pk])),
        owner_client.get(reverse("reactions:people")),
        owner_client.get(reverse("outerloop:publish", args=[preview.pk])),
        owner_client.get(reverse("outerloop:export-json")),
        api.get(f"/api/v1/shares/{token}"),
        api.get("/api/v1/reactions"),
        sam.get(reverse("reactions:recipient-page", args=[token])),
        sam.post(reverse("reactions:recipient-seen", args=[token]), {"touch": "5"}),
        sam.get(reverse("reactions:recipient-go", args=[token])),
        sam.post(reverse("reactions:recipient-react", args=[token]), {"text": "Schön!"}),
        sam.get(reverse("reactions:recipient-thanks", args=[token])),
    ]

    assert all(page.status_code < 400 for page in pages), [p.status_code for p in pages]
    assert "bücher.example" in pages[3].content.decode() or "пример.рф" in pages[3].content.decode()
