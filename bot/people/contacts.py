"""The people and services the assistant hands over to, read from knowledge/contacts.yml.

Every contact detail the assistant gives comes from that file, where each entry names
its source. This module loads and checks the file, picks the right contact for an
area and a purpose, and writes it out in plain English, saying whether a line is open
now and, if not, when it opens and what is open instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.knowledge import areas
from bot.settings import get_settings

UK = ZoneInfo("Europe/London")
AREAS = areas.slot_values()  # the area slot's values, from knowledge/areas.yml
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# Open day and night: the crisis lines offered when a local line is closed.
ALWAYS_OPEN_FALLBACK = ("nhs_111_mental_health", "childline", "samaritans")


class ContactsError(ValueError):
    """knowledge/contacts.yml is missing a field or has one in the wrong form."""


@dataclass(frozen=True)
class Opening:
    """When a phone line answers, in UK time. ``days`` is None when the source gives no days."""

    opens: dt.time
    closes: dt.time
    days: tuple[str, ...] | None

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(UK)
        if self.days is not None and DAYS[local.weekday()] not in self.days:
            return False
        return self.opens <= local.time() < self.closes

    def describe(self) -> str:
        span = f"{_clock(self.opens)} to {_clock(self.closes)}"
        if self.days is None:
            return f"{span}; the source does not say which days"
        if self.days == DAYS[:5]:
            return f"{span}, Monday to Friday"
        return f"{span} on " + ", ".join(d.capitalize() for d in self.days)


@dataclass(frozen=True)
class Contact:
    id: str
    service: str
    area: str
    purposes: tuple[str, ...]
    phone: str | None
    text: str | None
    email: str | None
    web: str | None
    hours: str | None
    opening: Opening | None
    search_hint: str | None
    source_title: str
    source_publisher: str

    @property
    def always_open(self) -> bool:
        return bool(self.hours and "24 hours" in self.hours)

    def is_open(self, now: dt.datetime) -> bool | None:
        """True/False when the hours are known, None when the source gives none."""
        if self.always_open:
            return True
        if self.opening is None:
            return None
        return self.opening.is_open(now)

    def describe(self, now: dt.datetime | None = None) -> str:
        """One short paragraph: who, how to reach them, when, and where that came from."""
        now = now or dt.datetime.now(UK)
        ways = []
        if self.phone:
            ways.append(f"phone {self.phone}")
        if self.text:
            ways.append(self.text[0].lower() + self.text[1:])
        if self.email:
            ways.append(f"email {self.email}")
        if self.web:
            ways.append(f"website {self.web}")
        if ways:
            line = f"{self.service}: " + ", ".join(ways) + "."
        else:
            line = f"{self.service}: {self.search_hint or 'search your council local offer'}."
        if self.opening is not None and self.phone:
            if self.opening.is_open(now):
                line += f" The phone line is open now: {self.opening.describe()}."
            else:
                line += f" The phone line is closed now; it is open {self.opening.describe()}."
        elif self.always_open:
            line += " Open day and night."
        return line + f" (Source: {self.source_title}, {self.source_publisher}.)"


def _clock(value: dt.time) -> str:
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def _opening(raw: dict | None, contact_id: str) -> Opening | None:
    if raw is None:
        return None
    try:
        opens, closes = (_TIME.match(str(raw[key])) for key in ("from", "to"))
        if not opens or not closes:
            raise ContactsError(f"{contact_id}: opening times must be HH:MM")
        days = raw.get("days")
        if days is not None:
            days = tuple(str(d).lower()[:3] for d in days)
            if not set(days) <= set(DAYS):
                raise ContactsError(f"{contact_id}: unknown day in {raw['days']}")
        return Opening(
            dt.time(int(opens[1]), int(opens[2])),
            dt.time(int(closes[1]), int(closes[2])),
            days,
        )
    except KeyError as err:
        raise ContactsError(f"{contact_id}: opening needs {err}") from None


def _contact(raw: dict) -> Contact:
    cid = raw.get("id") or "<no id>"
    source = raw.get("source") or {}
    if not source.get("title") or not source.get("publisher"):
        raise ContactsError(f"{cid}: every contact must name its source")
    details = [raw.get(k) for k in ("phone", "text", "email", "web")]
    if not any(details) and not raw.get("search_hint"):
        raise ContactsError(f"{cid}: give a sourced detail or a search_hint")
    return Contact(
        id=cid,
        service=str(raw["service"]),
        area=str(raw["area"]),
        purposes=tuple(raw.get("purposes") or ()),
        phone=raw.get("phone"),
        text=raw.get("text"),
        email=raw.get("email"),
        web=raw.get("web"),
        hours=raw.get("hours"),
        opening=_opening(raw.get("opening"), cid),
        search_hint=raw.get("search_hint"),
        source_title=str(source["title"]),
        source_publisher=str(source["publisher"]),
    )


class Directory:
    """All contacts, looked up by id or by area and purpose."""

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self.by_id = {c.id: c for c in contacts}

    @classmethod
    def load(cls, path: Path | None = None) -> Directory:
        path = path or get_settings().knowledge_dir / "contacts.yml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls(_contact(raw) for raw in data["contacts"])
        except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as err:
            raise ContactsError(f"{path}: {err}") from err

    def __getitem__(self, contact_id: str) -> Contact:
        return self.by_id[contact_id]

    def find(self, purpose: str, area: str | None) -> list[Contact]:
        """Contacts for a purpose in an area (a county name, any case)."""
        wanted = (area or "").lower()
        return [
            c for c in self.by_id.values() if purpose in c.purposes and c.area.lower() == wanted
        ]

    def open_now_instead(self, now: dt.datetime) -> list[Contact]:
        """Lines open day and night, offered when the local one is closed."""
        return [self.by_id[cid] for cid in ALWAYS_OPEN_FALLBACK if cid in self.by_id]


@lru_cache(maxsize=1)
def directory() -> Directory:
    return Directory.load()


def normalise_area(value: object) -> str | None:
    """The slot value for an area ('oxfordshire' ...), or None if unknown."""
    text = str(value or "").strip().lower()
    return text if text in AREAS else None
