"""The expiry rule (DESIGN.md "Expiry"): a preview and its links stop loading the target at
`expires_at`, checked on every request; an expired link still shows who built what, still
takes a reaction, and lets the person ask for a fresh link, which the builder hears about.
Its home is `sessions.models.expired_by` (and `Preview.is_expired`, `PreviewQuerySet.expired`
and `.live`, the same rule on one preview and on many); the sweep marks expired previews in
one UPDATE with the pulse of their hour, the request path never waits for it, and each new
preview schedules its own expiry on the broker."""

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.test import Client
from django.urls import reverse

from outerloop.celery import app as celery_app
from reactions.live import QUIET_AFTER, pulse
from reactions.models import Reaction, Share, Visit, VisitKind
from reactions.signals import ETA_MARGIN_SECONDS
from reactions.tasks import expire_preview, expire_sweep
from sessions.models import BuildSession, Preview, expired_by
from tests.conftest import NOW, PREVIEW_URL
from tests.factories import (
    PreviewFactory,
    ReactionFactory,
    RecipientFactory,
    ShareFactory,
    VisitFactory,
)
from tests.services import use_broker
from tests.test_recipient import fresh_url, go_url, page_url, react_url, text_of, view, visits

HOUR = timedelta(hours=1)
PULSE = r"\d+ opens?, \d+ taps?, \d+ reactions?"


def expiry(preview: Preview) -> tuple:
    preview.refresh_from_db()
    return (
        preview.expired_at,
        preview.pulse_opens,
        preview.pulse_taps,
        preview.pulse_reactions,
    )


# The rule, in each of its forms --------------------------------------------------------------


def test_a_preview_expires_at_its_expiry_time(preview, time_machine):
    time_machine.move_to(NOW + timedelta(minutes=59, seconds=59), tick=False)
    assert not preview.is_expired
    assert Preview.objects.live().filter(pk=preview.pk).exists()

    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    assert preview.is_expired
    assert not Preview.objects.live().filter(pk=preview.pk).exists()


@pytest.mark.parametrize(
    ("after", "expired"),
    [(-timedelta(seconds=1), False), (timedelta(0), True), (timedelta(days=1), True)],
    ids=["a second before", "at expires_at", "a day after"],
)
def test_every_form_of_the_rule_says_the_same_of_a_preview(share, time_machine, after, expired):
    moment = share.preview.expires_at + after
    time_machine.move_to(moment, tick=False)

    assert share.preview.is_expired is expired
    assert share.is_expired is expired
    assert Preview.objects.expired().filter(pk=share.preview_id).exists() is expired
    assert Preview.objects.expired(moment).filter(pk=share.preview_id).exists() is expired
    assert Preview.objects.live().filter(pk=share.preview_id).exists() is not expired
    assert Share.objects.filter(expired_by(moment, via="preview__")).exists() is expired
    assert (expire_sweep() == 1) is expired


def test_a_page_stops_watching_closely_once_its_last_link_expires(share, time_machine):
    time_machine.move_to(NOW + timedelta(minutes=30), tick=False)
    later = ShareFactory(
        recipient=share.recipient, preview=PreviewFactory(session=share.preview.session)
    )
    time_machine.move_to(share.preview.expires_at + QUIET_AFTER, tick=False)
    assert pulse(Share.objects.all()).watching  # the later link still lives

    time_machine.move_to(later.preview.expires_at + QUIET_AFTER, tick=False)

    assert not pulse(Share.objects.all()).watching


# The sweep -----------------------------------------------------------------------------------


def test_the_sweep_expires_every_past_due_preview_in_one_update(
    owner, outsider, time_machine, django_assert_num_queries
):
    due = [
        PreviewFactory(session__builder=owner),
        PreviewFactory(session__builder=owner),
        PreviewFactory(session__builder=outsider),
    ]
    time_machine.move_to(NOW + HOUR + timedelta(minutes=30), tick=False)
    live = PreviewFactory(session__builder=owner)
    later = NOW + HOUR + timedelta(minutes=31)
    time_machine.move_to(later, tick=False)

    with django_assert_num_queries(1):
        assert expire_sweep() == 3

    assert [expiry(preview)[0] for preview in due] == [later] * 3
    assert expiry(live) == (None, None, None, None)


def test_the_sweep_takes_one_query_however_many_are_due(
    owner, time_machine, django_assert_num_queries
):
    PreviewFactory.create_batch(25, session__builder=owner)
    time_machine.move_to(NOW + HOUR, tick=False)

    with django_assert_num_queries(1):
        assert expire_sweep() == 25


def test_a_preview_expires_exactly_at_its_expiry_time(preview, time_machine):
    time_machine.move_to(preview.expires_at - timedelta(seconds=1), tick=False)
    assert expire_sweep() == 0

    time_machine.move_to(preview.expires_at, tick=False)
    assert expire_sweep() == 1
    assert expiry(preview) == (NOW + HOUR, 0, 0, 0)


def test_the_sweep_is_idempotent(preview, time_machine):
    time_machine.move_to(NOW + HOUR + timedelta(minutes=1), tick=False)
    expire_sweep()
    first = expiry(preview)

    time_machine.move_to(NOW + HOUR + timedelta(minutes=2), tick=False)
    assert expire_sweep() == 0
    assert expiry(preview) == first


def test_the_scheduled_task_expires_only_its_own_preview(owner, time_machine):
    mine, other = PreviewFactory(session__builder=owner), PreviewFactory(session__builder=owner)
    time_machine.move_to(NOW + HOUR, tick=False)

    assert expire_preview(mine.pk) == 1
    assert expire_preview(mine.pk) == 0  # a redelivered message

    assert expiry(mine)[0] == NOW + HOUR
    assert expiry(other)[0] is None


def test_a_scheduled_task_that_runs_early_changes_nothing(preview, time_machine):
    time_machine.move_to(NOW + HOUR - timedelta(seconds=5), tick=False)

    assert expire_preview(preview.pk) == 0
    assert expiry(preview)[0] is None


# The pulse of its hour -----------------------------------------------------------------------


@pytest.fixture
def busy_hour(owner, preview, share, time_machine):
    """In its hour: Sam and Kim opened, Sam tapped and reacted; Alex looked too."""
    kim = ShareFactory(preview=preview, recipient=RecipientFactory(builder=owner, name="Kim"))
    during = NOW + timedelta(minutes=20)
    VisitFactory(share=share, kind=VisitKind.OPEN, at=during)
    VisitFactory(share=kim, kind=VisitKind.OPEN, at=during)
    VisitFactory(share=share, kind=VisitKind.TAP, at=during + timedelta(minutes=1))
    ReactionFactory(share=share, text="Love it", created_at=during + timedelta(minutes=5))
    # Alex's own browser: never part of the pulse.
    VisitFactory(share=share, kind=VisitKind.OPEN, at=during, by_builder=True)
    VisitFactory(share=share, kind=VisitKind.TAP, at=during, by_builder=True)
    ReactionFactory(share=share, text="testing", created_at=during, by_builder=True)
    # After it expired: the page still works, but this is not the preview's hour.
    after = NOW + HOUR + timedelta(minutes=5)
    VisitFactory(share=kim, kind=VisitKind.RETURN, at=after)
    VisitFactory(share=kim, kind=VisitKind.OPEN, at=after)
    ReactionFactory(share=kim, text="Too late to try it", created_at=after)
    # Another preview's activity.
    ReactionFactory(share=ShareFactory(recipient=RecipientFactory(builder=owner)))
    time_machine.move_to(after + timedelta(minutes=1), tick=False)
    return preview


def test_expiry_records_the_pulse_of_the_previews_hour(busy_hour):
    expire_sweep()

    assert expiry(busy_hour) == (NOW + HOUR + timedelta(minutes=6), 2, 1, 1)


def test_a_preview_nobody_touched_has_a_pulse_of_zero(preview, time_machine):
    time_machine.move_to(NOW + 2 * HOUR, tick=False)

    expire_sweep()

    assert expiry(preview)[1:] == (0, 0, 0)


def test_the_session_page_shows_the_pulse(busy_hour, owner_client, session):
    expire_sweep()

    page = unescape(
        owner_client.get(reverse("sessions:session-detail", args=[session.pk])).content.decode()
    )

    assert "Expired 6\xa0minutes ago." in page
    assert re.findall(PULSE, page) == ["2 opens, 1 tap, 1 reaction"]


def test_the_session_page_of_an_unswept_expired_preview_shows_no_pulse(
    busy_hour, owner_client, session
):
    page = unescape(
        owner_client.get(reverse("sessions:session-detail", args=[session.pk])).content.decode()
    )

    assert "Expired 6\xa0minutes ago." in page
    assert re.findall(PULSE, page) == []


# The request path does not wait for a worker -------------------------------------------------


def test_the_recipient_page_hides_the_preview_right_after_expiry_with_no_sweep(share, time_machine):
    sam = Client()
    page_url = reverse("reactions:recipient-page", args=[share.token])
    go_url = reverse("reactions:recipient-go", args=[share.token])
    time_machine.move_to(share.preview.expires_at - timedelta(seconds=1), tick=False)
    assert go_url in sam.get(page_url).content.decode()

    time_machine.move_to(share.preview.expires_at, tick=False)
    page = sam.get(page_url).content.decode()
    go = sam.get(go_url)

    assert share.preview.expired_at is None  # no worker has run
    assert "This preview has expired." in page
    assert go_url not in page
    assert go.status_code == 410
    assert "Location" not in go
    assert "crag-finder.example.dev" not in go.content.decode()


# An expired link, as the person sees it ------------------------------------------------------


@pytest.fixture
def expired(share, time_machine) -> Share:
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    return share


def test_an_expired_link_still_says_who_built_what_without_the_preview(sam, expired):
    response = sam.get(page_url(expired))
    view(sam, expired)

    page = text_of(response)
    assert response.status_code == 200
    assert "<bdi>Alex</bdi> built something and would like your reaction." in page
    assert "This preview has expired." in page
    assert "Ask for a fresh link" in page
    assert "Open Crag finder" not in page
    assert go_url(expired) not in page
    assert "crag-finder.example.dev" not in page
    assert visits(expired) == [VisitKind.OPEN]


def test_the_open_button_of_an_expired_link_is_gone_not_a_redirect(sam, expired):
    response = sam.get(go_url(expired))

    assert response.status_code == 410
    assert "Location" not in response
    assert "crag-finder.example.dev" not in response.content.decode()
    assert "This preview has expired." in text_of(response)
    assert not Visit.objects.filter(kind=VisitKind.TAP).exists()


def test_an_expired_link_still_takes_a_reaction(sam, expired):
    response = sam.post(
        react_url(expired), {"text": "Missed it, but the idea is good"}, follow=True
    )

    assert Reaction.objects.get().share == expired
    page = text_of(response)
    assert "Thank you!" in page
    assert "Open Crag finder again" not in page


def test_asking_for_a_fresh_link_is_recorded_once_and_shown_to_the_builder(
    sam, expired, owner_client, time_machine
):
    asked_at = NOW + timedelta(hours=1)

    response = sam.post(fresh_url(expired), follow=True)

    assert "Done: <bdi>Alex</bdi> knows you'd like a fresh link." in text_of(response)
    expired.refresh_from_db()
    assert expired.fresh_link_requested_at == asked_at

    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    sam.post(fresh_url(expired))
    expired.refresh_from_db()
    assert expired.fresh_link_requested_at == asked_at

    share_page = text_of(owner_client.get(reverse("reactions:share-detail", args=[expired.pk])))
    assert "<bdi>Sam</bdi> asked for a fresh link" in share_page
    assert "Renew and send again" in share_page


def test_asking_for_a_fresh_link_with_htmx_swaps_in_the_confirmation(sam, expired):
    response = sam.post(fresh_url(expired), headers={"HX-Request": "true"})

    fragment = text_of(response)
    assert '<div id="fresh">' in fragment
    assert "Done: <bdi>Alex</bdi> knows you'd like a fresh link." in fragment
    assert "<html" not in fragment


def test_the_builder_renews_and_resends_after_a_fresh_link_request(owner_client, expired, sam):
    sam.post(fresh_url(expired))

    response = owner_client.post(reverse("reactions:share-renew", args=[expired.pk]), follow=True)

    fresh = Share.objects.exclude(pk=expired.pk).get()
    assert (fresh.recipient, fresh.preview.url) == (expired.recipient, PREVIEW_URL)
    assert not fresh.is_expired
    assert "Fresh link for Sam. The link they have now forwards to it" in text_of(response)
    assert sam.get(go_url(fresh))["Location"] == PREVIEW_URL


# Scheduling at creation ----------------------------------------------------------------------


@pytest.fixture
def published():
    """Tasks really published to an in-memory broker (not run eagerly): name and headers."""
    messages: list[tuple[str, dict]] = []

    def record(sender=None, headers=None, **kwargs):
        messages.append((sender, headers))

    broker_url = celery_app.conf.broker_url
    use_broker("memory://", eager=False)
    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)
    use_broker(broker_url, eager=True)


def new_preview(owner, capture) -> Preview:
    with capture(execute=True):
        return BuildSession.objects.create(builder=owner, title="Pinboard").add_preview(
            "https://pinboard.example.dev/"
        )


def test_a_new_preview_schedules_its_expiry_for_its_expiry_time(
    owner, published, django_capture_on_commit_callbacks
):
    preview = new_preview(owner, django_capture_on_commit_callbacks)

    [(task, headers)] = published
    assert task == expire_preview.name
    assert headers["argsrepr"] == repr((preview.pk,))
    eta = datetime.fromisoformat(headers["eta"])
    assert eta == preview.expires_at == NOW + HOUR
    assert eta - NOW <= timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)


def test_nothing_is_published_before_the_transaction_commits(
    owner, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        BuildSession.objects.create(builder=owner, title="Pinboard").add_preview(
            "https://pinboard.example.dev/"
        )

    assert published == []
    for callback in callbacks:
        callback()
    assert len(published) == 1


@pytest.mark.parametrize(
    "ttl",
    [
        settings.CELERY_VISIBILITY_TIMEOUT - ETA_MARGIN_SECONDS,
        settings.CELERY_VISIBILITY_TIMEOUT - 600,
    ],
)
def test_a_ttl_under_the_visibility_timeout_is_scheduled(
    owner, published, settings, django_capture_on_commit_callbacks, ttl
):
    settings.OUTERLOOP_PREVIEW_TTL = ttl

    preview = new_preview(owner, django_capture_on_commit_callbacks)

    [(task, headers)] = published
    assert task == expire_preview.name
    assert datetime.fromisoformat(headers["eta"]) == preview.expires_at
    assert preview.expires_at - NOW <= timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)


@pytest.mark.parametrize(
    "ttl",
    [
        settings.CELERY_VISIBILITY_TIMEOUT - ETA_MARGIN_SECONDS + 1,
        settings.CELERY_VISIBILITY_TIMEOUT,
        24 * 3600,
    ],
)
def test_a_ttl_beyond_the_visibility_timeout_is_left_to_the_sweep(
    owner, published, settings, django_capture_on_commit_callbacks, time_machine, ttl
):
    """Redis would redeliver an ETA task held longer than the visibility timeout."""
    settings.OUTERLOOP_PREVIEW_TTL = ttl

    preview = new_preview(owner, django_capture_on_commit_callbacks)

    assert published == []
    time_machine.move_to(preview.expires_at, tick=False)
    assert expire_sweep() == 1


def test_saving_an_existing_preview_schedules_nothing(
    owner, published, django_capture_on_commit_callbacks
):
    preview = new_preview(owner, django_capture_on_commit_callbacks)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        preview.save()

    assert published == []


def test_a_renewed_preview_schedules_its_own_expiry(
    owner, published, django_capture_on_commit_callbacks, time_machine
):
    old = new_preview(owner, django_capture_on_commit_callbacks)
    time_machine.move_to(NOW + 2 * HOUR, tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        fresh = old.renew()

    assert [datetime.fromisoformat(headers["eta"]) for _, headers in published] == [
        NOW + HOUR,
        NOW + 3 * HOUR,
    ]
    assert fresh.expires_at == NOW + 3 * HOUR
