"""A hosted preview's origin (sessions/hosted.py): its own random host under the preview
domain, a new one for each renewal, and the Host header read back to the preview."""

import re
from datetime import timedelta

import pytest

from sessions.hosted import hosted_url, label_of, new_host_label
from sessions.models import HostedBuild, Preview

LABEL = re.compile(r"^[a-z2-7]{26}$")


@pytest.fixture(autouse=True)
def preview_domain(settings):
    settings.OUTERLOOP_BASE_URL = "https://outerloop.example.com"
    settings.OUTERLOOP_PREVIEW_DOMAIN = "preview.example.net"


def test_a_label_is_one_dns_label_of_128_random_bits():
    labels = {new_host_label() for _ in range(200)}

    assert len(labels) == 200
    assert all(LABEL.match(label) for label in labels)


def test_the_url_is_the_labels_own_origin_with_the_apps_scheme():
    assert hosted_url("abc234") == "https://abc234.preview.example.net/"


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("abc234.preview.example.net", "abc234"),
        ("ABC234.Preview.Example.NET", "abc234"),  # DNS ignores letter case
        ("abc234.preview.example.net.", "abc234"),  # a fully qualified name
        ("preview.example.net", None),  # the domain itself serves nothing
        ("a.abc234.preview.example.net", None),  # one label deep only
        ("abc234.preview.example.net.evil.test", None),
        ("outerloop.example.com", None),  # the app's own origin
        ("abc-234.preview.example.net", None),  # never a label we made
    ],
)
def test_the_host_header_names_the_preview(host, label):
    assert label_of(host) == label


def test_a_port_is_no_part_of_the_match(settings):
    # Only host names count, as in ALLOWED_HOSTS and for cookies (RFC 6265 §8.5): the same
    # name at another port is the same preview, never a host the app answers.
    settings.OUTERLOOP_PREVIEW_DOMAIN = "preview.localhost:8000"

    assert label_of("abc234.preview.localhost:8000") == "abc234"
    assert label_of("abc234.preview.localhost:9000") == "abc234"
    assert label_of("abc234.preview.localhost") == "abc234"
    assert label_of("abc234.preview.localhost.:8000") == "abc234"
    assert label_of("preview.localhost:8000") is None


def test_a_renewed_hosted_preview_serves_the_same_build_at_a_new_origin(owner, session, now):
    build = HostedBuild.objects.create(builder=owner, files=1, size=12)
    first = Preview.hosting(session, build)

    renewed = first.renew()

    assert first.is_hosted and renewed.is_hosted
    assert renewed.build == build
    assert renewed.host != first.host
    assert renewed.url == f"https://{renewed.host}.preview.example.net/"
    assert renewed.expires_at - now == timedelta(hours=1)


def test_a_pasted_preview_is_not_hosted_and_renews_its_url(preview):
    renewed = preview.renew()

    assert not renewed.is_hosted and renewed.host is None
    assert renewed.url == preview.url
