"""People's own words arrive intact: one cleaning for every free-text field (common.text),
and "Sam — climbing gym" read as a name and a note."""

import unicodedata

import pytest
from django.test import Client
from django.urls import reverse

from common.builders import Builder
from common.text import BIDI_CONTROLS, clean_text
from outerloop.models import ApiToken
from reactions.models import Reaction, Recipient, Share, split_name_and_note
from sessions.models import BuildSession, PublishRequest
from tests.conftest import PREVIEW_URL
from tests.factories import BuilderFactory, RecipientFactory, ShareFactory

ZWJ, ZWNJ, VS16 = "\u200d", "\u200c", "\ufe0f"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"

# Text people write, each kept exactly as typed (every entry is already NFC).
CORPUS = {
    "family (ZWJ)": "Love it 👨\u200d👩\u200d👧",
    "rainbow flag (VS16 + ZWJ)": "🏳\ufe0f\u200d🌈 yes",
    "Persian (ZWNJ)": "می\u200cخواهم",
    "England (tag sequence)": f"Go {ENGLAND}!",
    "Scotland and Wales": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    " \U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
    "country flags": "🇳🇴 🇯🇵 🇧🇷",
    "keycaps": "Press 1\ufe0f\u20e3 then #\ufe0f\u20e3",
    "skin tones": "👍🏽 👋🏿 🧑🏻\u200d💻",
    "couple with skin tones": "🧑🏾\u200d❤\ufe0f\u200d🧑🏻",
    "text vs emoji presentation": "☺\ufe0e ☺\ufe0f",
    "Devanagari (conjuncts, ZWJ/ZWNJ)": "क्\u200dष नमस्ते क्\u200cष",
    "Arabic": "أحببت الزر الكبير",
    "Arabic letter mark": "\u061c١٢٣ نعم",
    "Hebrew with RLM": "אהבתי!\u200f",
    "CJK": "很好用 とても良い 아주 좋아요",
    "Thai": "ดีมาก",
    "Mongolian FVS": "ᠠ᠋",
    "ideographic variation": "葛\U000e0100",
    "private use": "\uf8ff logo",
}

TROJAN_SOURCE = {  # CVE-2021-42574: each would reorder what is shown around it
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
}


@pytest.mark.parametrize("text", list(CORPUS.values()), ids=list(CORPUS))
def test_the_corpus_is_kept_exactly(text):
    assert clean_text(text) == text
    assert clean_text(text, multiline=True) == text


@pytest.mark.parametrize("control", list(TROJAN_SOURCE), ids=list(TROJAN_SOURCE.values()))
def test_trojan_source_characters_are_removed(control):
    disguised = f"access{control}Level = \u202euser\u2066 // admin"

    assert clean_text(disguised) == "accessLevel = user // admin"
    assert not set(clean_text(disguised, multiline=True)) & BIDI_CONTROLS


def test_the_bidi_controls_are_the_nine_of_uax9():
    assert set(TROJAN_SOURCE) == BIDI_CONTROLS


@pytest.mark.parametrize("text", list(CORPUS.values()), ids=list(CORPUS))
def test_the_corpus_survives_a_trojan_source_attempt(text):
    assert clean_text(f"\u202e{text}\u2069") == text


def test_text_is_composed_to_nfc():
    decomposed = "Zoe\u0308 U\u0308nal, cafe\u0301, 한\u1100"  # combining marks, a loose jamo
    assert clean_text(decomposed) == unicodedata.normalize("NFC", decomposed)
    assert clean_text(decomposed).startswith("Zoë Ünal, café")


def test_controls_go_and_line_breaks_stay_only_where_several_lines_are_allowed():
    typed = " Nice\x00 one\x07!\r\nReally\x1b[1m good\t:)\u2028Bye\x85\x9b "

    assert clean_text(typed, multiline=True) == "Nice one!\nReally[1m good\t:)\nBye"
    assert clean_text(typed) == "Nice one! Really[1m good :) Bye"


def test_stray_tag_characters_are_hidden_text_and_go():
    smuggled = "Nice" + "".join(chr(0xE0000 + ord(ch)) for ch in "ignore all rules") + "!"
    assert clean_text(smuggled) == "Nice!"
    assert clean_text(f"{smuggled} {ENGLAND}") == f"Nice! {ENGLAND}"


def test_invisible_spacing_is_trimmed_from_the_ends_only():
    assert clean_text("\ufeff\u200b Sam \u2060") == "Sam"
    assert clean_text("ไม่\u200bเป็นไร") == "ไม่\u200bเป็นไร"  # Thai word break hint


@pytest.mark.parametrize(
    "text",
    [*CORPUS.values(), " a\u0301\r\n\u202e\tb ", "x\n \u0301", "\u200b\u0301 z", "\x00"],
)
def test_cleaning_twice_changes_nothing(text):
    for multiline in (False, True):
        once = clean_text(text, multiline=multiline)
        assert clean_text(once, multiline=multiline) == once


# Every free-text field, on every way in ----------------------------------------------------

TYPED = "\u202eLove it 👨\u200d👩\u200d👧 می\u200cخواهم " + ENGLAND + " cafe\u0301\u2066"
KEPT = "Love it 👨\u200d👩\u200d👧 می\u200cخواهم " + ENGLAND + " café"


def test_a_reaction_keeps_joiners_and_tag_sequences(sam, share):
    sam.post(
        reverse("reactions:recipient-react", args=[share.token]),
        {"text": f"{TYPED}\r\n🏳\ufe0f\u200d🌈 yes"},
    )

    assert Reaction.objects.get().text == f"{KEPT}\n🏳\ufe0f\u200d🌈 yes"


def test_the_turn_form_cleans_the_title_and_the_person(owner_client):
    owner_client.post(
        reverse("outerloop:turn"),
        {"url": PREVIEW_URL, "title": TYPED, "recipient": TYPED, "channel": "dm"},
    )

    share = Share.objects.select_related("recipient", "preview__session").get()
    assert share.preview.session.title == KEPT
    assert share.recipient.name == KEPT


def test_a_session_and_its_notes_are_cleaned(owner_client, owner):
    owner_client.post(
        reverse("sessions:session-list"), {"title": TYPED, "notes": f"{TYPED}\r\nline two"}
    )

    session = BuildSession.objects.owned_by(owner).get()
    assert (session.title, session.notes) == (KEPT, f"{KEPT}\nline two")


def test_the_builders_name_and_a_token_name_are_cleaned(owner_client, owner):
    owner_client.post(reverse("outerloop:token-create"), {"token-name": TYPED})
    data = {
        "name": TYPED,
        "time_zone": "UTC",
        "day_start_hour": 0,
        "nudge_time": "10:00",
        "review_weekday": 6,
        "review_time": "18:00",
    }
    owner_client.post(reverse("outerloop:settings"), data)

    assert ApiToken.objects.owned_by(owner).get().name == KEPT
    assert Builder.objects.get(pk=owner.pk).name == KEPT


def test_sign_up_cleans_the_name(client, db):
    client.post(
        reverse("outerloop:signup"),
        {
            "name": TYPED,
            "email": "noor@example.com",
            "password1": "tangerine-lighthouse-93",
            "password2": "tangerine-lighthouse-93",
        },
    )

    assert Builder.objects.get(email="noor@example.com").name == KEPT


def test_the_api_cleans_the_title_and_the_person(owner):
    _, raw = ApiToken.issue(owner, "laptop CLI")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    preview = api.post(
        "/api/v1/previews", {"url": PREVIEW_URL, "title": TYPED}, content_type="application/json"
    ).json()
    share = api.post(
        f"/api/v1/previews/{preview['id']}/shares",
        {"recipient": TYPED},
        content_type="application/json",
    ).json()

    assert (preview["title"], share["recipient"]) == (KEPT, KEPT)
    assert Recipient.objects.get().name == KEPT


def test_the_admin_cleans_what_the_operator_types(db):
    staff = Client()
    staff.force_login(BuilderFactory(is_staff=True, is_superuser=True))
    person = RecipientFactory(name="Sam")

    staff.post(
        reverse("admin:reactions_recipient_change", args=[person.pk]),
        {"name": TYPED, "note": "gym\u202e", "lives_with": "", "created_at_0": "2026-03-10"}
        | {"created_at_1": "12:00:00"},
    )

    person.refresh_from_db()
    assert (person.name, person.note) == (KEPT, "gym")


def test_a_publish_request_note_is_cleaned(owner, share):
    publish = PublishRequest.objects.create(
        preview=share.preview, domain="crags.example.com", note=f"{TYPED}\r\nthanks"
    )

    publish.refresh_from_db()
    assert publish.note == f"{KEPT}\nthanks"


# "Sam — climbing gym": a name and a note -------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "note"),
    [
        ("Sam — climbing gym", "Sam", "climbing gym"),
        ("Priya – book club", "Priya", "book club"),
        ("Jo - work", "Jo", "work"),
        ("Sam—gym", "Sam", "gym"),
        ("Anne-Marie", "Anne-Marie", ""),
        ("Anne-Marie — choir - Tuesdays", "Anne-Marie", "choir - Tuesdays"),
        ("Jean-Luc -gym", "Jean-Luc -gym", ""),
        ("نور الهدى — الجامعة", "نور الهدى", "الجامعة"),
        ("— book club", "", "book club"),
    ],
)
def test_a_name_and_a_note_are_read_apart(typed, name, note):
    assert split_name_and_note(typed) == (name, note)


def test_the_placeholders_format_stores_a_name_and_a_note(owner_client, owner):
    owner_client.post(
        reverse("outerloop:turn"),
        {"url": PREVIEW_URL, "recipient": "Priya — book club", "channel": "dm"},
    )

    (person,) = Recipient.objects.owned_by(owner)
    assert (person.name, person.note) == ("Priya", "book club")


def test_the_reaction_email_names_the_person_without_the_note(
    owner_client, owner, sam, outbox, django_capture_on_commit_callbacks
):
    owner_client.post(
        reverse("outerloop:turn"),
        {"url": PREVIEW_URL, "title": "Crag finder", "recipient": "Priya — book club"}
        | {"channel": "dm"},
    )
    share = Share.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        sam.post(reverse("reactions:recipient-react", args=[share.token]), {"text": "Lovely"})

    (message,) = outbox
    assert message.subject == "Priya reacted to Crag finder"


def test_the_same_person_again_keeps_one_row_and_takes_a_new_note(owner):
    person = RecipientFactory(builder=owner, name="Priya", note="book club")
    client = Client()
    client.force_login(owner)

    client.post(
        reverse("outerloop:turn"), {"url": PREVIEW_URL, "recipient": "priya", "channel": "dm"}
    )
    person.refresh_from_db()
    assert person.note == "book club"

    client.post(
        reverse("outerloop:turn"),
        {"url": PREVIEW_URL, "recipient": "Priya – choir", "channel": "dm"},
    )
    assert list(Recipient.objects.owned_by(owner).values_list("name", "note")) == [
        ("Priya", "choir")
    ]


def test_the_api_reads_the_note_and_returns_it(owner, preview):
    _, raw = ApiToken.issue(owner, "laptop CLI")
    api = Client(headers={"Authorization": f"Bearer {raw}"})

    body = api.post(
        f"/api/v1/previews/{preview.pk}/shares",
        {"recipient": "Priya — book club"},
        content_type="application/json",
    ).json()

    assert (body["recipient"], body["recipient_note"]) == ("Priya", "book club")


@pytest.mark.parametrize("typed", ["— book club", "x" * 81 + " — gym", "Sam — " + "y" * 81])
def test_a_missing_or_long_name_or_note_is_refused_on_the_web_and_the_api(owner, preview, typed):
    client = Client()
    client.force_login(owner)
    _, raw = ApiToken.issue(owner, "laptop CLI")
    api = Client(headers={"Authorization": f"Bearer {raw}"})

    page = client.post(
        reverse("outerloop:turn"), {"url": PREVIEW_URL, "recipient": typed, "channel": "dm"}
    )
    answer = api.post(
        f"/api/v1/previews/{preview.pk}/shares",
        {"recipient": typed},
        content_type="application/json",
    )

    assert page.status_code == 400
    assert answer.status_code == 422
    assert not Recipient.objects.exists()


def test_a_right_to_left_name_and_its_note_are_isolated_where_the_person_shows(owner_client, owner):
    person = RecipientFactory(builder=owner, name="نور الهدى", note="book club")
    share = ShareFactory(recipient=person)

    pages = [
        reverse("reactions:people"),
        reverse("reactions:share-detail", args=[share.pk]),
        reverse("outerloop:day", args=[share.day.isoformat()]),
    ]
    for url in pages:
        page = owner_client.get(url).content.decode()
        assert "<bdi>نور الهدى</bdi>" in page, url
        assert "<bdi>book club</bdi>" in page, url
