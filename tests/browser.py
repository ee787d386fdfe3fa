"""Playwright driving Debian's Chromium (see shared/BROWSER.md; never `playwright install`), and
Selenium driving Debian's WebKitGTK, Safari's engine, for what must work on an iPhone."""

import json
import os
import shutil
import subprocess
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


def require_browser(available: bool, message: str) -> None:
    """Skip without `available`, except where OUTERLOOP_REQUIRE_BROWSER says it must run."""
    if available:
        return
    if os.environ.get("OUTERLOOP_REQUIRE_BROWSER"):
        pytest.fail(message + "; OUTERLOOP_REQUIRE_BROWSER is set, so this may not skip")
    pytest.skip(message)


def require_chromium() -> None:
    require_browser(
        CHROMIUM.exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    )


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


ROOT = Path(__file__).resolve().parent.parent
AXE = Path(
    os.environ.get(
        "OUTERLOOP_AXE", ROOT / "var" / "tools" / "node_modules" / "axe-core" / "axe.min.js"
    )
)


def require_axe() -> None:
    """Skip where axe-core is missing, except where OUTERLOOP_REQUIRE_BROWSER says it must run."""
    if AXE.exists():
        return
    message = f"axe-core not found at {AXE} (npm install --prefix var/tools axe-core@4)"
    if os.environ.get("OUTERLOOP_REQUIRE_BROWSER"):
        pytest.fail(message + "; OUTERLOOP_REQUIRE_BROWSER is set, so this may not skip")
    pytest.skip(message)


def axe_violations(page) -> list[str]:
    """What axe-core finds wrong with the page as it stands, one line per rule broken:
    "<url>: axe <rule id>: <what it checks> (<up to three elements>)"; [] when nothing.
    The page's context must bypass the CSP (`bypass_csp=True`) to take axe's script."""
    require_axe()
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}: axe {v['id']}: {v['help']} "
        f"({', '.join(str(n['target'][0]) for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


# A phone's browser lays a page that is too wide out wider (window.innerWidth grows with it,
# up to four times) and zooms out: the width to hold to is the screen's, not innerWidth.
OVERFLOW = """(width) => {
    const wide = [...document.body.querySelectorAll('*')]
        .filter(el => el.getBoundingClientRect().right > width + 1)
        .filter(el => !el.closest('.heatmap-scroll, .visually-hidden, iframe'))
        .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
    return {
        scroll: document.scrollingElement.scrollWidth,
        inner: Math.min(window.innerWidth, width),
        widest: wide.slice(-3),
    };
}"""


def too_wide(page, name: str, width: int) -> list[str]:
    """[] when the page fits a screen `width` CSS px wide; else one line saying how wide it is
    and which elements stick out."""
    found = page.evaluate(OVERFLOW, width)
    if found["scroll"] <= found["inner"]:
        return []
    return [f"{name} at {width} px: {found['scroll']} px wide ({', '.join(found['widest'])})"]


def looked_at(page, width: int) -> list[str]:
    """What is wrong with the page as it stands at `width` px: sideways scroll, then axe."""
    page.wait_for_load_state("load")
    return too_wide(page, page.url, width) + axe_violations(page)


WEBKIT_DRIVER = Path(os.environ.get("OUTERLOOP_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver"))
# Debian's webkit2gtk-driver starts MiniBrowser from its multiarch folder.
MINIBROWSER = next(iter(sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"))), None)


def require_webkit() -> None:
    require_browser(
        WEBKIT_DRIVER.exists() and bool(shutil.which("Xvfb")),
        f"WebKitGTK's WebDriver ({WEBKIT_DRIVER}) or Xvfb not found "
        "(apt-get install webkit2gtk-driver xvfb)",
    )


@contextmanager
def webkit() -> Iterator:
    """WebKit, the engine of Safari on every iPhone, as Debian packages it (WebKitGTK's
    MiniBrowser, driven through its WebDriver with Selenium), on a screen of its own (Xvfb):
    the Selenium driver. Its window is the screen's 1024 x 768: without a window manager
    MiniBrowser doesn't take another size. WebKit blocks third-party cookies by default
    (WebKitGTK's cookie policy "no third party",
    https://webkitgtk.org/reference/webkit2gtk/stable/enum.CookieAcceptPolicy.html), as
    Safari does."""
    require_webkit()
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    xvfb = [shutil.which("Xvfb"), "-displayfd", "1", "-screen", "0", "1280x1024x24"]
    screen = subprocess.Popen(  # noqa: S603 - Debian's Xvfb, no input from outside
        [*xvfb, "-nolisten", "tcp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        display = screen.stdout.readline().decode().strip()  # written once the screen is up
        options = Options()
        if MINIBROWSER:
            options.binary_location = str(MINIBROWSER)
        options.add_argument("--automation")
        service = Service(
            executable_path=str(WEBKIT_DRIVER), env={**os.environ, "DISPLAY": f":{display}"}
        )
        driver = webdriver.WebKitGTK(options=options, service=service)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        screen.terminate()
        screen.wait(timeout=10)
