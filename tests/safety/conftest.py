"""Loads the safety message sets (YAML, grouped by kind of message)."""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parents[2] / "evaluation" / "safety"


def messages(name: str) -> list[str]:
    """Every message in evaluation/safety/<name>.yml, across its groups."""
    data = yaml.safe_load((HERE / f"{name}.yml").read_text(encoding="utf-8"))
    return [str(m) for group in data.values() for m in group]


def groups(name: str) -> dict[str, list[str]]:
    """The messages of evaluation/safety/<name>.yml by group."""
    data = yaml.safe_load((HERE / f"{name}.yml").read_text(encoding="utf-8"))
    return {group: [str(m) for m in items] for group, items in data.items()}
