"""Test helpers importable without pytest (child processes use them too)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sdl_tracker.models import (
    Artifact,
    Predicate,
    Result,
    ResultStatus,
    Statement,
    Tool,
)

BASE_TIME = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)

_KINDS = (
    ("sast", "sast", Tool("bandit", "1.7.9"), ("SI-2", "SVV-3")),
    ("deps", "deps", Tool("pip-audit", "2.7.3"), ("SM-9", "DM-4", "SVV-3")),
    ("review", "review", Tool("git", "2.39.5"), ("SI-1",)),
    ("threat_model", "record", Tool("sdl-tracker", "0.1.0"), ("SR-2", "SD-4")),
)


_XDG = os.environ.get("XDG_CACHE_HOME", "")
#: The user's cache directory as the test run found it (tests/conftest.py then points
#: XDG_CACHE_HOME into the run's temporary directory): pip, virtualenv and pre-commit keep
#: their caches there, and the hook framework runs keep using them.
USER_CACHE = _XDG if os.path.isabs(_XDG) else os.path.expanduser("~/.cache")


def make_statement(
    i: int,
    artifacts: Iterable[Artifact] = (),
    *,
    note: str | None = None,
    status: ResultStatus = ResultStatus.PASS,
) -> Statement:
    """A realistic evidence statement (about 600 bytes of canonical JSON), varied by `i`."""
    kind, collector, tool, requirements = _KINDS[i % len(_KINDS)]
    commit = hashlib.sha1(f"commit {i}".encode()).hexdigest()
    tree = hashlib.sha1(f"tree {i // 3}".encode()).hexdigest()
    medium, low = i % 7, i % 13
    return Statement(
        commit=commit,
        artifacts=tuple(artifacts),
        predicate=Predicate(
            kind=kind,
            collector=collector,
            tool=tool,
            requirements=requirements,
            result=Result(
                status=status,
                summary=f"{medium} medium, {low} low findings",
                metrics={"medium": medium, "low": low},
            ),
            recorded_by="Ada Lovelace <ada@example.com>",
            recorded_at=BASE_TIME + timedelta(seconds=i),
            covers=("src",),
            inputs={"tree:src": tree},
            note=f"statement {i}" if note is None else note,
        ),
    )


def git(
    root: Path, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> str:
    """stdout of `git -C root args...` (checked), as text without the trailing newline."""
    proc = subprocess.run(
        ["git", "-C", str(root), *args],
        input=input,
        capture_output=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return proc.stdout.decode().rstrip("\n")


def run_pytest(directory: Path, test_file: str, suite: str) -> Path:
    """The JUnit report of a real pytest run of `suite`, written to `directory/test_file` (the
    sdl-tracker plugin loads from its entry point, as in a user's project). The run's own exit
    code is not checked: failing and skipped tests are what some reports are for."""
    path = directory / test_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(suite)
    report = directory / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"]
        + [f"--junitxml={report}", test_file],
        cwd=directory,
        env=env,
        capture_output=True,
        check=False,
    )
    return report
