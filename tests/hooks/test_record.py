from __future__ import annotations

from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main as cli
from sdl_tracker.hooks import _marker, commit_msg, record
from sdl_tracker.workspace import open_workspace

from .framework import Run


def _hook_runs(root: Path) -> list[tuple[str, str]]:
    return [
        (e.statement().predicate.result.status.value, e.statement().predicate.result.summary)
        for e in ledger.entries(open_workspace(root).store())
        if e.statement().predicate.kind == "hook_run"
    ]


def test_framework_records_that_the_hooks_ran(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["post-commit-pass"]
    assert run.status("sdl-record") == "Passed"
    head = git(run.repo, "rev-parse", "HEAD")
    assert _hook_runs(run.repo) == [("pass", f"hooks ran on {head[:10]}")]


def test_framework_records_a_bypass_and_fails(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["post-commit-fail"]
    assert run.status("sdl-record") == "Failed"
    assert "(git commit --no-verify?)" in run.section("sdl-record")
    assert [status for status, _ in _hook_runs(run.repo)] == ["fail"]


@pytest.fixture
def repo(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.chdir(git_repo)
    assert cli(["init", "-C", str(git_repo)]) == 0
    capsys.readouterr()
    return git_repo


def _commit(repo: Path, name: str) -> str:
    (repo / name).write_text(f"{name}\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD")


def test_the_marker_decides(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    (repo / "sub").mkdir()
    (repo / "sub" / "MSG").write_text("checked\n")
    monkeypatch.chdir(repo / "sub")  # the marker is found from a subdirectory too
    assert commit_msg.main(["MSG"]) == 0  # sdl-commit-msg marks the tree it accepted
    monkeypatch.chdir(repo)
    git(repo, "commit", "-q", "-m", "checked")
    assert record.main([]) == 0
    second = _commit(repo, "b.txt")  # no marker: --no-verify
    assert record.main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"sdl-record: ledger entry 2: hooks were bypassed on {second[:10]} " + (
        "(git commit --no-verify?)"
    )
    assert [s for s, _ in _hook_runs(repo)] == ["pass", "fail"]


def test_a_marker_for_another_tree_does_not_count(repo: Path) -> None:
    _marker.write(repo)  # the tree of the previous commit
    _commit(repo, "c.txt")
    assert record.main([]) == 1


def test_commits_replayed_by_a_rebase_are_info(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _commit(repo, "d.txt")
    rebase = Path(git(repo, "rev-parse", "--absolute-git-dir")) / "rebase-merge"
    rebase.mkdir()
    assert record.main([]) == 0
    assert f"{head[:10]} was made by git rebase" in capsys.readouterr().out
    assert [s for s, _ in _hook_runs(repo)] == ["info"]


def test_without_a_ledger_nothing_is_recorded(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(git_repo)
    assert record.main([]) == 0
    assert "no ledger in this repository (run `sdl-tracker init`)" in capsys.readouterr().out
