"""Playwright driving Debian's Chromium (see shared/BROWSER.md). Never `playwright install`."""

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path(os.environ.get("OUTERLOOP_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_chromium() -> None:
    """Skip where Chromium is missing, except where OUTERLOOP_REQUIRE_BROWSER says it must run."""
    if CHROMIUM.exists():
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("OUTERLOOP_REQUIRE_BROWSER"):
        pytest.fail(message + "; OUTERLOOP_REQUIRE_BROWSER is set, so this may not skip")
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator:
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so tell Django not to refuse them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            try:
                yield playwright, browser
            finally:
                browser.close()
                # ORM calls made while Playwright's loop ran used their own connection.
                connections.close_all()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@contextmanager
def phone_blocking_cookies(playwright, device: str = "iPhone 13", **options) -> Iterator:
    """A phone's Chromium set to block every cookie, as a person sets it in the browser's
    settings (the content setting `cookies` = 2, "block", in a profile of its own): its
    browser context. The page's `document.cookie` takes nothing and no response's cookie is
    stored. `options` go to the context as they would to `new_context` (e.g.
    java_script_enabled=False). Use inside `chromium()` (its Playwright)."""
    phone = playwright.devices[device]
    options = {k: v for k, v in phone.items() if k != "default_browser_type"} | options
    with tempfile.TemporaryDirectory() as profile:
        (Path(profile) / "Default").mkdir()
        (Path(profile) / "Default" / "Preferences").write_text(
            json.dumps({"profile": {"default_content_setting_values": {"cookies": 2}}})
        )
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, **options
        )
        try:
            yield context
        finally:
            context.close()
