"""Who is asking: unfurlers, scanners and scripts are never people; people have a device.

Every string below is a real User-Agent, as the service or browser sends it (from the
services' own documentation, CrawlerDetect's fixtures of observed traffic, MDN and Chrome's
User-Agent reduction notes). Keep them verbatim: the point is that the maintained lists
recognise what actually arrives, not what a hand-written pattern expects.
"""

import pytest

from reactions.agents import device_class, is_bot
from reactions.models import DeviceClass

# Link unfurlers: what fetches the link the moment it is pasted into a chat.
UNFURLERS = {
    "Slack unfurl": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack image proxy": "Slack-ImgProxy 1.106 (+https://api.slack.com/robots)",
    "Slack": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "Facebook, Messenger, Instagram": (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
    ),
    "Facebook, short": "facebookexternalhit/1.1",
    "Facebot": "Facebot/1.0",
    "X": "Twitterbot/1.0",
    "WhatsApp Android": "WhatsApp/2.23.20.0 A",
    "WhatsApp iOS": "WhatsApp/2.2329.9 i",
    "Telegram": "TelegramBot (like TwitterBot)",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedIn": (
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Jakarta Commons-HttpClient/4.3 "
        "+http://www.linkedin.com)"
    ),
    "iMessage preview": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
        "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
    ),
    "Skype and Teams": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Microsoft Teams preview": (
        "Mozilla/5.0 (compatible; MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview)"
    ),
}

# Mail scanners and search crawlers: they follow links to check or index them.
SCANNERS = {
    "Office link check": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Outlook desktop": (
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
    ),
    "Outlook, MSIE shell": (
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Microsoft Outlook 16.0.5134; Pro)"
    ),
    "BingPreview": (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b"
    ),
    "Applebot desktop": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)"
    ),
    "Applebot phone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1 "
        "(Applebot/0.1; +http://www.apple.com/go/applebot)"
    ),
    "Googlebot desktop": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Googlebot smartphone": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/41.0.2272.96 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "bingbot, Chrome shell": (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
        "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"
    ),
}

# Scripts and headless browsers: someone's program, not someone.
SCRIPTS = {
    "curl": "curl/8.7.1",
    "curl, old": "curl/7.29.0",
    "Wget": "Wget/1.21.4",
    "Wget, old": "Wget/1.14 (linux-gnu)",
    "python-requests": "python-requests/2.32.3",
    "Go": "Go-http-client/2.0",
    "Go, HTTP/1.1": "Go-http-client/1.1",
    "HeadlessChrome": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/113.0.5672.63 Safari/537.36"
    ),
    "no User-Agent at all": "",
    "a blank User-Agent": "   ",
}

# Real browsers, with the device each is on.
BROWSERS = {
    "Safari, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        DeviceClass.PHONE,
    ),
    "Chrome, Android phone (reduced UA, as Chrome sends it today)": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
        DeviceClass.PHONE,
    ),
    "Chrome, Pixel 8": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
        DeviceClass.PHONE,
    ),
    "Samsung Internet, Galaxy S23 Ultra": (
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 "
        "(KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        DeviceClass.PHONE,
    ),
    "Chrome, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
        DeviceClass.PHONE,
    ),
    "Firefox, Android phone": (
        "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0",
        DeviceClass.PHONE,
    ),
    "Safari, iPad": (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        DeviceClass.TABLET,
    ),
    "Chrome, Galaxy Tab S9": (
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.71 Safari/537.36",
        DeviceClass.TABLET,
    ),
    "Chrome, Android tablet (reduced UA)": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        DeviceClass.TABLET,
    ),
    "Firefox, Windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        DeviceClass.DESKTOP,
    ),
    "Firefox, Linux": (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        DeviceClass.DESKTOP,
    ),
    "Edge, Windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
        DeviceClass.DESKTOP,
    ),
    "Safari, Mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        DeviceClass.DESKTOP,
    ),
}

# People who open links inside another app's browser are people too.
IN_APP_BROWSERS = {
    "Facebook app, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.36.107;FBBV/612341512;"
        "FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]"
    ),
    "Facebook app, Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 "
        "[FB_IAB/FB4A;FBAV/472.0.0.45.81;]"
    ),
    "Instagram, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Instagram 337.0.3.23.54 (iPhone15,2; iOS 17_5; en_US; "
        "en; scale=3.00; 1179x2556; 617452624)"
    ),
    # A phone brand with "bot" in its name: the trap for a naive pattern.
    "Chrome on a Cubot phone": (
        "Mozilla/5.0 (Linux; Android 10; CUBOT P40) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36"
    ),
}


@pytest.mark.parametrize("user_agent", UNFURLERS.values(), ids=UNFURLERS.keys())
def test_link_unfurlers_are_bots(user_agent):
    assert is_bot(user_agent)


@pytest.mark.parametrize("user_agent", SCANNERS.values(), ids=SCANNERS.keys())
def test_mail_scanners_and_search_crawlers_are_bots(user_agent):
    assert is_bot(user_agent)


@pytest.mark.parametrize("user_agent", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_scripts_headless_browsers_and_a_missing_user_agent_are_bots(user_agent):
    assert is_bot(user_agent)


@pytest.mark.parametrize(("user_agent", "device"), BROWSERS.values(), ids=BROWSERS.keys())
def test_real_browsers_are_people(user_agent, device):
    assert not is_bot(user_agent)


@pytest.mark.parametrize(("user_agent", "device"), BROWSERS.values(), ids=BROWSERS.keys())
def test_real_browsers_are_classed_as_phone_tablet_or_desktop(user_agent, device):
    assert device_class(user_agent) == device


@pytest.mark.parametrize("user_agent", IN_APP_BROWSERS.values(), ids=IN_APP_BROWSERS.keys())
def test_in_app_browsers_on_a_phone_are_people_on_a_phone(user_agent):
    assert not is_bot(user_agent)
    assert device_class(user_agent) == DeviceClass.PHONE


def test_a_bot_dressed_as_an_iphone_is_still_a_bot():
    applebot_on_iphone = SCANNERS["Applebot phone"]

    assert device_class(applebot_on_iphone) == DeviceClass.PHONE
    assert is_bot(applebot_on_iphone)
