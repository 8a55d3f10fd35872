"""Where an answer came from: the source line, its link and the old-page clause.

Every knowledge answer names its source. The article's front matter gives the
page's address (``source_url``), its own date (``source_date``: a date, or
``undated``) and its status (``source_status``); ingest copies them onto each
passage. At answer time :func:`caveat` turns them into one short clause:

- a page marked no longer maintained (``source_status``, or a publisher that says
  so): "page no longer maintained: check it is still current";
- a page dated :data:`MAX_AGE_YEARS` years or more before today: "page from 2018:
  check it is still current";
- nothing for legislation in force (``source_status: in force``: its date is when
  it was made, its text is current), for recent pages, and for undated ones. Most
  seed pages carry no date at all, so "undated" on most answers would be noise
  that says nothing about the page being out of date; ``python -m bot audit``
  lists undated sources for staff instead.

:mod:`bot.knowledge.audit` uses the same date rules, so "old" means the same thing to the
audit and to the person reading the answer. Imports nothing beyond the standard
library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

MAX_AGE_YEARS = 3
UNMAINTAINED = "no longer maintained"
IN_FORCE = "in force"


class Cited(Protocol):
    """What a source line needs of a passage (a ``Hit`` or a ``Passage``)."""

    # Read-only (properties), so that a frozen ``Hit`` qualifies as well as a ``Passage``.
    @property
    def slug(self) -> str: ...
    @property
    def heading(self) -> str: ...
    @property
    def area(self) -> str: ...
    @property
    def source_title(self) -> str: ...
    @property
    def source_publisher(self) -> str: ...
    @property
    def source_url(self) -> str: ...
    @property
    def source_date(self) -> str: ...
    @property
    def source_status(self) -> str: ...
    @property
    def no_longer_maintained(self) -> bool: ...


def parse_date(value: object) -> dt.date | None:
    """A date from front matter: a YAML date, or 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'.

    Returns:
        The date, or None for ``undated``, an empty value or anything unreadable.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def date_text(value: object) -> str:
    """A front-matter date as stored in the index: ISO date, 'undated' or ''."""
    found = parse_date(value)
    if found is not None:
        return found.isoformat()
    return str(value or "").strip()


def years_between(earlier: dt.date, later: dt.date) -> int:
    """Whole years from ``earlier`` to ``later`` (as an age is counted)."""
    before_birthday = (later.month, later.day) < (earlier.month, earlier.day)
    return later.year - earlier.year - before_birthday


def is_unmaintained(status: object, publisher: object = "") -> bool:
    """True when the source's status or publisher says it is no longer maintained."""
    return UNMAINTAINED in f"{status or ''} {publisher or ''}".lower()


def caveat(
    source_date: str,
    status: str = "",
    no_longer_maintained: bool = False,
    today: dt.date | None = None,
) -> str:
    """The clause an answer from this page carries, or "" when it needs none.

    Args:
        source_date: The page's own date as in the index ('2018-03-08',
            'undated' or '').
        status: ``source_status`` from the front matter ('in force', ...).
        no_longer_maintained: The page is marked no longer maintained.
        today: The date to measure from; today when not given.

    Returns:
        "page no longer maintained: check it is still current", "page from
        YYYY: check it is still current", or "".
    """
    if no_longer_maintained or is_unmaintained(status):
        return "page no longer maintained: check it is still current"
    dated = parse_date(source_date)
    if dated is None or str(status).strip().lower() == IN_FORCE:
        return ""
    if years_between(dated, today or dt.date.today()) >= MAX_AGE_YEARS:
        return f"page from {dated.year}: check it is still current"
    return ""


def http_url(value: str) -> str:
    """The address if it is an http or https one, otherwise ""."""
    value = (value or "").strip()
    return value if value.lower().startswith(("http://", "https://")) else ""


def source_json(hit: Cited, today: dt.date | None = None) -> dict[str, Any]:
    """The source as custom data for clients (the widget shows ``url`` as a link)."""
    return {
        "title": hit.source_title,
        "publisher": hit.source_publisher,
        "area": hit.area,
        "article": hit.slug,
        "heading": hit.heading,
        "url": http_url(hit.source_url),
        "date": hit.source_date,
        "caveat": caveat(hit.source_date, hit.source_status, hit.no_longer_maintained, today),
    }


def source_line(hit: Cited, today: dt.date | None = None) -> str:
    """The source as one line of text, for clients that show text only.

    ``Source: title - publisher (area)``, then the address when there is one and
    the old-page clause when it applies, e.g. ``Source: Introduction to SEND ... -
    Oxfordshire County Council (England) (page from 2018: check it is still
    current)``.
    """
    data = source_json(hit, today)
    line = f"Source: {data['title']} - {data['publisher']} ({data['area']})"
    if data["url"]:
        line += f" {data['url']}"
    if data["caveat"]:
        line += f" ({data['caveat']})"
    return line
