"""Everything we infer from a User-Agent header (and what the browser adds), in one place.

Bots come from CrawlerDetect's maintained list (crawlerdetect) plus `EXTRA_FETCHERS` below,
the link-preview fetchers it does not know yet; device classes from ua-parser's maintained
regexes, corrected by what the browser itself says (`BrowserHints`).
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from crawlerdetect import CrawlerDetect
from ua_parser import parse

from reactions.models import DeviceClass

PHONE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "HarmonyOS"}

# Link-preview fetchers of chat and social apps, and mail link checkers, that crawlerdetect
# 0.4.2 does not recognise (the others it does: Slack, WhatsApp and Signal (which sends
# "WhatsApp/2"), Telegram, iMessage, Discord, Teams/Skype, Facebook/Messenger/Instagram, X,
# LinkedIn, Pinterest, Reddit, Mastodon, Snapchat, Mattermost, Synapse, Keybase, LINE's
# Linespider, Chatwork, Zoom, the Gmail image proxy; tests/test_agents.py holds the corpus).
# Each entry is a regular expression searched case-insensitively, with its public source. An
# entry anchored with ^ is a fetcher whose app also has an in-app browser: that browser sends
# a full "Mozilla/5.0 (…) … App/1.2" string and is a person.
EXTRA_FETCHERS: tuple[str, ...] = (
    # Google Chat's link preview: "Google-Chat-Preview", as logged in Outer Loop's issue 11.
    r"google-chat-preview",
    # Viber's link preview sends a bare "Viber" (issue 11; crawler-user-agents' entry "Viber",
    # github.com/monperrus/crawler-user-agents). Viber's in-app browser is "Mozilla/5.0 … Viber/…".
    r"^viber\b",
    # Zulip: "Mozilla/5.0 (compatible; ZulipURLPreview/<version>; +<realm>)", from
    # ZULIP_URL_PREVIEW_USER_AGENT in zerver/lib/url_preview/preview.py (github.com/zulip/zulip).
    r"zulipurlpreview",
    # Bluesky's card service: "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1;
    # +mailto:support@bsky.app)" (cardyb.bsky.app, github.com/bluesky-social); and "Bluesky/"
    # (crawler-user-agents' entry "Bluesky\/", citing knownagents.com).
    r"bluesky cardyb",
    r"^bluesky/",
    # LINE's preview fetcher: "facebookexternalhit/1.1;line-poker/1.0", and "line-poker" alone,
    # in public preview-bot lists (no LINE page documents it); LINE's in-app browser says "Line/".
    r"line-poker",
    # KakaoTalk's preview scraper, "kakaotalk-scrap/1.0" (Kakao's developer forum,
    # devtalk.kakao.com, on OG scraping); the in-app browser says "KAKAOTALK".
    r"kakaotalk-scrap",
    # Revolt's embed fetcher: "Mozilla/5.0 (compatible; January/1.0;
    # +https://gitlab.insrt.uk/revolt/january)" (the January service's source).
    r"\bjanuary/\d",
    # Tumblr's link fetcher, "Tumblr/14.0.835.186" (crawler-user-agents' instances of
    # "Tumblr"); the Tumblr app's browser sends "Mozilla/5.0 …".
    r"^tumblr/",
    # Microlink, the preview API behind many apps' cards: "Microlink/1.0 (+https://microlink.io)".
    r"^microlink/",
    # Outlook and Office checking a link before a person opens it: "Mozilla/4.0 (compatible;
    # ms-office; MSOffice 16)", "Microsoft Office/16.0 (…; Microsoft Outlook 16.0…)" (Microsoft's
    # Office protocol discovery, [MS-OFBA]/[MS-OFFDI]) and Outlook for iOS and Android previews.
    r"ms-office",
    r"msoffice",
    r"microsoft office",
    r"outlook-ios",
    r"outlook-android",
)
_EXTRA_FETCHERS = re.compile("|".join(f"(?:{pattern})" for pattern in EXTRA_FETCHERS), re.I)


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Whether a User-Agent belongs to an unfurler, crawler, scanner, command-line client or
    headless browser (crawlerdetect's list and `EXTRA_FETCHERS`). An empty one is a bot:
    every real browser sends one."""
    if not user_agent.strip():
        return True
    if _EXTRA_FETCHERS.search(user_agent):
        return True
    return CrawlerDetect().isCrawler(user_agent)


@dataclass(frozen=True)
class BrowserHints:
    """What a browser says about its device besides its User-Agent.

    `touch_points`: `navigator.maxTouchPoints` as the page's script reported it (0 on a
    Mac, 5 on an iPad; None when unknown). `mobile`: the `Sec-CH-UA-Mobile` client hint (True
    for "?1", False for "?0", None when not sent). `platform`: the `Sec-CH-UA-Platform` hint
    without its quotes ("" when not sent). Chromium sends both hints by default on secure
    origins (localhost included); Safari and Firefox send none (WICG User-Agent Client Hints,
    "low-entropy hints").
    """

    touch_points: int | None = None
    mobile: bool | None = None
    platform: str = ""


NO_HINTS = BrowserHints()


@lru_cache(maxsize=4096)
def device_class(user_agent: str, hints: BrowserHints = NO_HINTS) -> str:
    """Phone, tablet or desktop (a `DeviceClass` value), from the User-Agent and `hints`.

    The User-Agent decides unless the browser says otherwise: iPadOS Safari sends a Mac's
    User-Agent by default (WebKit, "Desktop-class browsing on iPad", 2019) and no Mac has a
    touch screen, so a Mac with touch points is a tablet; Chrome on Android tablets asks for
    desktop sites by default since Chrome 99 (a Linux User-Agent, `Sec-CH-UA-Platform:
    "Android"`, `Sec-CH-UA-Mobile: ?0`), so a desktop User-Agent on Android is a tablet; and a
    browser that sends `Sec-CH-UA-Mobile: ?1` wants the phone layout."""
    result = parse(user_agent)
    device = result.device.family if result.device else ""
    brand = (result.device.brand or "") if result.device else ""
    os_family = result.os.family if result.os else ""
    if device == "iPad" or "Tablet" in brand or "Tablet" in device or "Kindle" in device:
        return DeviceClass.TABLET
    if os_family == "Android" and "Mobile" not in user_agent:
        return DeviceClass.TABLET
    if os_family in PHONE_OS or "Smartphone" in brand or device == "iPhone":
        return DeviceClass.PHONE
    if hints.mobile:
        return DeviceClass.PHONE
    if hints.platform == "Android":
        return DeviceClass.TABLET
    on_a_mac = os_family == "Mac OS X" or hints.platform == "macOS"
    if on_a_mac and (hints.touch_points or 0) > 0:
        return DeviceClass.TABLET
    return DeviceClass.DESKTOP
