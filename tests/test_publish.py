"""Publish: a preview that earned reactions can be kept on the builder's domain, by a person."""

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from common.builders import Builder
from common.mail import ClaimStatus, EmailClaim
from outerloop.publish import decide
from outerloop.tasks import notify_operator, notify_publish_decision
from sessions.models import PublishRequest, PublishStatus
from tests.conftest import NOW, PHONE_UA, PREVIEW_URL
from tests.factories import BuilderFactory, ReactionFactory

OPERATOR = "operator@example.com"


@pytest.fixture
def operator(settings):
    settings.OUTERLOOP_OPERATOR_EMAIL = OPERATOR


@pytest.fixture
def earned(share):
    ReactionFactory(share=share, text="I'd pay for the offline maps.")
    return share.preview


def publish_url(preview) -> str:
    return reverse("outerloop:publish", args=[preview.pk])


def ask(client, preview, domain: str = "crags.example.com", note: str = "Apex, please.", **extra):
    return client.post(publish_url(preview), {"domain": domain, "note": note}, **extra)


def test_without_a_counting_reaction_the_page_says_why_and_refuses(
    owner_client, operator, share, outbox
):
    ReactionFactory(share=share, counts=False)  # marked polite: not enough

    html = owner_client.get(publish_url(share.preview)).content.decode()
    response = ask(owner_client, share.preview)

    assert "Not yet: a preview can be published once someone has reacted" in html
    assert 'name="domain"' not in html
    assert response.status_code == 200
    assert not PublishRequest.objects.exists()
    assert outbox == []


def test_without_an_operator_address_publishing_is_off_and_says_so(owner_client, earned, outbox):
    html = owner_client.get(publish_url(earned)).content.decode()
    ask(owner_client, earned)

    assert "Publishing is off on this Outer Loop" in html
    assert not PublishRequest.objects.exists()
    assert outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_whole_publish_flow_with_both_emails(owner, operator, recipient, settings, outbox):
    settings.OUTERLOOP_BASE_URL = "https://loop.example.com"
    from tests.factories import PreviewFactory, ShareFactory

    preview = PreviewFactory(session__builder=owner, session__title="Crag finder", url=PREVIEW_URL)
    ReactionFactory(share=ShareFactory(recipient=recipient, preview=preview), text="Offline maps!")
    builder = Client(headers={"User-Agent": PHONE_UA})
    builder.force_login(owner)

    page = ask(builder, preview, domain="https://Crags.Example.com/", follow=True)

    assert "A person will set up the DNS by hand and email you" in page.content.decode()
    publish = PublishRequest.objects.get()
    assert (publish.domain, publish.status, publish.note) == (
        "crags.example.com",
        PublishStatus.REQUESTED,
        "Apex, please.",
    )
    [to_operator] = outbox
    assert to_operator.to == [OPERATOR]
    assert to_operator.subject == "Publish request: crags.example.com for alex@example.com"
    for fact in ("Alex", "alex@example.com", "Crag finder", PREVIEW_URL, "Offline maps!"):
        assert fact in to_operator.body
    admin_url = reverse("admin:build_sessions_publishrequest_change", args=[publish.pk])
    assert f"https://loop.example.com{admin_url}" in to_operator.body
    assert "List-Unsubscribe" not in to_operator.extra_headers

    staff = Client()
    staff.force_login(BuilderFactory(is_staff=True, is_superuser=True))
    refused = staff.post(admin_url, {"status": PublishStatus.WIRED, "final_url": "", "_save": "1"})
    assert "Give the URL where it now lives" in refused.content.decode()
    assert len(outbox) == 1

    staff.post(
        admin_url,
        {
            "status": PublishStatus.WIRED,
            "final_url": "https://crags.example.com/",
            "operator_message": "Live, with HTTPS.",
            "_save": "1",
        },
    )

    publish.refresh_from_db()
    assert publish.status == PublishStatus.WIRED and publish.decided_at is not None
    to_builder = outbox[1]
    assert to_builder.to == ["alex@example.com"]
    assert to_builder.subject == "crags.example.com is live"
    assert "Crag finder now lives at https://crags.example.com/" in to_builder.body
    assert "Live, with HTTPS." in to_builder.body
    assert EmailClaim.objects.filter(kind="publish", status="sent").count() == 2
    assert "Wired" in builder.get(publish_url(preview)).content.decode()


@pytest.mark.django_db(transaction=True)
def test_declining_needs_a_message_and_emails_it(owner_client, operator, earned, outbox):
    ask(owner_client, earned)
    publish = PublishRequest.objects.get()
    staff = Client()
    staff.force_login(BuilderFactory(is_staff=True, is_superuser=True))
    admin_url = reverse("admin:build_sessions_publishrequest_change", args=[publish.pk])

    staff.post(admin_url, {"status": PublishStatus.DECLINED, "_save": "1"})
    assert PublishRequest.objects.get().status == PublishStatus.REQUESTED
    staff.post(
        admin_url,
        {
            "status": PublishStatus.DECLINED,
            "operator_message": "That domain isn't yours.",
            "_save": "1",
        },
    )

    assert PublishRequest.objects.get().status == PublishStatus.DECLINED
    assert outbox[-1].subject == "About crags.example.com"
    assert "That domain isn't yours." in outbox[-1].body


@pytest.mark.parametrize(
    "domain",
    [
        "localhost",
        "crags",
        "crags..example.com",
        "-crags.example.com",
        "crags.example.com/path",
        "crags example.com",
        "1.2.3.4",
        "javascript:alert(1)",
        "a" * 64 + ".com",
        "",
    ],
)
def test_a_domain_must_be_a_hostname(owner_client, operator, earned, domain):
    response = ask(owner_client, earned, domain=domain)

    assert response.status_code == 400
    assert not PublishRequest.objects.exists()


def test_an_international_domain_is_stored_as_punycode(owner_client, operator, earned):
    ask(owner_client, earned, domain="klettern.bücher.de")

    assert PublishRequest.objects.get().domain == "klettern.xn--bcher-kva.de"


def test_another_builders_preview_cannot_be_published(outsider_client, operator, earned):
    assert outsider_client.get(publish_url(earned)).status_code == 404
    assert ask(outsider_client, earned).status_code == 404
    assert not PublishRequest.objects.exists()


def test_the_deploy_check_warns_when_publishing_is_off(settings):
    from outerloop.checks import check_operator_email

    settings.OUTERLOOP_OPERATOR_EMAIL = ""
    assert [warning.id for warning in check_operator_email(None)] == ["outerloop.W003"]
    settings.OUTERLOOP_OPERATOR_EMAIL = OPERATOR
    assert check_operator_email(None) == []


def test_messages_queued_before_the_outbox_still_send_each_email_once(
    owner, operator, earned, outbox
):
    """A deploy with messages in flight: the old tasks' messages still arrive, and run."""
    publish = PublishRequest.objects.create(preview=earned, domain="crags.example.com")
    assert notify_operator.delay(publish.pk).get()
    assert not notify_operator.delay(publish.pk).get()  # redelivered: the claim holds
    PublishRequest.objects.filter(pk=publish.pk).update(
        status=PublishStatus.DECLINED, operator_message="Not this one."
    )
    assert notify_publish_decision.delay(publish.pk).get()
    assert not notify_publish_decision.delay(publish.pk).get()

    assert [message.to for message in outbox] == [[OPERATOR], ["alex@example.com"]]


def test_an_unconfirmed_address_cannot_ask_yet_and_is_told_why(
    owner, owner_client, operator, earned, outbox
):
    Builder.objects.filter(pk=owner.pk).update(email_confirmed_at=None)

    html = owner_client.get(publish_url(earned)).content.decode()
    ask(owner_client, earned)

    assert "Confirm your email first: the operator's answer comes by email" in unescape(html)
    assert 'name="domain"' not in html
    assert not PublishRequest.objects.exists()
    assert outbox == []


def test_five_requests_a_day_then_the_operator_is_spared(owner_client, operator, earned, outbox):
    answers = [ask(owner_client, earned, domain=f"crags{n}.example.com") for n in range(6)]

    assert [answer.status_code for answer in answers] == [302] * 5 + [429]
    assert "That's five requests today" in answers[5].content.decode().replace("&#x27;", "'")
    assert PublishRequest.objects.count() == 5


def test_a_decision_to_an_address_the_provider_stopped_is_not_sent(
    owner, operator, earned, outbox, django_capture_on_commit_callbacks
):
    """The address hard-bounced after the request: the answer is in the admin, and no email
    goes to an address that takes no mail (`Builder.may_receive`, applied by the outbox)."""
    publish = PublishRequest.objects.create(preview=earned, domain="crags.example.com")
    Builder.objects.filter(pk=owner.pk).update(
        email_undeliverable_at=NOW, email_undeliverable_reason="bounced"
    )

    with django_capture_on_commit_callbacks(execute=True):
        decide(publish, PublishStatus.WIRED, final_url="https://crags.example.com/")

    assert outbox == []
    claim = EmailClaim.objects.get(kind="publish")
    assert (claim.period, claim.status) == (f"decision:{publish.pk}:wired", ClaimStatus.SKIPPED)
