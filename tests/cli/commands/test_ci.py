"""`sdl-tracker ci` end to end, with a bare repository in tmp_path as the shared remote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git
from identity import approved_policy

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore
from sdl_tracker.policy import load as policy_mod

CONFIG = '[collect]\nenabled = ["documents", "issues"]\n'
SECURITY = "# Security\n\n## Reporting a vulnerability\n\nMail us.\n\n## Disclosure\n\n90 days.\n"
ISSUE = """\
id: SEC-2024-001
title: Path traversal in the upload
received: 2024-03-01
triaged: 2024-03-02
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"
status: fixed
fixed_in: 1.0.1
fixed: 2024-03-10
"""
COLLECTED = ("document:vulnerability_disclosure_policy", "issue_tracker_record")


@pytest.fixture
def remote(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bare `origin` holding a project whose collectors are documents and issues only."""
    monkeypatch.delenv("SDL_TRACKER_REMOTE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    bare = git_repo.parent / "origin.git"
    git(git_repo.parent, "init", "-q", "--bare", "-b", "main", str(bare))
    (git_repo / ".sdl-tracker.toml").write_text(CONFIG)
    (git_repo / "SECURITY.md").write_text(SECURITY)
    (git_repo / "security-issues").mkdir()
    (git_repo / "security-issues" / "SEC-2024-001.yaml").write_text(ISSUE)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "security documents")
    git(git_repo, "remote", "add", "origin", str(bare))
    git(git_repo, "push", "-q", "origin", "main")
    return bare


def clone(remote: Path, name: str) -> Path:
    target = remote.parent / name
    git(remote.parent, "clone", "-q", str(remote), str(target))
    git(target, "config", "user.name", f"Job {name}")
    git(target, "config", "user.email", f"{name}@ci.example.com")
    return target


def remote_entries(remote: Path) -> list[tuple[str, str]]:
    """(recorded_by, kind) of every entry on origin's ledger branch, which must verify."""
    store = GitStore(remote, "sdl-ledger")
    ledger.verify(store)
    return [
        (e.statement().predicate.recorded_by, e.statement().predicate.kind)
        for e in ledger.entries(store)
    ]


def test_two_concurrent_jobs_both_push_and_lose_nothing(remote: Path) -> None:
    jobs = {name: clone(remote, name) for name in ("a", "b")}
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "sdl_tracker", "ci", "--remote", "origin", "--out", "reports"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, root in jobs.items()
    }
    results = {name: p.communicate(timeout=300) for name, p in procs.items()}
    for name, proc in procs.items():
        err = results[name][1]
        assert proc.returncode == 1, err  # the default policy's gate fails: exit code is its
        assert "ledger: pushed sdl-ledger to origin" in err
        assert (jobs[name] / "reports" / "junit.xml").is_file()
    found = remote_entries(remote)
    for name in jobs:
        mine = [kind for who, kind in found if who == f"Job {name} <{name}@ci.example.com>"]
        assert sorted(mine) == sorted([*COLLECTED, "release_gate_record"]), found
    assert len(found) == 6
    for root in jobs.values():
        assert main(["ledger", "verify", "-C", str(root)]) == 0


def test_a_job_replays_onto_entries_pushed_meanwhile(remote: Path) -> None:
    first, second = clone(remote, "first"), clone(remote, "second")
    assert main(["init", "-C", str(second)]) == 0  # its own ledger, before the other job pushes
    assert main(["collect", "-C", str(second)]) == 0
    assert main(["ci", "--remote", "origin", "--out", str(first / "r"), "-C", str(first)]) == 1
    pushed = [e.raw for e in ledger.entries(GitStore(remote, "sdl-ledger"))]
    assert main(["ci", "--remote", "origin", "--out", str(second / "r"), "-C", str(second)]) == 1
    after = [e.raw for e in ledger.entries(GitStore(remote, "sdl-ledger"))]
    assert after[: len(pushed)] == pushed  # what was pushed is never rewritten
    assert len(after) == len(pushed) + 5  # second: 2 collected + 2 collected again + 1 verdict
    assert len(remote_entries(remote)) == len(after)
    assert main(["ledger", "verify", "-C", str(second)]) == 0


def test_without_a_remote_nothing_is_pushed(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = clone(remote, "newcomer")
    assert main(["ci", "--out", str(root / "r"), "-C", str(root)]) == 1
    assert git(root, "ls-remote", "origin", "refs/heads/sdl-ledger") == ""
    assert "ledger: pushed" not in capsys.readouterr().err
    assert main(["ledger", "verify", "-C", str(root)]) == 0


def test_no_push_fetches_but_leaves_the_remote_alone(remote: Path) -> None:
    first, pr = clone(remote, "release"), clone(remote, "pull-request")
    assert main(["ci", "--remote", "origin", "--out", str(first / "r"), "-C", str(first)]) == 1
    tip = git(remote, "rev-parse", "refs/heads/sdl-ledger")
    assert (
        main(["ci", "--no-push", "--remote", "origin", "--out", str(pr / "r"), "-C", str(pr)]) == 1
    )
    assert git(remote, "rev-parse", "refs/heads/sdl-ledger") == tip
    local = list(ledger.entries(GitStore(pr, "sdl-ledger")))
    assert len(local) == 6 and local[2].statement().predicate.recorded_by.startswith("Job release")


def test_reports_step_summary_and_the_gates_exit_code(
    remote: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = clone(remote, "summary")
    ids = [r.id for r in policy_mod.load("iec62443-4-1").requirements]
    policy = "extends: iec62443-4-1\nnot_applicable:\n" + "".join(
        f"  {rid}: not part of this test\n" for rid in ids
    )
    (root / "policy.yaml").write_text(policy)
    (root / ".sdl-tracker.toml").write_text('policy = "policy.yaml"\n' + CONFIG)
    out = root.parent / "reports"
    # An uncommitted policy gives no release verdict: refused before anything is appended.
    assert main(["ci", "--remote", "origin", "--out", str(out), "-C", str(root)]) == 2
    assert "policy.yaml is not committed" in capsys.readouterr().err
    assert git(root, "branch", "--list", "sdl-ledger") == ""
    git(root, "commit", "-q", "-am", "config")
    assert main(["init", "-C", str(root)]) == 0
    approved_policy(root, policy, "policy.yaml")
    step = root.parent / "step-summary.md"
    step.write_text("## Earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    assert main(["ci", "--remote", "origin", "--out", str(out), "-C", str(root)]) == 0
    summary = (out / "summary.md").read_text()
    assert step.read_text() == "## Earlier step\n" + summary + "\n"
    assert "<testsuite" in (out / "junit.xml").read_text()


def test_the_remote_can_be_configured(remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = clone(remote, "configured")
    (root / ".sdl-tracker.toml").write_text(CONFIG + '[ledger]\nremote = "origin"\n')
    assert main(["ci", "--out", str(root / "r"), "-C", str(root)]) == 1
    assert git(root, "ls-remote", "origin", "refs/heads/sdl-ledger") != ""


def test_an_unknown_remote_is_bad_input(remote: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = clone(remote, "typo")
    assert main(["ci", "--remote", "orgin", "--out", str(root / "r"), "-C", str(root)]) == 2
    assert "git fetch orgin sdl-ledger failed" in capsys.readouterr().err
    assert git(root, "branch", "--list", "sdl-ledger") == ""  # nothing collected or appended


def test_an_unwritable_out_is_bad_input_before_anything_is_appended(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = clone(remote, "out")
    (root / "taken").write_text("a file, not a directory\n")
    assert main(["ci", "--remote", "origin", "--out", str(root / "taken"), "-C", str(root)]) == 2
    assert "--out" in capsys.readouterr().err
    assert git(root, "branch", "--list", "sdl-ledger") == ""
    assert git(root, "ls-remote", "origin", "refs/heads/sdl-ledger") == ""


def test_ci_in_a_subprocess_uses_the_environment_default(remote: Path) -> None:
    root = clone(remote, "env")
    env = {**os.environ, "SDL_TRACKER_REMOTE": "origin"}
    proc = subprocess.run(
        [sys.executable, "-m", "sdl_tracker", "ci", "--out", "r"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "ledger: pushed sdl-ledger to origin" in proc.stderr


def test_ci_lists_commits_whose_hooks_were_bypassed(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A developer's sdl-record entry for a --no-verify commit, shared with `ledger sync`,
    is listed by the next CI run."""
    from datetime import datetime, timezone

    from sdl_tracker.models import Predicate, Result, ResultStatus, Statement, Tool

    dev = clone(remote, "dev")
    assert main(["init", "--repo", str(dev)]) == 0
    (dev / "notes.txt").write_text("quick fix\n")
    git(dev, "add", "notes.txt")
    git(dev, "commit", "-q", "--no-verify", "-m", "quick fix")
    git(dev, "push", "-q", "origin", "main")
    bypassed = git(dev, "rev-parse", "HEAD")
    record = Statement(
        commit=bypassed,
        artifacts=(),
        predicate=Predicate(
            kind="hook_run",
            collector="hooks",
            tool=Tool("sdl-tracker hooks", "0.1.0"),
            requirements=("SM-1", "SI-2"),
            result=Result(ResultStatus.FAIL, "hooks were bypassed", {"hooks_ran": 0}),
            recorded_by="Job dev <dev@ci.example.com>",
            recorded_at=datetime.now(timezone.utc),
        ),
    )
    ledger.append(GitStore(dev), [record])
    assert main(["ledger", "sync", "--remote", "origin", "--repo", str(dev)]) == 0
    job = clone(remote, "job")
    capsys.readouterr()
    code = main(["ci", "--remote", "origin", "--out", str(job / "reports"), "--repo", str(job)])
    assert code == 1  # the gate: most requirements have no evidence here
    err = capsys.readouterr().err
    assert f"hooks bypassed on {bypassed[:10]} by Job dev <dev@ci.example.com>" in err
    assert ("Job dev <dev@ci.example.com>", "hook_run") in remote_entries(remote)


def test_a_rewound_remote_or_local_ledger_fails_the_next_run(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ci` remembers the remote ledger head it saw: a force-pushed rewind is not followed."""
    job = clone(remote, "job")
    ci = ["ci", "--remote", "origin", "--out", str(job / "r"), "-C", str(job)]
    assert main(ci) == 1
    assert main(ci) == 1
    capsys.readouterr()
    # Someone with push rights rewinds the shared branch by one run.
    git(remote, "update-ref", "refs/heads/sdl-ledger", "sdl-ledger~1")
    before = git(remote, "rev-parse", "sdl-ledger")
    assert main(ci) == 2
    err = capsys.readouterr().err
    assert "the ledger branch sdl-ledger on origin was rewound or rewritten" in err
    assert git(remote, "rev-parse", "sdl-ledger") == before  # nothing pushed, never forced
    # The local branch rewound instead (the remote intact again).
    other = clone(remote, "other")
    assert main(["ci", "--remote", "origin", "--out", str(other / "r"), "-C", str(other)]) == 1
    git(other, "update-ref", "refs/heads/sdl-ledger", "sdl-ledger~1")
    capsys.readouterr()
    assert main(["ci", "--remote", "origin", "--out", str(other / "r"), "-C", str(other)]) == 2
    assert "the local ledger branch sdl-ledger was rewound" in capsys.readouterr().err


def test_ci_gates_under_the_cra_view(remote: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ci --framework cra`: collect, the CRA gate (its verdict names the CRA catalogue), its
    summary and JUnit report, the gate's exit code."""
    root = clone(remote, "cra")
    out = root.parent / "cra-reports"
    assert main(["ci", "--framework", "cra", "--out", str(out), "-C", str(root)]) == 1
    assert "gate " in capsys.readouterr().err
    assert "CRA-14" in (out / "summary.md").read_text()
    junit = (out / "junit.xml").read_text()
    assert "CRA-I-2a" in junit and "SM-1" not in junit
    (verdict,) = [
        e.statement().predicate
        for e in ledger.entries(GitStore(root, "sdl-ledger"))
        if e.statement().predicate.kind == "release_gate_record"
    ]
    assert verdict.details["catalog"] == "cra:2024-2847"
