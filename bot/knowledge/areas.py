"""The areas table: the counties the assistant knows, read from knowledge/areas.yml.

This module owns the list of areas. Nothing else in the code names a county as a
value: the ``area`` slot values, the county names passages are tagged with, the
words that tell a raw page's county, and the "Which area are you in?" buttons all
come from here. The file is read once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from bot.settings import REPO_ROOT

AREAS_FILE = REPO_ROOT / "knowledge" / "areas.yml"


@dataclass(frozen=True)
class Area:
    """One county: its slot value, its name and the words that name it."""

    slot: str
    name: str
    words: tuple[str, ...]
    also: tuple[str, ...] = ()

    def button(self) -> dict[str, str]:
        return {"title": self.name, "payload": _payload(self.slot)}

    def mentioned_in(self, text: str) -> bool:
        """True when the text names the county (any of its words, or other names)."""
        names = "|".join(re.escape(w) for w in self.words + self.also)
        return bool(re.search(rf"\b({names})\b", text, re.I))


@dataclass(frozen=True)
class Table:
    areas: tuple[Area, ...]
    elsewhere: str
    elsewhere_title: str


def _payload(slot: str) -> str:
    return '/inform_area{"area": "' + slot + '"}'


@lru_cache(maxsize=1)
def table() -> Table:
    """The areas file, read and checked once."""
    data = yaml.safe_load(AREAS_FILE.read_text(encoding="utf-8"))
    areas = tuple(
        Area(
            slot=str(a["slot"]),
            name=str(a["name"]),
            words=tuple(str(w) for w in a["words"]),
            also=tuple(str(w) for w in a.get("also") or ()),
        )
        for a in data["areas"]
    )
    if not areas or len({a.slot for a in areas}) != len(areas):
        raise ValueError(f"{AREAS_FILE}: no areas, or a slot value twice")
    return Table(areas, str(data["elsewhere"]["slot"]), str(data["elsewhere"]["title"]))


def areas() -> tuple[Area, ...]:
    """The counties, in button order."""
    return table().areas


def names() -> tuple[str, ...]:
    """The county names: ("Oxfordshire", ...)."""
    return tuple(a.name for a in areas())


def slots() -> tuple[str, ...]:
    """The counties' slot values: ("oxfordshire", ...)."""
    return tuple(a.slot for a in areas())


def slot_values() -> tuple[str, ...]:
    """Every value the ``area`` slot takes: the counties' and then "elsewhere"."""
    return slots() + (table().elsewhere,)


def by_slot(slot: str) -> Area:
    """The county with this slot value (KeyError if none)."""
    for area in areas():
        if area.slot == slot:
            return area
    raise KeyError(slot)


def name_of(slot: str | None) -> str | None:
    """The county name for a slot value ("cornwall" -> "Cornwall"), or None."""
    return next((a.name for a in areas() if a.slot == slot), None)


def slot_of(name: str | None) -> str | None:
    """The slot value for a county name ("Cornwall" -> "cornwall"), or None."""
    return next((a.slot for a in areas() if a.name == name), None)


def words() -> dict[str, tuple[str, ...]]:
    """Per county name, the words that name it in a page's text."""
    return {a.name: a.words for a in areas()}


def buttons() -> list[dict[str, str]]:
    """The "Which area are you in?" buttons: each county, then somewhere else."""
    found = [a.button() for a in areas()]
    found.append({"title": table().elsewhere_title, "payload": _payload(table().elsewhere)})
    return found
