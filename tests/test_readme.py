"""The README's file map and the code agree both ways.

Every path the map lists exists; every top-level folder has its own line; every Python
module under the code folders has its own line (an ``__init__.py`` is covered by its
folder's line). The README's details live in ``docs/``, whose links must resolve.
"""

import fnmatch
import re
from pathlib import Path

from bot.settings import REPO_ROOT

README = REPO_ROOT / "README.md"
CODE_FOLDERS = ("bot", "actions", "channels", "web_widget", "nlu_components", "benchmarks")


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def file_map_paths() -> list[str]:
    section = readme_text().split("## File map", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\s*[-*] `([^`]+)`", section, flags=re.MULTILINE)


def ignored_names() -> list[str]:
    """Top-level names git ignores (simple patterns of .gitignore), and .git itself."""
    patterns = [".git"]
    for line in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "/" not in line.rstrip("/"):
            patterns.append(line.rstrip("/"))
    return patterns


def is_ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in ignored_names())


def top_level_folders() -> list[str]:
    return sorted(
        f"{p.name}/" for p in REPO_ROOT.iterdir() if p.is_dir() and not is_ignored(p.name)
    )


def modules() -> list[str]:
    found = []
    for folder in CODE_FOLDERS:
        for path in (REPO_ROOT / folder).rglob("*.py"):
            relative = path.relative_to(REPO_ROOT)
            if path.name == "__init__.py" or any(is_ignored(p) for p in relative.parts):
                continue
            found.append(relative.as_posix())
    return sorted(found)


def test_file_map_lists_paths():
    assert len(file_map_paths()) >= 15


def test_every_path_in_the_file_map_exists():
    missing = [p for p in file_map_paths() if not (REPO_ROOT / p.rstrip("/")).exists()]
    assert missing == [], f"README's file map lists paths that do not exist: {missing}"


def test_every_top_level_folder_has_its_own_line():
    listed = {p if p.endswith("/") else f"{p}/" for p in file_map_paths()}
    unlisted = [folder for folder in top_level_folders() if folder not in listed]
    assert unlisted == [], (
        f"top-level folders missing from README's file map: {unlisted} "
        "(add a line `- \\`folder/\\` what it holds`, or ignore the folder in .gitignore)"
    )


def test_every_module_has_its_own_line():
    listed = set(file_map_paths())
    unlisted = [module for module in modules() if module not in listed]
    assert unlisted == [], (
        f"Python modules missing from README's file map: {unlisted} "
        "(add a line `- \\`path.py\\` what it does` under its folder)"
    )


def test_the_checks_see_the_code():
    # Guards the two tests above against passing because they found nothing.
    assert {"bot/", "tests/", "docs/"} <= set(top_level_folders())
    assert "bot/settings.py" in modules() and "bot/__init__.py" not in modules()


def test_readme_gives_the_two_commands_first():
    text = readme_text()
    assert text.index("make run") < text.index("make test") < text.index("## File map")


def test_links_in_the_readme_and_docs_resolve():
    broken = []
    for page in [README, *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{page.relative_to(REPO_ROOT)} -> {target}")
    assert broken == [], f"links to files that do not exist: {broken}"


def test_readme_is_short_enough_to_read_in_ten_minutes():
    size = len(readme_text().encode("utf-8"))
    assert size <= 10_000, f"README.md is {size} bytes; move details into docs/"


def test_docs_pages_in_the_readme_exist():
    linked = set(re.findall(r"\]\(docs/([^)#]+)", readme_text()))
    pages = {p.name for p in (REPO_ROOT / "docs").glob("*.md")}
    assert pages <= linked, f"docs pages the README does not point to: {sorted(pages - linked)}"
    assert all(Path(REPO_ROOT / "docs" / name).exists() for name in linked)
