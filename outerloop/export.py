"""Everything a builder owns, as one JSON document or a zip of CSVs, generated piece by piece.

The format is `outerloop-export/1`, documented in the README ("Your data"). Its tables and
their fields are fixed here: changing them means a new format version, never a silent change.
Ids are integers, datetimes ISO 8601 in UTC (`2026-03-10T12:00:00Z`), dates `YYYY-MM-DD`.
"""

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.db.models import QuerySet

from common.builders import EMAIL_SETTINGS, EMAIL_STATE, Builder
from common.mail import EmailClaim
from reactions.models import Reaction, Recipient, Share, Visit
from reactions.sharing import share_link
from sessions.models import BuildSession, Preview, PublishRequest

FORMAT = "outerloop-export/2"  # 2: recipients.note; CSVs start with a byte-order mark
CHUNK_ROWS = 500


@dataclass(frozen=True)
class Table:
    name: str
    fields: tuple[str, ...]
    rows: Callable[[Builder], QuerySet]  # the builder's own rows of the model
    # Fields computed from a row's stored ones (the rest are read with `.values()`).
    derived: Mapping[str, Callable[[dict], object]] = field(default_factory=dict)

    def records(self, builder: Builder) -> Iterator[dict]:
        """The builder's rows in this table's fields, oldest id first, read in chunks."""
        stored = [name for name in self.fields if name not in self.derived]
        rows = self.rows(builder).order_by("pk").values(*stored)
        for row in rows.iterator(chunk_size=CHUNK_ROWS):
            for name, compute in self.derived.items():
                row[name] = compute(row)
            yield {name: plain(row[name]) for name in self.fields}

    def count(self, builder: Builder) -> int:
        return self.rows(builder).count()


ACCOUNT = Table(
    "account",
    (
        "id",
        "email",
        "name",
        "time_zone",
        "day_start_hour",
        "rest_weekdays",
        "rest_day_history",
        *EMAIL_SETTINGS,
        *EMAIL_STATE,
        "date_joined",
        "last_login",
    ),
    lambda builder: Builder.objects.filter(pk=builder.pk),
)

# What the builder owns, parents before children. The account itself comes first, alone.
TABLES = [
    Table(
        "build_sessions",
        ("id", "title", "notes", "created_at"),
        lambda builder: BuildSession.objects.owned_by(builder),
    ),
    Table(
        "previews",
        (
            "id",
            "session_id",
            "url",
            "frameable",
            "created_at",
            "expires_at",
            "expired_at",
            "pulse_opens",
            "pulse_taps",
            "pulse_reactions",
        ),
        lambda builder: Preview.objects.owned_by(builder),
    ),
    Table(
        "publish_requests",
        (
            "id",
            "preview_id",
            "domain",
            "note",
            "status",
            "final_url",
            "operator_message",
            "created_at",
            "decided_at",
        ),
        lambda builder: PublishRequest.objects.owned_by(builder),
    ),
    Table(
        "recipients",
        ("id", "name", "note", "lives_with", "created_at"),
        lambda builder: Recipient.objects.owned_by(builder),
    ),
    Table(
        "shares",
        (
            "id",
            "preview_id",
            "recipient_id",
            "token",
            "link",
            "channel",
            "sent_at",
            "day",
            "fresh_link_requested_at",
            "fresh_link_notified_at",
        ),
        lambda builder: Share.objects.owned_by(builder),
        derived={"link": lambda row: share_link(Share(token=row["token"]))},
    ),
    Table(
        "visits",
        ("id", "share_id", "kind", "at", "device_class", "by_builder", "via_qr"),
        lambda builder: Visit.objects.filter(share__recipient__builder=builder),
    ),
    Table(
        "reactions",
        (
            "id",
            "share_id",
            "text",
            "chip",
            "created_at",
            "device_class",
            "by_builder",
            "counts",
            "notified_at",
        ),
        lambda builder: Reaction.objects.owned_by(builder),
    ),
    Table(
        "email_claims",
        ("id", "kind", "period", "status", "attempts", "created_at", "sent_at", "last_error"),
        lambda builder: EmailClaim.objects.filter(builder=builder),
    ),
]


def plain(value):
    """A stored value as JSON has it: datetimes in UTC with a Z, dates and times ISO 8601."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def owned_counts(builder: Builder) -> dict[str, int]:
    """How many rows of each table the builder owns (what deleting the account removes)."""
    return {table.name: table.count(builder) for table in TABLES}


def filename(builder: Builder, extension: str) -> str:
    return f"outerloop-export-{builder.local_now().date().isoformat()}.{extension}"


# JSON: one document, written a row at a time (one row per line).


def json_chunks(builder: Builder, exported_at: datetime) -> Iterator[str]:
    account = next(ACCOUNT.records(builder))
    head = {"format": FORMAT, "exported_at": plain(exported_at), "account": account}
    yield json.dumps(head, ensure_ascii=False, indent=1)[: -len("\n}")]  # keep it open
    for table in TABLES:
        yield f',\n "{table.name}": ['
        lines: list[str] = []
        separator = "\n  "
        for record in table.records(builder):
            lines.append(separator + json.dumps(record, ensure_ascii=False))
            separator = ",\n  "
            if len(lines) == CHUNK_ROWS:
                yield "".join(lines)
                lines.clear()
        yield "".join(lines) + ("]" if separator == "\n  " else "\n ]")
    yield "\n}\n"


# CSV: one file per table in a zip, compressed as it is written. Each file is UTF-8 and
# starts with a byte-order mark: without it Excel on Windows reads a CSV in the system's
# ANSI code page and shows "Zoë Ünal" as "ZoÃ« Ãœnal" (Microsoft's "Open UTF-8 CSV files in
# Excel" support article); with it, Excel, LibreOffice, Numbers and Python's "utf-8-sig"
# read it as UTF-8.
CSV_START = codecs.BOM_UTF8

# A spreadsheet runs a cell that starts like a formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`):
# text that starts so gets a leading apostrophe in the CSVs, as OWASP advises against CSV
# injection. The JSON keeps the exact text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Made by us from [A-Za-z0-9_-]: nothing a spreadsheet could run, kept exact.
VERBATIM = {"token"}


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return str(value)


def csv_chunks(table: Table, records: Iterable[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.fields)
    for index, record in enumerate(records, start=1):
        writer.writerow(
            [
                str(record[name]) if name in VERBATIM else csv_value(record[name])
                for name in table.fields
            ]
        )
        if index % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class _Pipe(io.RawIOBase):
    """Write-only: collects what `zipfile` writes until the response takes it."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_chunks(builder: Builder, exported_at: datetime) -> Iterator[bytes]:
    pipe = _Pipe()
    stamp = exported_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in [ACCOUNT, *TABLES]:
            info = zipfile.ZipInfo(f"{table.name}.csv", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as entry:
                entry.write(CSV_START)
                for text in csv_chunks(table, table.records(builder)):
                    entry.write(text.encode())
                    if data := pipe.drain():
                        yield data
    yield pipe.drain()
