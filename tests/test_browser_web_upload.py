"""The dashboard's "or upload a build" in a real Chromium at a phone's size (390 px): a .zip
picked, its upload's progress shown to the end, and the share's page reached, whose preview
is served at its own origin `http://<label>.preview.localhost:<port>/`."""

import io
import zipfile

import pytest

from reactions.models import Share
from tests.browser import axe_violations, chromium
from tests.hosted import alex, log_in, serve_previews

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
INDEX = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Habit tracker</title></head>
<body><h1>Habits, uploaded</h1></body></html>"""
# What the progress said, kept across the page change in sessionStorage.
WATCH_PROGRESS = """() => {
    const bar = document.querySelector("[data-upload-progress] progress");
    const words = document.querySelector("[data-upload-progress-text]");
    const button = document.querySelector("form[data-build-upload] button[type=submit]");
    new MutationObserver(() => {
        const seen = JSON.parse(sessionStorage.getItem("seen") || "[]");
        seen.push([words.textContent, bar.value, button.disabled]);
        sessionStorage.setItem("seen", JSON.stringify(seen));
    }).observe(words, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def world(live_server, settings):
    port = serve_previews(live_server, settings)
    alex(PASSWORD)
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "port": port, "pw": playwright, "browser": browser}


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dist/index.html", INDEX)
        # Enough bytes that the upload reports progress on its way.
        archive.writestr("dist/video.mp4", bytes(range(256)) * 8192)
    return buffer.getvalue()


def test_a_zip_uploaded_from_a_phone_becomes_the_shares_hosted_preview(world):
    context = world["browser"].new_context(**world["pw"].devices["iPhone 13"], bypass_csp=True)
    page = context.new_page()
    log_in(page, world["base"], PASSWORD)

    # A phone picks files only: the .zip is offered, the folder picker isn't.
    assert page.get_by_label("A .zip of your build").is_visible()
    assert not page.get_by_label("Or its folder").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []

    page.get_by_label("A .zip of your build").set_input_files(
        {"name": "habit-tracker.zip", "mimeType": "application/zip", "buffer": zip_bytes()}
    )
    page.get_by_label("Send it to").fill("Sam")
    page.evaluate(WATCH_PROGRESS)
    page.get_by_role("button", name="Get the link").click()
    page.wait_for_url("**/shares/**")

    seen = page.evaluate("JSON.parse(sessionStorage.getItem('seen') || '[]')")
    assert seen[0][0].startswith("Uploading: 0% of ")
    assert ["Uploaded. Putting it online…", 100, True] in seen
    assert seen[-1] == ["Uploaded. Opening it…", 100, True]

    share = Share.objects.select_related("preview").get()
    preview = share.preview
    assert share.recipient.name == "Sam"
    assert preview.url == f"http://{preview.host}.preview.localhost:{world['port']}/"
    assert page.url == f"{world['base']}/shares/{share.pk}/"
    assert "Sam" in page.content()

    page.goto(preview.url)
    page.get_by_role("heading", name="Habits, uploaded").wait_for()
    context.close()


def test_a_refused_zip_is_said_beside_the_form_with_everything_kept(world):
    context = world["browser"].new_context(**world["pw"].devices["iPhone 13"])
    page = context.new_page()
    log_in(page, world["base"], PASSWORD)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.md", b"# no index here")
    page.get_by_label("A .zip of your build").set_input_files(
        {"name": "notes.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()}
    )
    page.get_by_label("Send it to").fill("Sam — climbing gym")
    page.get_by_role("button", name="Get the link").click()

    alert = page.locator("form[data-build-upload] [data-request-error]")
    alert.filter(has_text="No index.html at the top of the upload").wait_for()
    assert "Found: README.md" in alert.text_content()
    assert page.get_by_label("Send it to").input_value() == "Sam — climbing gym"
    assert page.get_by_role("button", name="Get the link").is_enabled()
    assert page.evaluate("document.querySelector('[name=build]').files.length") == 1
    context.close()
