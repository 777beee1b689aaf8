"""Every `sdl-tracker …` command shown in the shell examples of the README and of the manual
(`docs/**/*.md`) parses: the documentation never names a command or an option that does not
exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sdl_tracker.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = (README, *sorted((ROOT / "docs").rglob("*.md")))

# A ```sh fence, also indented inside a list item; the block ends at the closing fence.
_BLOCK = re.compile(r"^([ \t]*)```sh\n(.*?)^\1```", re.S | re.M)
_ENV = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")  # VAR=value before a command


def _commands(page: Path) -> list[str]:
    found = []
    for _, block in _BLOCK.findall(page.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            code = re.split(r"\s>>?\s", line.split(" #")[0])[0]  # drop comments, redirects
            for part in re.split(r"&&|\|\||;|\|", code):
                part = _ENV.sub("", part.strip())
                if part.startswith("sdl-tracker "):
                    found.append(part)
    return found


COMMANDS = [(page.relative_to(ROOT).as_posix(), c) for page in PAGES for c in _commands(page)]


def test_the_documentation_shows_many_commands() -> None:
    assert len(_commands(README)) >= 5  # the quickstart
    assert len(COMMANDS) >= 85
    pages = {page for page, _ in COMMANDS}
    assert {"docs/commands/ledger.md", "docs/collectors/deps.md", "docs/ci.md"} <= pages


def test_indented_blocks_and_environment_prefixes_are_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "1. A step:\n\n   ```sh\n   sdl-tracker collect --only deps  # x\n   ```\n\n"
        "```sh\nSDL_TRACKER_POLICY=p.yaml sdl-tracker gate\n```\n"
    )
    assert _commands(page) == ["sdl-tracker collect --only deps", "sdl-tracker gate"]


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[f"{p}: {c}" for p, c in COMMANDS])
def test_documented_command_parses(page: str, command: str) -> None:
    _, unknown = build_parser().parse_known_args(shlex.split(command)[1:])
    assert unknown == [], f"{page}: {command!r}: unknown {unknown}"


def test_the_requirement_table_is_generated_from_the_shipped_policy_and_catalogue() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "readme_table", ROOT / "scripts" / "readme_table.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    from sdl_tracker.policy import load

    text = README.read_text(encoding="utf-8")
    policy = load.load("iec62443-4-1")
    assert script.render(text, policy) == text, (
        "README.md's requirement table is out of date: run `python scripts/readme_table.py`"
    )
    rows = [
        line
        for line in script.table(policy).splitlines()
        if line.startswith("| ") and "-" in line.split("|")[1]
    ]
    assert [row.split("|")[1].strip() for row in rows] == list(policy.catalog.ids())
    assert all(row.count("|") == 5 and row.split("|")[4].strip() for row in rows)
    assert len(text.splitlines()) < 250
