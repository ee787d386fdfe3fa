"""The mail providers' tracking webhooks, as they post to the app.

Payloads follow each provider's documented samples (Postmark's "Bounce webhook",
"Delivery webhook" and "Subscription change webhook"; Mailgun's "Webhooks" event-data), and
they reach the real URLs under /anymail/ with the credentials the provider would send:
HTTP basic auth from ANYMAIL_WEBHOOK_SECRET, and for Mailgun also its HMAC signature.
"""

import base64
import hashlib
import hmac
import importlib
import json
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import clear_url_caches

import outerloop.urls

WEBHOOK_SECRET = "postmark:a-long-random-webhook-secret"
MAILGUN_SIGNING_KEY = "key-of-mailguns-webhook-signing"


def reload_urls() -> None:
    """outerloop.urls decides at import whether to mount the webhook: import it again."""
    clear_url_caches()
    importlib.reload(outerloop.urls)
    clear_url_caches()


def basic_auth(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture
def webhooks(settings):
    """The tracking webhooks mounted, with the secret and Mailgun's signing key set."""
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
    }
    reload_urls()
    yield
    settings.ANYMAIL = {
        key: value
        for key, value in settings.ANYMAIL.items()
        if key not in {"WEBHOOK_SECRET", "MAILGUN_WEBHOOK_SIGNING_KEY"}
    }
    reload_urls()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def postmark_bounce(
    email: str, kind: str = "HardBounce", record: str = "Bounce", at: datetime | None = None
) -> dict:
    """Postmark's bounce (or spam complaint) webhook: `kind` is its bounce `Type`."""
    return {
        "RecordType": record,
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "nudge",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "loop@example.com",
        "BouncedAt": _iso(at or datetime(2026, 3, 10, 11, 57, tzinfo=UTC)),
        "DumpAvailable": True,
        "Inactive": kind in {"HardBounce", "SpamComplaint"},
        "CanActivate": True,
        "Subject": "One outer-loop turn today?",
        "Content": "",
    }


def postmark_delivery(email: str, at: datetime) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Recipient": email,
        "Tag": "nudge",
        "DeliveredAt": _iso(at),
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {},
    }


def postmark_subscription_change(email: str, suppress: bool, reason: str | None) -> dict:
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": "2026-03-10T11:57:00Z",
        "Recipient": email,
        "Origin": "Recipient",
        "SuppressSending": suppress,
        "SuppressionReason": reason,
        "Tag": "nudge",
        "Metadata": {},
    }


def postmark_record(email: str, record: str) -> dict:
    """An open or a click (Postmark's Open and Click webhooks)."""
    return {
        "RecordType": record,
        "MessageStream": "outbound",
        "Recipient": email,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ReceivedAt": "2026-03-10T11:58:00Z",
        "Tag": "nudge",
        "Metadata": {},
        "UserAgent": "Mozilla/5.0",
        "OriginalLink": "https://example.com/",
    }


def mailgun_event(email: str, event: str, at: datetime | None = None, **fields) -> dict:
    """Mailgun's webhook body: `event-data` with `event` and `fields` (severity, reason…),
    signed the way Mailgun signs it (HMAC-SHA256 of timestamp + token)."""
    moment = (at or datetime(2026, 3, 10, 11, 57, tzinfo=UTC)).timestamp()
    timestamp, token = str(int(moment)), "1234567890abcdef1234567890abcdef" + event
    signature = hmac.new(
        MAILGUN_SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "recipient": email,
            "timestamp": moment,
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "log-level": "error" if event == "failed" else "info",
            "message": {
                "headers": {
                    "to": email,
                    "message-id": "20260310115700.1.0DF563D0B3597700@example.org",
                    "from": "loop@example.com",
                }
            },
            "delivery-status": {
                "attempt-no": 1,
                "code": 552 if fields.get("severity") == "permanent" else 452,
                "message": "4.2.2 The email account that you tried to reach is over quota.",
                "description": "",
            },
            "tags": ["nudge"],
            "user-variables": {},
            **fields,
        },
    }


def post(client: Client, provider: str, payload: dict | list):
    """POST `payload` to the provider's tracking webhook as the provider does."""
    return client.post(
        f"/anymail/{provider}/tracking/",
        data=json.dumps(payload),
        content_type="application/json",
        headers=basic_auth(WEBHOOK_SECRET),
    )


def sendgrid_event(email: str, event: str, **fields) -> list[dict]:
    """SendGrid's Event Webhook body: a list of events (one here)."""
    return [
        {
            "email": email,
            "timestamp": int(datetime(2026, 3, 10, 11, 57, tzinfo=UTC).timestamp()),
            "event": event,
            "sg_event_id": "sg_event_id_" + event,
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            **fields,
        }
    ]
