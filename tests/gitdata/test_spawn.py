from __future__ import annotations

from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.gitdata import spawn


def test_exit_code_and_stdout(git_repo: Path, tmp_path: Path) -> None:
    code, out = spawn.out(str(git_repo), "rev-parse", "--show-toplevel")
    assert (code, out.decode().strip()) == (0, str(git_repo))
    code, out = spawn.out(None, "--version")
    assert code == 0 and out.startswith(b"git version ")
    outside = tmp_path / "outside"
    outside.mkdir()
    code, out = spawn.out(str(outside), "rev-parse", "--show-toplevel")
    assert code != 0 and out == b""  # the caller asks again through gitdata.git for the message


def test_large_output_is_read_whole(git_repo: Path) -> None:
    """More than a pipe holds (64 KiB): read while git writes, no dead-lock, nothing lost."""
    (git_repo / "big.txt").write_text("x" * 300_000 + "\n")
    git(git_repo, "add", "big.txt")
    code, out = spawn.out(str(git_repo), "show", ":big.txt")
    assert (code, len(out)) == (0, 300_001)


def test_no_git_on_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert spawn.out(None, "--version") == (127, b"")
