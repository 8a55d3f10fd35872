"""The README's file map must describe files that exist."""

import re

from bot.settings import REPO_ROOT


def file_map_paths() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## File map", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\s*[-*] `([^`]+)`", section, flags=re.MULTILINE)


def test_file_map_lists_paths():
    assert len(file_map_paths()) >= 15


def test_every_path_in_the_file_map_exists():
    missing = [p for p in file_map_paths() if not (REPO_ROOT / p.rstrip("/")).exists()]
    assert missing == [], f"README lists paths that do not exist: {missing}"


def test_readme_gives_the_two_commands_first():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("make run") < text.index("make test") < text.index("## File map")
