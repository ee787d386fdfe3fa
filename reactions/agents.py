"""Everything we infer from a User-Agent header, in one place."""

from reactions.models import DeviceClass


def device_class(user_agent: str) -> str:
    """Phone, tablet or desktop, by the rules browsers document for their own UA strings."""
    ua = user_agent.lower()
    if "ipad" in ua or "tablet" in ua or ("android" in ua and "mobile" not in ua):
        return DeviceClass.TABLET
    if "mobi" in ua or "iphone" in ua or "ipod" in ua:
        return DeviceClass.PHONE
    return DeviceClass.DESKTOP
