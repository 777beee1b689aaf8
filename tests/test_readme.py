"""Every `sdl-tracker …` command shown in the README's shell examples parses: the manual never
names a command or an option that does not exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sdl_tracker.cli.main import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[str]:
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            code = re.split(r"\s>>?\s", line.split(" #")[0])[0]  # drop comments, redirects
            for part in re.split(r"&&|\|\||;|\|", code):
                part = part.strip()
                if part.startswith("sdl-tracker "):
                    found.append(part)
    return found


def test_the_readme_shows_many_commands() -> None:
    assert len(_commands()) >= 30


@pytest.mark.parametrize("command", _commands())
def test_readme_command_parses(command: str) -> None:
    _, unknown = build_parser().parse_known_args(shlex.split(command)[1:])
    assert unknown == [], f"{command!r}: unknown {unknown}"
