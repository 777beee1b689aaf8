"""The ready-to-copy CI definitions in docs/ci/ use commands and options that exist, pin their
actions by commit and grant the least permissions."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdl_tracker.cli.main import build_parser

CI = Path(__file__).resolve().parents[1] / "docs" / "ci"
GITHUB = yaml.safe_load((CI / "github-actions.yml").read_text())
GITLAB = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _github_scripts() -> Iterator[str]:
    for job in GITHUB["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                yield step["run"]


def _gitlab_scripts() -> Iterator[str]:
    for job in GITLAB.values():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                yield from job.get(key, [])


def commands(scripts: Iterator[str]) -> list[list[str]]:
    """Every `sdl-tracker ...` command of the scripts, as argument lists."""
    found = []
    for script in scripts:
        for line in script.replace("\\\n", " ").splitlines():
            for part in re.split(r"&&|\|\||;|\|", line):
                words = shlex.split(part, comments=True)
                if words and words[0] == "sdl-tracker":
                    found.append(words[1:])
    return found


COMMANDS = [("github", c) for c in commands(_github_scripts())] + [
    ("gitlab", c) for c in commands(_gitlab_scripts())
]


def test_both_definitions_gate_pull_requests_and_release_tags() -> None:
    for source in ("github", "gitlab"):
        ci = [c for s, c in COMMANDS if s == source and c[0] == "ci"]
        assert any("--no-push" in c for c in ci), f"{source}: no read-only gate for PRs"
        assert any("--release" in c and "--no-push" not in c for c in ci), f"{source}: no release"
        assert all("--remote" in c for c in ci), f"{source}: the ledger is not shared"


@pytest.mark.parametrize(("source", "argv"), COMMANDS, ids=[" ".join(c) for _, c in COMMANDS])
def test_every_command_and_option_exists(source: str, argv: list[str]) -> None:
    try:
        args, unknown = build_parser().parse_known_args(argv)
    except SystemExit:  # argparse already said what is wrong on stderr
        pytest.fail(f"{source}: `sdl-tracker {' '.join(argv)}` does not parse")
    assert unknown == [], f"{source}: unknown options {unknown} in `sdl-tracker {' '.join(argv)}`"
    assert args.command == argv[0]


def _uses(data: Any) -> Iterator[str]:
    for job in data["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                yield step["uses"]


def test_github_actions_are_pinned_by_commit() -> None:
    uses = list(_uses(GITHUB))
    assert uses
    for action in uses:
        assert _PINNED.match(action), f"{action}: pin it by a full 40-hex commit id"


def test_github_permissions_are_least() -> None:
    assert GITHUB["permissions"] == {}
    for name, job in GITHUB["jobs"].items():
        granted = job.get("permissions", {})
        assert set(granted.values()) <= {"read", "write"}, name
        pushes = granted.get("contents") == "write"
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@") and not pushes:
                assert step["with"]["persist-credentials"] is False, name


def test_gitlab_reports_junit() -> None:
    reports = [
        job["artifacts"]["reports"]["junit"]
        for job in GITLAB.values()
        if isinstance(job, dict) and "reports" in job.get("artifacts", {})
    ]
    assert reports == ["sdl-reports/junit.xml"]
