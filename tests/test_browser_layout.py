"""Every page at phone widths, filled with what people really type: long unbroken words and
URLs, right-to-left names, emoji sequences. Nothing may make the page scroll sideways."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outerloop.models import ApiToken
from reactions.models import Channel, Reaction
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession, PublishRequest
from tests.browser import chromium, too_wide
from tests.factories import PASSWORD, BuilderFactory, ReactionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [320, 390]
LONG_TITLE = "Bouldering" * 12  # 120 characters, no space to break at
LONG_URL = "https://crag-finder.example.dev/routes?" + "&".join(f"grade{n}=v{n}" for n in range(60))
LONG_WORD = "Überüberlangeswort" * 4
RTL_NAME = "نور الهدى"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
EMOJI = f"👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈 {ENGLAND}"


@pytest.fixture
def filled(live_server, settings):
    """A builder whose every page holds long, right-to-left and emoji text; its URLs."""
    settings.OUTERLOOP_BASE_URL = live_server.url
    settings.OUTERLOOP_OPERATOR_EMAIL = "ops@example.com"
    builder = BuilderFactory(
        email="noor@example.com", name="Maximilianopoulos" * 4, email_confirmed_at=timezone.now()
    )
    session = BuildSession.objects.create(
        builder=builder, title=LONG_TITLE, notes=f"{LONG_URL}\n{RTL_NAME} {EMOJI}"
    )
    preview = session.add_preview(LONG_URL)
    framed = BuildSession.objects.create(builder=builder, title=RTL_NAME + LONG_WORD).add_preview(
        LONG_URL, frameable=True
    )
    expired = session.add_preview(LONG_URL)
    expired.expires_at = timezone.now() - timedelta(minutes=5)
    expired.save()
    person = find_or_add_recipient(builder, RTL_NAME, note=LONG_WORD)
    other = find_or_add_recipient(builder, LONG_WORD[:80], note=f"{RTL_NAME} {EMOJI}")
    share = share_preview(preview, person, Channel.TEXT)
    share_preview(preview, other, Channel.DM)
    framed_share = share_preview(framed, person, Channel.DM)
    expired_share = share_preview(expired, other, Channel.DM)
    expired_share.fresh_link_requested_at = timezone.now()
    expired_share.save()
    ReactionFactory(share=share, text=f"Look: {LONG_URL} {EMOJI}", device_class="phone")
    ReactionFactory(share=expired_share, text=f"{RTL_NAME} {LONG_WORD}")
    PublishRequest.objects.create(
        preview=preview, domain="crags.example.com", note=LONG_URL, operator_message=LONG_WORD
    )
    ApiToken.issue(builder, LONG_WORD[:60])
    day = share.day.isoformat()
    builder_pages = {
        "dashboard": reverse("outerloop:dashboard"),
        "day detail": reverse("outerloop:day", args=[day]),
        "habit": reverse("outerloop:habit"),
        "sessions": reverse("sessions:session-list"),
        "session": reverse("sessions:session-detail", args=[session.pk]),
        "share page": reverse("reactions:share-detail", args=[share.pk]),
        "expired share page": reverse("reactions:share-detail", args=[expired_share.pk]),
        "reshare": reverse("reactions:share-renew", args=[expired_share.pk]),
        "new link": reverse("reactions:share-create", args=[preview.pk]),
        "people": reverse("reactions:people"),
        "settings": reverse("outerloop:settings"),
        "publish": reverse("outerloop:publish", args=[preview.pk]),
        "delete account": reverse("outerloop:delete-account"),
        "rename session": reverse("outerloop:session-rename", args=[session.pk]),
        "merge session": reverse("outerloop:session-merge", args=[session.pk]),
        "merge session into": reverse("outerloop:session-merge", args=[session.pk])
        + f"?into={framed.session_id}",
        "delete session": reverse("outerloop:session-delete", args=[session.pk]),
        "delete preview": reverse("outerloop:preview-delete", args=[preview.pk]),
        "delete link": reverse("outerloop:share-delete", args=[share.pk]),
        "rename person": reverse("outerloop:person-rename", args=[person.pk]),
        "merge person": reverse("outerloop:person-merge", args=[person.pk]),
        "merge person into": reverse("outerloop:person-merge", args=[person.pk])
        + f"?into={other.pk}",
    }
    recipient_pages = {
        "recipient page": reverse("reactions:recipient-page", args=[share.token]),
        "recipient page, expired": reverse("reactions:recipient-page", args=[expired_share.token]),
        "recipient page, framed": reverse("reactions:recipient-page", args=[framed_share.token]),
        "thank-you page": reverse("reactions:recipient-thanks", args=[share.token]),
    }
    public_pages = {
        "landing": reverse("outerloop:dashboard"),
        "login": reverse("outerloop:login"),
        "sign-up": reverse("outerloop:signup"),
        "password reset": reverse("outerloop:password-reset"),
    }
    return live_server.url, builder_pages, recipient_pages, public_pages, share


def test_no_page_scrolls_sideways_on_a_phone(filled):
    base, builder_pages, recipient_pages, public_pages, share = filled
    problems: list[str] = []
    with chromium() as (playwright, browser):
        for width in WIDTHS:
            phone = {**playwright.devices["iPhone 13"], "viewport": {"width": width, "height": 700}}

            visitor = browser.new_context(**phone)
            page = visitor.new_page()
            for name, path in public_pages.items():
                page.goto(base + path)
                problems += too_wide(page, name, width)
            for name, path in recipient_pages.items():
                page.goto(base + path)
                problems += too_wide(page, name, width)
            # After reacting: the thank-you card quotes the words back.
            page.goto(base + recipient_pages["recipient page"])
            page.get_by_label("What do you think? In your own words.").fill(
                f"Here: {LONG_URL} {RTL_NAME} {EMOJI}"
            )
            # Submitted as a form (a button pushed off-screen would not take the click).
            page.eval_on_selector("#reaction", "form => form.requestSubmit()")
            page.get_by_role("heading", name="Thank you!").wait_for()
            problems += too_wide(page, "thank-you card", width)
            visitor.close()

            builder = browser.new_context(**phone)
            page = builder.new_page()
            page.goto(base + public_pages["login"])
            page.get_by_label("Email").fill("noor@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.eval_on_selector("form:has(#id_password)", "form => form.requestSubmit()")
            page.get_by_role("heading", name="Today's turn").wait_for()
            for name, path in builder_pages.items():
                page.goto(base + path)
                problems += too_wide(page, name, width)
            page.goto(base + builder_pages["settings"])
            page.get_by_label("Name the new token").fill(LONG_WORD[:60])
            page.eval_on_selector("form:has(#id_token-name)", "form => form.requestSubmit()")
            page.get_by_text("Copy it now").wait_for()
            problems += too_wide(page, "new token", width)
            builder.close()

    assert Reaction.objects.filter(share=share).count() == 1 + len(WIDTHS)
    assert not problems, "\n".join(problems)
