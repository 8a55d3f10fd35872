"""Turn raw web pages (HTML, plain text, Markdown) into titled sections.

``python -m bot.knowledge.ingest --raw PATH...`` and the ``SENBOT_EXTRA_SOURCES`` setting
feed pages saved from council and school sites straight into the index, next to
the articles written in our own words. A page is read, its site furniture dropped,
and its text cut into sections under its headings; :mod:`bot.knowledge.ingest` splits the
sections into passages and embeds them.

HTML is parsed with Beautiful Soup. Site furniture goes in two steps:

1. whole elements: ``nav``, ``header``, ``footer``, ``aside``, ``script``,
   ``style``, ``form``, ``button``, ``noscript``, ``iframe``, ``svg``, anything with
   a navigation / banner / search role, and anything whose ``id`` or ``class``
   names a cookie banner, breadcrumb, share links, a rating or feedback widget,
   a skip link or a print link (:data:`FURNITURE_ATTR`);
2. lines of text, in every kind of page: :data:`FURNITURE_LINES`, the one list of
   phrases that are never knowledge ("Print entire guide", "Skip to main content",
   "Was this page useful?", rating words, cookie notices, "This site is no longer
   maintained" banners, "Share this page", breadcrumbs "Home > ...").

About 340 lines, over the house's 300: the cleaning rules above are one pipeline,
tested page by page (``tests/bot/test_ingest_raw.py``), and read best in order.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import areas

RAW_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
COUNTIES = areas.words()  # county name -> words naming it, from knowledge/areas.yml

# Elements that are never the page's content.
FURNITURE_TAGS = (
    "nav",
    "header",
    "footer",
    "aside",
    "script",
    "style",
    "form",
    "button",
    "noscript",
    "iframe",
    "svg",
    "template",
    "select",
)
FURNITURE_ROLES = ("navigation", "banner", "contentinfo", "search", "dialog")
FURNITURE_ATTR = re.compile(
    r"cookie|consent|breadcrumb|\bshare\b|social|rating|feedback|\bskip|\bprint\b|"
    r"page-?useful|was-?this|banner|sidebar|site-?(header|footer|nav)",
    re.IGNORECASE,
)

# Lines of text that are site furniture, whatever the page format. Each is a
# regular expression matched against a whole line (case-insensitive, after
# trimming spaces and bullets).
FURNITURE_LINES = [
    r"print( entire guide| this page| page)?",
    r"print\s*print\b.*",  # "PrintPrint Give us feedback ..."
    r"(access key details )?skip to (main )?content\b.*",
    r"(was|is) this (page|information|article) (useful|helpful)\??.*",
    r"rate this (page|article|service).*",
    r"(give us )?feedback( on this page)?\b.*",
    r"(very )?(poor|good)|neither good nor poor|excellent|average",
    r"yes|no|not sure",  # answers of a rating widget
    r"this (site|website|page) is no longer (maintained|updated)\b.*",
    r"this website should only be accessed for\b.*",
    r"we use (cookies|some essential cookies)\b.*",
    r"(accept|reject|manage) (all )?(additional )?cookies.*",
    r".*\bcookies? (settings|policy|preferences)\b.*",
    r"share (this|on)\b.*",
    r"(facebook|twitter|x|linkedin|email|whatsapp)( share)?",
    r"home\s*(>|›|»|/)\s*.*",  # breadcrumbs
    r"you are here:?.*",
    r"back to top",
    r"continue reading",
    r"last (updated|reviewed):?",
    r"(open|close) (all|menu)|menu|search( this site)?",
    r"(previous|next)( page| section)?:?",
]
_FURNITURE = re.compile(r"^(?:" + "|".join(FURNITURE_LINES) + r")$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·‣◦▪–]|\d+[.)])\s+")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
_PUBLISHER = re.compile(r"\b((?:[A-Z][a-z]+ )+(?:County |City |Borough )?Council)\b")


class PageError(ValueError):
    """The page has nothing usable in it; the message says why."""


@dataclass
class Page:
    """A cleaned page: its title, publisher, area and sections under headings."""

    title: str
    publisher: str = ""
    area: str = "England"
    sections: list[tuple[str, list[str]]] = field(default_factory=list)


def is_furniture(line: str) -> bool:
    """True for a line of site furniture (see :data:`FURNITURE_LINES`)."""
    text = _BULLET.sub("", clean(line)).strip(" .:|")
    return not text or bool(_FURNITURE.match(text))


def clean(text: str) -> str:
    """One line with its spaces (including non-breaking ones) collapsed."""
    return _SPACES.sub(" ", text).strip()


def decode(path: Path) -> str:
    """The file's text.

    Raises:
        PageError: The file is empty, binary, or not UTF-8 (or Windows-1252) text.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise PageError("the file is empty")
    if b"\0" in raw[:8192]:
        raise PageError("looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # Pages saved on Windows are often cp1252; anything else is rejected
        # rather than turned into mojibake.
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise PageError(f"is not UTF-8 text (byte {err.start})") from err
        if sum(not (c.isprintable() or c.isspace()) for c in text) > len(text) / 100:
            raise PageError(f"is not UTF-8 text (byte {err.start})") from err
        return text


def read_page(path: Path) -> Page:
    """Read and clean one raw page.

    Raises:
        PageError: The file is empty, binary, undecodable or has no text once
            the furniture is dropped.
    """
    text = decode(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        title, publisher, blocks = _html_blocks(text)
    elif suffix in (".md", ".markdown"):
        title, publisher, blocks = _markdown_blocks(text)
    else:
        title, publisher, blocks = _text_blocks(text)
    sections = _sections(blocks)
    if not sections:
        raise PageError("has no text left once site furniture is removed")
    body = " ".join(" ".join(lines) for _, lines in sections)
    if not title:
        title = sections[0][0] or path.stem
    title, _, suffix_publisher = (part.strip() for part in title.partition(" | "))
    publisher = publisher or suffix_publisher or _guess_publisher(body)
    return Page(
        title=title, publisher=publisher, area=guess_area(f"{title} {body}"), sections=sections
    )


def guess_area(text: str) -> str:
    """The county a page is about (the one it names most), else ``England``."""
    words = Counter(re.findall(r"[a-z]+", text.lower()))
    counts = {county: sum(words[name] for name in names) for county, names in COUNTIES.items()}
    best = max(counts, key=lambda county: counts[county])
    return best if counts[best] else "England"


def _guess_publisher(text: str) -> str:
    found = Counter(_PUBLISHER.findall(text))
    return found.most_common(1)[0][0] if found else ""


# A block is ("h", heading) or ("p", text).
Blocks = list[tuple[str, str]]


def _html_blocks(text: str) -> tuple[str, str, Blocks]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title = clean(soup.title.get_text()) if soup.title else ""
    publisher = ""
    publisher_meta: tuple[dict[str, Any], ...] = (
        {"property": "og:site_name"},
        {"name": "publisher"},
        {"name": "DC.publisher"},
        {"name": "author"},
    )
    for attrs in publisher_meta:
        meta = soup.find("meta", attrs=attrs)
        if meta and meta.get("content"):
            publisher = clean(str(meta["content"]))
            break
    for tag in soup(list(FURNITURE_TAGS)):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        role = str(tag.get("role") or "").lower()
        names = " ".join(
            [str(tag.get("id") or ""), *(tag.get("class") or []), str(tag.get("aria-label") or "")]
        )
        if role in FURNITURE_ROLES or (names.strip() and FURNITURE_ATTR.search(names)):
            tag.decompose()
    root = soup.find("main") or soup.find(None, {"role": "main"}) or soup.body or soup
    blocks: Blocks = []
    for tag in root.find_all(
        [
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "p",
            "li",
            "dt",
            "dd",
            "td",
            "th",
            "pre",
            "blockquote",
            "div",
        ]
    ):
        if tag.name == "div" and tag.find(
            ["p", "li", "h1", "h2", "h3", "h4", "div", "table", "ul", "ol", "dl"]
        ):
            continue  # a wrapper: its children are read instead
        if tag.name in ("p", "blockquote") and tag.find_parent("li"):
            continue  # read as part of its list item
        kind = "h" if tag.name[0] == "h" and tag.name[1:].isdigit() else "p"
        for br in tag.find_all("br"):
            br.replace_with("\n")
        for line in tag.get_text(" ").split("\n" if tag.name == "pre" else "\n\n"):
            line = clean(" ".join(line.split()))
            if line:
                blocks.append((kind, line))
    if not title:
        h1 = root.find("h1")
        title = clean(h1.get_text(" ")) if h1 else ""
    return title, publisher, blocks


def _markdown_blocks(text: str) -> tuple[str, str, Blocks]:
    meta: dict = {}
    if text.startswith("---"):
        try:
            _, front, text = text.split("---", 2)
            meta = yaml.safe_load(front) or {}
        except (ValueError, yaml.YAMLError):
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
    blocks: Blocks = []
    for line in text.splitlines():
        line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)  # images
        line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)  # links keep their text
        line = re.sub(r"(\*\*|__|`)", "", line)
        heading = re.match(r"^\s*#{1,6}\s+(.*)", line)
        if heading:
            blocks.append(("h", clean(heading.group(1).strip("# "))))
        elif clean(line):
            blocks.append(("p", clean(line)))
    title = str(meta.get("title") or "")
    if not title and blocks and blocks[0][0] == "h":
        title = blocks[0][1]
    return title, str(meta.get("source_publisher") or meta.get("publisher") or ""), blocks


def _looks_like_heading(line: str) -> bool:
    """A plain-text heading: a short line on its own, not a sentence or a bullet."""
    if _BULLET.match(line) or len(line.split()) > 12 or len(line) < 3:
        return False
    if line[-1] in ".,;:!" or not (line[0].isupper() or line[0].isdigit()):
        return False
    return not re.search(r"\b\d{4,5} ?\d{3} ?\d{3,4}\b|@", line)  # not a contact line


def _text_blocks(text: str) -> tuple[str, str, Blocks]:
    lines = [clean(line) for line in text.splitlines()]
    blocks: Blocks = []
    for line in lines:
        if line:
            blocks.append(("h" if _looks_like_heading(line) else "p", line))
    # The first real line is the page title: it heads the first section, once.
    first = next((i for i, (_, line) in enumerate(blocks) if not is_furniture(line)), None)
    if first is None:
        return "", "", blocks
    title = blocks[first][1]
    name = title.partition(" | ")[0].strip()
    rest = [b for b in blocks[first + 1 :] if not (b[0] == "h" and b[1] == name)]
    return title, "", [("h", name)] + rest


def _sentence(line: str) -> str:
    """A list item or short line, ended so that it reads as its own sentence."""
    line = _BULLET.sub("", line).strip()
    return line if line[-1:] in ".!?:;" else f"{line}."


def _sections(blocks: Blocks) -> list[tuple[str, list[str]]]:
    """Group blocks under headings, dropping furniture.

    A heading with nothing under it before the next heading (for example the
    items of a list whose bullets were lost) is kept as text of the next section,
    so no words are lost.
    """
    sections: list[tuple[str, list[str]]] = []
    heading = ""
    lines: list[str] = []
    pending: list[str] = []
    for kind, text in blocks:
        if is_furniture(text):
            continue
        if kind == "h":
            if lines:
                sections.append((heading, lines))
                heading, lines = text, []
            elif heading and sections:
                pending.append(heading)
                heading = text
            else:
                heading = text
        else:
            lines.extend(_sentence(p) for p in pending)
            pending = []
            lines.append(_sentence(text))
    if lines:
        sections.append((heading, lines))
    return [(h, ls) for h, ls in sections if ls]
