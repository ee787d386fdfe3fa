"""The mail provider of the fault tests: one file per accepted email, and a stall on request.

Selected in a subprocess by EMAIL_BACKEND=tests.mailbox.EmailBackend; it writes to
EMAIL_FILE_PATH. With OUTERLOOP_TEST_MAIL_STALL=<seconds>, the mailbox's first send leaves a
`sending-<pid>` marker, then hangs that long before the provider "accepts" the email: a
worker killed during the stall died in the middle of sending, with nothing delivered. Later
sends (the marker is there) go through at once.
"""

import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

STALL = "OUTERLOOP_TEST_MAIL_STALL"


def mailbox(directory: str | Path) -> list[str]:
    """Every accepted email's text, oldest file name first."""
    path = Path(directory)
    if not path.exists():
        return []
    return [item.read_text(errors="replace") for item in sorted(path.glob("*.eml"))]


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        directory = Path(settings.EMAIL_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        stall = float(os.environ.get(STALL) or 0)
        for message in email_messages:
            if stall and not any(directory.glob("sending-*")):
                (directory / f"sending-{os.getpid()}").write_text(message.subject)
                time.sleep(stall)
            # Written whole, then renamed: an email is in the box completely or not at all.
            name = f"{time.time_ns()}-{uuid.uuid4().hex}"
            partial = directory / f".{name}.tmp"
            partial.write_bytes(message.message().as_bytes())
            partial.rename(directory / f"{name}.eml")
        return len(email_messages)
