"""Who is asking: unfurlers, scanners and scripts are never people; people have a device.

Every string below is a real User-Agent, as the service or browser sends it (from the
services' own documentation, CrawlerDetect's fixtures of observed traffic, MDN and Chrome's
User-Agent reduction notes). Keep them verbatim: the point is that the maintained lists
recognise what actually arrives, not what a hand-written pattern expects.
"""

import pytest

from reactions.agents import BrowserHints, device_class, is_bot
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

# The link-preview fetchers of the chat and social apps people send links through (issue 11's
# kind). Where a string comes from: the app's own source or documentation where it is open
# (Zulip's zerver/lib/url_preview, Synapse's media/url_previewer.py, Mattermost's
# server/public/shared/httpservice, Signal-Desktop's ts/linkPreviews/linkPreviewFetch.ts, Meta's
# "Meta Web Crawlers" page, Snap's developers.snap.com/robots, Keybase's book.keybase.io/docs/
# chat/link-previews), otherwise crawler-user-agents' instances and the issue's own logs.
PREVIEW_FETCHERS = {
    "Google Chat (issue 11)": "Google-Chat-Preview",
    "Viber (issue 11)": "Viber",
    "Signal (sends WhatsApp's name)": "WhatsApp/2",
    "Zulip": "Mozilla/5.0 (compatible; ZulipURLPreview/9.3; +https://chat.zulip.org)",
    "Matrix Synapse (Element)": "Synapse (bot; +https://github.com/matrix-org/synapse)",
    "Mattermost": "Mattermost-Bot/1.1",
    "Bluesky": "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "Bluesky, short": "Bluesky Cardyb/1.1",
    "Mastodon": "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)",
    "Mastodon 4.3": "Mastodon/4.3.0 (http.rb/5.2.0; +https://mastodon.social/)",
    "LINE": "facebookexternalhit/1.1;line-poker/1.0",
    "LINE, bare": "line-poker/1.0",
    "LINE search": "Mozilla/5.0 (compatible; Linespider/1.1; +https://lin.ee/4dwXkTH)",
    "KakaoTalk": "facebookexternalhit/1.1; kakaotalk-scrap/1.0",
    "KakaoTalk, bare": "kakaotalk-scrap/1.0",
    "Snapchat": (
        "Mozilla/5.0 (compatible; Snap URL Preview Service; bot; snapchat; "
        "https://developers.snap.com/robots)"
    ),
    "Reddit": "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
    "Pinterest": "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
    "Pinterestbot": "Mozilla/5.0 (compatible; Pinterestbot/1.0; +https://www.pinterest.com/bot.html)",
    "Meta external agent": (
        "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)"
    ),
    "Meta external fetcher": (
        "meta-externalfetcher/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)"
    ),
    "Skype and Teams, full": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) SkypeUriPreview Preview/0.5 "
        "skype-url-preview@microsoft.com"
    ),
    "Keybase": "Mozilla/5.0 (compatible; KeybaseBot; +https://keybase.io)",
    "Revolt": "Mozilla/5.0 (compatible; January/1.0; +https://gitlab.insrt.uk/revolt/january)",
    "Chatwork": "Chatwork LinkPreview v1",
    "VK": "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)",
    "Tumblr": "Tumblr/14.0.835.186",
    "Nextcloud Talk": "Nextcloud Server Crawler",
    "Zoom": "Zoom.Mac",
    "Microlink": "Microlink/1.0 (+https://microlink.io)",
    "Iframely": "Iframely/1.3.1 (+https://iframely.com/docs/about)",
    "Embedly": "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
    "Gmail image proxy": (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    ),
    "Google+ and Hangouts snippet": (
        "Google-PageRenderer Google (+https://developers.google.com/+/web/snippet/)"
    ),
    "Office existence check": "Microsoft Office Existence Discovery",
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
    "LINE, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Safari Line/14.9.0"
    ),
    "LINE, Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Line/14.10.1/IAB"
    ),
    "KakaoTalk, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.8.5"
    ),
    "KakaoTalk, Android": (
        "Mozilla/5.0 (Linux; Android 14; SM-S918N Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36;"
        "KAKAOTALK 2410850"
    ),
    "WeChat, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI "
        "Language/zh_CN"
    ),
    "Viber, Android": (
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36 Viber/22.6.0.0"
    ),
    "Telegram, Android": (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36 Telegram-Android/11.0.0 (Samsung SM-S918B; "
        "Android 14; SDK 34; HIGH)"
    ),
    "Instagram, Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Instagram "
        "339.0.0.34.103 Android (34/14; 420dpi; 1080x2400; Google/google; Pixel 8; shiba; shiba; "
        "en_US; 622045634)"
    ),
    "Snapchat, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Snapchat/13.02.0.42 (like Safari/8618.2.12.10.6, panda)"
    ),
    "X, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/10.48"
    ),
    "LinkedIn, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 LinkedInApp/9.29.8290"
    ),
    "Pinterest, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]"
    ),
    "Reddit, Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 "
        "Reddit/Version 2024.27.0/Build 1627207/Android 14"
    ),
    "Google app, iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) GSA/325.0.651000437 Mobile/15E148 Safari/604.1"
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


@pytest.mark.parametrize("user_agent", PREVIEW_FETCHERS.values(), ids=PREVIEW_FETCHERS.keys())
def test_the_link_preview_fetchers_of_chat_and_social_apps_are_bots(user_agent):
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


# iPadOS Safari asks for desktop sites by default: a Mac's User-Agent, word for word.
IPAD_AS_A_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
# Chrome on an Android tablet asks for desktop sites by default (since Chrome 99).
ANDROID_TABLET_AS_A_PC = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "hints", "device"),
    [
        (IPAD_AS_A_MAC, BrowserHints(touch_points=5), DeviceClass.TABLET),
        (IPAD_AS_A_MAC, BrowserHints(touch_points=0), DeviceClass.DESKTOP),
        (IPAD_AS_A_MAC, BrowserHints(), DeviceClass.DESKTOP),
        (BROWSERS["Edge, Windows"][0], BrowserHints(touch_points=10), DeviceClass.DESKTOP),
        (
            ANDROID_TABLET_AS_A_PC,
            BrowserHints(touch_points=5, mobile=False, platform="Android"),
            DeviceClass.TABLET,
        ),
        (ANDROID_TABLET_AS_A_PC, BrowserHints(mobile=False, platform="Linux"), DeviceClass.DESKTOP),
        (ANDROID_TABLET_AS_A_PC, BrowserHints(mobile=True, platform="Android"), DeviceClass.PHONE),
        (BROWSERS["Safari, iPhone"][0], BrowserHints(touch_points=5), DeviceClass.PHONE),
    ],
    ids=[
        "iPad Safari with touch",
        "a Mac without touch",
        "a Mac, the script never ran",
        "a Windows touch laptop",
        "Android tablet in desktop mode",
        "a Linux PC",
        "Android phone in desktop mode",
        "an iPhone stays a phone",
    ],
)
def test_what_the_browser_says_corrects_its_user_agent(user_agent, hints, device):
    assert device_class(user_agent, hints) == device
