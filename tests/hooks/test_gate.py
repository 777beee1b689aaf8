from __future__ import annotations

import io
from pathlib import Path

import pytest
from evidence_factory import only
from helpers import git
from identity import approved_policy

from sdl_tracker import ledger
from sdl_tracker.cli.main import main as cli
from sdl_tracker.hooks import gate
from sdl_tracker.workspace import open_workspace

from .framework import Run

ZERO = "0" * 40
SHA = "a" * 40


def test_framework_lets_a_passing_release_through(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-push-pass"]
    assert run.status("sdl-gate") == "Passed"
    assert "gate v1.0: PASSED" in run.section("sdl-gate")


def test_framework_refuses_a_failing_release(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-push-fail"]
    section = run.section("sdl-gate")
    assert run.status("sdl-gate") == "Failed"
    assert "SM-4   Security expertise" in section and "Missing" in section
    assert "sdl-gate: the release gate failed for v1.0: push refused." in section


def test_pushed_refs_from_git_stdin_leave_deletions_out() -> None:
    lines = [
        f"refs/heads/main {SHA} refs/heads/main {ZERO}\n",
        f"refs/tags/v1.0 {SHA} refs/tags/v1.0 {ZERO}\n",
        f"(delete) {ZERO} refs/tags/v0.9 {SHA}\n",
    ]
    refs = gate.pushed_refs(refs=(), remote="origin", environ={}, stdin=lines)
    assert refs == ["refs/heads/main", "refs/heads/main", "refs/tags/v1.0", "refs/tags/v1.0"]
    assert gate.release_tags(refs, "v*") == ["v1.0"]


def test_pushed_refs_under_pre_commit_and_by_hand() -> None:
    env = {"PRE_COMMIT_LOCAL_BRANCH": "refs/tags/v2.0", "PRE_COMMIT_REMOTE_BRANCH": "refs/tags/v2"}
    assert gate.pushed_refs(refs=(), remote=None, environ=env, stdin=()) == [
        "refs/tags/v2.0",
        "refs/tags/v2",
    ]
    assert gate.pushed_refs(refs=["refs/tags/x"], remote="o", environ=env, stdin=()) == [
        "refs/tags/x"
    ]
    assert gate.pushed_refs(refs=(), remote=None, environ={}, stdin=["ignored"]) == []
    assert gate.release_tags(["refs/tags/v1", "refs/tags/nightly", "refs/heads/v2"], "v*") == ["v1"]


@pytest.fixture
def repo(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.chdir(git_repo)
    for name in ("PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_REMOTE_BRANCH"):
        monkeypatch.delenv(name, raising=False)
    (git_repo / ".sdl-tracker.toml").write_text('policy = "policy.yaml"\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "config")
    assert cli(["init", "-C", str(git_repo)]) == 0
    approved_policy(git_repo, "extends: iec62443-4-1\n" + only("SM-4"), "policy.yaml")
    git(git_repo, "tag", "v1.0")
    capsys.readouterr()
    return git_repo


def _push(monkeypatch: pytest.MonkeyPatch, *refs: str) -> int:
    lines = "".join(f"{r} {SHA} {r} {ZERO}\n" for r in refs)
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    return gate.main(["--remote", "origin", "file:///srv/remote.git"])


def _verdicts(root: Path) -> int:
    entries = ledger.entries(open_workspace(root).store())
    return sum(e.statement().predicate.kind == "release_gate_record" for e in entries)


def test_a_failing_release_tag_refuses_the_push(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _push(monkeypatch, "refs/heads/main", "refs/tags/v1.0") == 1
    err = capsys.readouterr().err
    assert "gate v1.0: FAILED (1 requirements not met)" in err
    assert err.rstrip().endswith("then push again")
    assert _verdicts(repo) == 1


def test_a_passing_release_tag_is_pushed(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.parent / "training.csv").write_text("Ada,secure coding\n")
    assert cli(["record", "training_record", str(repo.parent / "training.csv")]) == 0
    assert _push(monkeypatch, "refs/tags/v1.0") == 0
    assert "gate v1.0: PASSED" in capsys.readouterr().err


def test_branches_and_other_tags_are_not_gated_and_it_says_so(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "tag", "nightly")
    assert _push(monkeypatch, "refs/heads/main", "refs/tags/nightly") == 0
    assert capsys.readouterr().err == (
        "sdl-gate: skipped: nightly does not match the release tags 'v*' ([hooks] "
        "release_tags); nothing was gated\n"
    )
    (repo / ".sdl-tracker.toml").write_text(
        'policy = "policy.yaml"\n[hooks]\nrelease_tags = "rel-*"\n'
    )
    assert _push(monkeypatch, "refs/tags/v1.0") == 0
    assert _verdicts(repo) == 0
    assert _push(monkeypatch, "refs/heads/main") == 0
    assert capsys.readouterr().err.endswith(
        "sdl-gate: skipped: no release tag in this push (refs/heads/main)\n"
    )


def test_under_pre_commit_a_branch_push_says_what_it_cannot_see(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
    assert gate.main([]) == 0
    err = capsys.readouterr().err
    assert err.startswith("sdl-gate: skipped: no release tag in this push (refs/heads/main)")
    assert "pre-commit shows this hook only the first ref with new commits" in err
    monkeypatch.delenv("PRE_COMMIT_LOCAL_BRANCH")
    monkeypatch.delenv("PRE_COMMIT_REMOTE_BRANCH")
    assert gate.main([]) == 0
    assert "skipped: no pushed ref was given" in capsys.readouterr().err
    assert _verdicts(repo) == 0


def test_without_a_ledger_the_push_is_refused(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(git_repo)
    git(git_repo, "tag", "v1.0")
    assert gate.main(["--ref", "refs/tags/v1.0"]) == 2
    assert "sdl-gate: error: no ledger" in capsys.readouterr().err


def test_the_cra_option_gates_the_tag_under_the_cra_view_too(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.parent / "training.csv").write_text("Ada,secure coding\n")
    assert cli(["record", "training_record", str(repo.parent / "training.csv")]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(f"refs/tags/v1.0 {SHA} refs/tags/v1.0 {ZERO}\n"))
    both = ["--framework", "iec62443-4-1", "--framework", "cra"]
    assert gate.main(["--remote", "origin", *both]) == 1
    err = capsys.readouterr().err
    assert "gate v1.0: PASSED" in err  # the 62443-4-1 verdict
    assert "sdl-gate: the release gate failed for v1.0 (cra): push refused" in err
    assert _verdicts(repo) == 2
    with pytest.raises(SystemExit) as e:
        gate.main(["--ref", "refs/tags/v1.0", "--policy", "policy.yaml", *both])
    assert e.value.code == 2
    assert "--policy judges one framework" in capsys.readouterr().err
