"""A hosted preview in a real Chromium at a phone's size, at its own origin
`http://<label>.preview.localhost:<port>` (Chromium resolves every *.localhost name to this
machine): its page renders and runs its module script, and a script on it can't read the
app's dashboard with the builder's credentials, though the builder is logged in there."""

import pytest
from django.urls import reverse

from sessions.models import BuildSession, Preview
from tests.browser import chromium
from tests.hosted import alex, log_in, serve_previews, write_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
INDEX = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crag finder</title><script type="module" src="/app.mjs"></script></head>
<body><h1>Crag finder</h1></body></html>"""
# Runs only if served as JavaScript: a module with the wrong type is refused by the browser.
APP = b"document.querySelector('h1').dataset.ready = 'yes';\n"
READ_DASHBOARD = """async (url) => {
    const found = {};
    try {
        const response = await fetch(url, {credentials: "include"});
        found.cors = "read " + response.status + ": " + (await response.text()).slice(0, 80);
    } catch (error) {
        found.cors = "refused";
    }
    const opaque = await fetch(url, {credentials: "include", mode: "no-cors"});
    found.opaque = [opaque.type, opaque.status, (await opaque.text()).length];
    return found;
}"""


@pytest.fixture
def world(live_server, settings):
    serve_previews(live_server, settings)
    builder = alex(PASSWORD)
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    preview = Preview.hosting(session, write_build(builder, {"index.html": INDEX, "app.mjs": APP}))
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "preview": preview, "pw": playwright, "browser": browser}


def test_a_hosted_page_renders_and_cannot_read_the_builders_dashboard(world):
    context = world["browser"].new_context(**world["pw"].devices["iPhone 13"])
    page = context.new_page()
    log_in(page, world["base"], PASSWORD)

    page.goto(world["preview"].url)
    heading = page.get_by_role("heading", name="Crag finder")
    heading.wait_for()
    page.wait_for_function("document.querySelector('h1').dataset.ready === 'yes'")
    assert page.evaluate("document.cookie") == ""

    dashboard = world["base"] + reverse("outerloop:dashboard")
    found = page.evaluate(READ_DASHBOARD, dashboard)

    assert found["cors"] == "refused"
    assert found["opaque"] == ["opaque", 0, 0]
    context.close()
