"""Telling the builder: a counting reaction arrived, or someone asked for a fresh link.

Notices are queued after the transaction commits (`django_capture_on_commit_callbacks`
runs those callbacks); Celery is eager, so the email is in the outbox right after.
"""

from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError

from common.builders import Builder, EmailKind
from common.mail import ClaimStatus, EmailClaim
from reactions import tasks
from reactions.models import Reaction, Recipient, Share
from reactions.tasks import OUTBOX_GRACE, notify_fresh_link, notify_reaction, outbox_sweep
from tests.conftest import NOW


@pytest.fixture
def react(django_capture_on_commit_callbacks):
    """Post a reaction from `client` and run what the commit queues."""

    def post(client: Client, share: Share, text: str, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("reactions:recipient-react", args=[share.token]), {"text": text, **data}
            )

    return post


@pytest.fixture
def broker_down(monkeypatch):
    """Redis is unreachable: queueing a task raises what kombu raises."""

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(notify_reaction, "apply_async", refuse)
    monkeypatch.setattr(notify_fresh_link, "apply_async", refuse)
    return monkeypatch


def html_of(message) -> str:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return html


def share_detail_url(share: Share) -> str:
    return settings.OUTERLOOP_BASE_URL + reverse("reactions:share-detail", args=[share.pk])


# A counting reaction -------------------------------------------------------------------------


def test_a_counting_reaction_emails_the_builder_the_words_and_who_said_them(
    sam, share, react, outbox
):
    response = react(sam, share, "The big button made sense straight away.", chip="would_use")

    assert response.status_code == 302
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["alex@example.com"]
    assert message.subject == "Sam reacted to Crag finder"
    assert "Sam reacted to Crag finder on a phone:" in message.body
    assert '"The big button made sense straight away."' in message.body
    assert "(I'd use this)" in message.body
    assert f"See it, or mark it as not counting: {share_detail_url(share)}" in message.body
    html = unescape(html_of(message))
    assert (
        "<strong><bdi>Sam</bdi></strong> reacted to "
        "<strong><bdi>Crag finder</bdi></strong> on a phone:" in html
    )
    assert "The big button made sense straight away.</blockquote>" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    reaction = Reaction.objects.get()
    assert reaction.notified_at == NOW
    claim = EmailClaim.objects.get(kind=EmailKind.REACTION)
    assert (claim.period, claim.status) == (f"reaction:{reaction.pk}", ClaimStatus.SENT)


def test_markup_in_a_reaction_is_escaped_in_the_html_email(sam, share, react, outbox):
    react(sam, share, "<img src=x onerror=alert(1)> & friends")

    html = html_of(outbox[0])
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; friends" in html
    assert '"<img src=x onerror=alert(1)> & friends"' in outbox[0].body  # plain text stays plain


def test_each_counting_reaction_gets_its_own_notice(sam, share, react, outbox):
    react(sam, share, "First thought.")
    react(sam, share, "Second thought.")

    assert [m.body.split("\n\n")[1] for m in outbox] == ['"First thought."', '"Second thought."']


def test_the_builders_own_reaction_sends_no_notice(owner_client, share, react, outbox):
    react(owner_client, share, "Testing my own link")

    assert Reaction.objects.get().by_builder
    assert outbox == []


def test_a_housemates_reaction_sends_no_notice(sam, share, recipient, react, outbox):
    Recipient.objects.filter(pk=recipient.pk).update(lives_with=True)

    react(sam, share, "Looks great, love!")

    assert Reaction.objects.count() == 1
    assert outbox == []


def test_no_notice_when_reaction_notices_are_off(sam, share, owner, react, outbox):
    Builder.objects.filter(pk=owner.pk).update(notices_enabled=False)

    react(sam, share, "Nice work.")

    assert outbox == []
    claim = EmailClaim.objects.get(kind=EmailKind.REACTION)
    assert claim.status == ClaimStatus.SKIPPED
    assert Reaction.objects.get().notified_at == NOW


def test_a_redelivered_notice_task_sends_nothing_more(sam, share, react, outbox):
    react(sam, share, "One notice, please.")
    reaction = Reaction.objects.get()

    assert notify_reaction.apply(args=[reaction.pk], retries=1).get() is False
    assert len(outbox) == 1


# Broker down: the outbox sweep ---------------------------------------------------------------


def test_with_the_broker_down_the_reaction_is_saved_and_sam_is_thanked(
    sam, share, react, broker_down, outbox
):
    response = react(sam, share, "Saved even with Redis down.")

    assert response.status_code == 302
    assert response["Location"] == reverse("reactions:recipient-thanks", args=[share.token])
    assert "Thank you!" in sam.get(response["Location"]).content.decode()
    reaction = Reaction.objects.get()
    assert (reaction.text, reaction.notified_at) == ("Saved even with Redis down.", None)
    assert outbox == []


def test_the_outbox_sweep_sends_the_notice_the_broker_never_got_exactly_once(
    sam, share, react, broker_down, outbox, time_machine
):
    react(sam, share, "Saved even with Redis down.")
    broker_down.undo()  # Redis is back

    time_machine.move_to(NOW + timedelta(seconds=10), tick=False)
    assert outbox_sweep() == 0  # still within the grace: its own enqueue may be in flight

    time_machine.move_to(NOW + OUTBOX_GRACE + timedelta(seconds=30), tick=False)
    assert outbox_sweep() == 1
    assert outbox_sweep() == 0

    assert [message.subject for message in outbox] == ["Sam reacted to Crag finder"]
    assert Reaction.objects.get().notified_at == NOW + OUTBOX_GRACE + timedelta(seconds=30)


def test_a_sweep_racing_a_late_enqueue_still_sends_once(sam, share, react, broker_down, outbox):
    """The sweep queued it and the original message turned up too: the claim decides."""
    react(sam, share, "Two messages, one email.")
    broker_down.undo()
    reaction = Reaction.objects.get()

    notify_reaction.delay(reaction.pk)
    notify_reaction.delay(reaction.pk)

    assert len(outbox) == 1
    assert EmailClaim.objects.filter(kind=EmailKind.REACTION).count() == 1


def test_a_reaction_marked_not_counting_before_the_sweep_sends_no_notice(
    sam, share, react, broker_down, owner_client, outbox, time_machine
):
    react(sam, share, "Great job!!!")
    broker_down.undo()
    reaction = Reaction.objects.get()
    owner_client.post(reverse("reactions:reaction-counts", args=[reaction.pk]), {"counts": "0"})

    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    outbox_sweep()
    notify_reaction.delay(reaction.pk)  # and if an old message still arrives

    assert outbox == []
    assert EmailClaim.objects.get(kind=EmailKind.REACTION).status == ClaimStatus.SKIPPED


def test_the_sweep_leaves_notices_older_than_its_horizon(
    sam, share, react, broker_down, outbox, time_machine
):
    react(sam, share, "Days ago.")
    broker_down.undo()

    time_machine.move_to(NOW + tasks.OUTBOX_HORIZON + timedelta(minutes=1), tick=False)

    assert outbox_sweep() == 0
    assert outbox == []


# A fresh link, please ------------------------------------------------------------------------


@pytest.fixture
def expired(share, time_machine) -> Share:
    time_machine.move_to(NOW + timedelta(hours=1, minutes=5), tick=False)
    return share


def ask_fresh(client: Client, share: Share, capture) -> None:
    with capture(execute=True):
        client.post(reverse("reactions:recipient-fresh", args=[share.token]))


def test_a_fresh_link_request_sends_one_email_with_a_renew_link(
    sam, expired, outbox, django_capture_on_commit_callbacks
):
    ask_fresh(sam, expired, django_capture_on_commit_callbacks)
    ask_fresh(sam, expired, django_capture_on_commit_callbacks)  # a second tap

    assert len(outbox) == 1
    message = outbox[0]
    renew = settings.OUTERLOOP_BASE_URL + reverse("reactions:share-renew", args=[expired.pk])
    assert message.to == ["alex@example.com"]
    assert message.subject == "Sam asked for a fresh link to Crag finder"
    assert "Sam came back to Crag finder after it expired and asked for a fresh link." in (
        message.body
    )
    assert f"Renew it and send it again: {renew}" in message.body
    assert f'href="{renew}"' in html_of(message)
    assert "Renew and send again" in html_of(message)
    expired.refresh_from_db()
    assert expired.fresh_link_notified_at == NOW + timedelta(hours=1, minutes=5)


def test_the_renew_link_in_the_email_leads_to_a_confirm_page(
    sam, expired, outbox, owner_client, django_capture_on_commit_callbacks
):
    ask_fresh(sam, expired, django_capture_on_commit_callbacks)
    renew = reverse("reactions:share-renew", args=[expired.pk])

    response = owner_client.get(renew)

    assert response.status_code == 200
    assert Share.objects.count() == 1  # a link scanner's GET renews nothing


def test_a_fresh_link_request_with_the_broker_down_is_swept_once(
    sam, expired, outbox, broker_down, time_machine, django_capture_on_commit_callbacks
):
    ask_fresh(sam, expired, django_capture_on_commit_callbacks)
    assert outbox == []
    broker_down.undo()

    time_machine.move_to(NOW + timedelta(hours=1, minutes=10), tick=False)
    outbox_sweep()
    outbox_sweep()

    assert [message.subject for message in outbox] == ["Sam asked for a fresh link to Crag finder"]
