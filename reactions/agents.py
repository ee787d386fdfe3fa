"""Everything we infer from a User-Agent header, in one place.

Bots come from CrawlerDetect's maintained list (crawlerdetect); device classes from
ua-parser's maintained regexes. Neither is a hand-written pattern that rots.
"""

from functools import lru_cache

from crawlerdetect import CrawlerDetect
from ua_parser import parse

from reactions.models import DeviceClass

PHONE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "HarmonyOS"}
# Mail clients and scanners that fetch links to check or preview them, missing from the list.
LINK_CHECKERS = ("ms-office", "msoffice", "microsoft office", "outlook-ios", "outlook-android")


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Unfurlers, crawlers, scanners, command-line clients and headless browsers."""
    if not user_agent.strip():
        return True  # every real browser sends one
    if any(marker in user_agent.lower() for marker in LINK_CHECKERS):
        return True
    return CrawlerDetect().isCrawler(user_agent)


@lru_cache(maxsize=4096)
def device_class(user_agent: str) -> str:
    """Phone, tablet or desktop."""
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
    return DeviceClass.DESKTOP
