"""knowledge/areas.yml is the one table of areas; the code and the domain follow it."""

from __future__ import annotations

import ast
import re

import yaml

from bot.knowledge import areas
from bot.settings import REPO_ROOT


def test_every_area_has_a_name_words_and_a_button_in_order():
    table = areas.areas()
    assert table, "no areas"
    buttons = areas.buttons()
    for area, button in zip(table, buttons, strict=False):
        assert area.name and area.slot and area.words
        assert button == {"title": area.name, "payload": f'/inform_area{{"area": "{area.slot}"}}'}
    assert len(buttons) == len(table) + 1
    assert buttons[-1]["payload"] == '/inform_area{"area": "elsewhere"}'
    assert areas.slot_values() == (*areas.slots(), "elsewhere")
    for area in table:
        assert areas.name_of(area.slot) == area.name
        assert areas.slot_of(area.name) == area.slot
    assert areas.name_of("elsewhere") is None and areas.slot_of("England") is None


def test_the_domains_area_slot_takes_the_tables_values():
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert tuple(domain["slots"]["area"]["values"]) == areas.slot_values()


def test_every_area_has_contacts_under_its_name():
    contacts = yaml.safe_load((REPO_ROOT / "knowledge" / "contacts.yml").read_text())
    named = {entry["area"] for entry in contacts["contacts"]}
    assert set(areas.names()) <= named


def _strings(tree: ast.AST) -> list[str]:
    """The string constants of a module, leaving out docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_table_is_the_only_place_the_code_lists_the_areas():
    # A copy of the table is a string that IS an area's slot value, name or word
    # ("Cornwall", "oxfordshire", "bucks"), or quotes one (a button payload). Text
    # that merely mentions a county (a topic's title, an article's slug, a contact
    # id such as "senss_oxfordshire") is content, not a list of areas.
    names = {w.lower() for a in areas.areas() for w in (a.slot, a.name, *a.words, *a.also)}
    quoted = re.compile(r"[\"'](" + "|".join(map(re.escape, names)) + r")[\"']", re.I)
    files = sorted((REPO_ROOT / "bot").rglob("*.py")) + sorted((REPO_ROOT / "actions").glob("*.py"))
    assert len(files) > 30
    copies = [
        f"{path.relative_to(REPO_ROOT)}: {text!r}"
        for path in files
        for text in _strings(ast.parse(path.read_text(encoding="utf-8")))
        if text.strip().lower() in names or quoted.search(text)
    ]
    assert copies == [], "areas named outside knowledge/areas.yml"
