"""The recipient page's weight as a phone fetches it: first response and whole page, gzipped.

Opens one share's link in Chromium at an iPhone's size and records every request the page
makes. `bench/run.py` calls it against the gunicorn it serves.
"""

import gzip
from urllib.parse import urlsplit

from tests.browser import CHROMIUM, LAUNCH_ARGS

FIRST_RESPONSE_BUDGET = 14 * 1024
WHOLE_PAGE_BUDGET = 35 * 1024


def measure(link: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_context(**playwright.devices["iPhone 13"]).new_page()

        def record(response) -> None:
            body = response.body() if response.status not in (204, 304) else b""
            rows.append(
                {
                    "url": response.url,
                    "status": response.status,
                    "raw": len(body),
                    "gzip": len(gzip.compress(body, compresslevel=9)) if body else 0,
                    "third_party": urlsplit(response.url).hostname != "127.0.0.1",
                    "document": response.request.resource_type == "document",
                }
            )

        page.on("response", record)
        page.goto(link, wait_until="networkidle")
        browser.close()
    return rows


def summarise(rows: list[dict]) -> dict:
    """The figures `make bench` reports, with the budgets they are held to. The first response
    is the page's document: the order of `rows` is the order their handlers finished, and a
    small response (the page's 204 confirm) can finish while the document's body is read."""
    first = next(row for row in rows if row["document"])
    return {
        "first_response_gzip_bytes": first["gzip"],
        "first_response_budget": FIRST_RESPONSE_BUDGET,
        "whole_page_gzip_bytes": sum(row["gzip"] for row in rows),
        "whole_page_budget": WHOLE_PAGE_BUDGET,
        "requests": len(rows),
        "third_party_requests": sum(row["third_party"] for row in rows),
    }
