from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from evidence_factory import only, policy_file, stmt
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    (git_repo / "src").mkdir()
    (git_repo / "src" / "app.py").write_text("print('hi')\n")
    git(git_repo, "add", "src")
    git(git_repo, "commit", "-q", "-m", "app")
    head = git(git_repo, "rev-parse", "HEAD")
    now = datetime.now(timezone.utc)
    ledger.append(
        open_workspace(git_repo).store(),
        [
            stmt("sast", commit=head, covers=("src",), metrics={"high": 0}, now=now),
            stmt("document:coding_standard", commit=head, now=now),
            stmt("linter_config", commit=head, now=now),
        ],
    )
    return git_repo


def test_table_groups_by_practice_with_dotted_lines(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["status", "-C", str(repo)], capsys)
    assert code == 0 and out == ""
    lines = err.splitlines()
    assert "SI - Secure implementation" in lines
    si2 = next(line for line in lines if line.startswith("SI-2 "))
    assert si2.endswith("Satisfied") and "....." in si2 and len(si2) == 79
    sr2 = lines.index(next(line for line in lines if line.startswith("SR-2 ")))
    assert lines[sr2 + 1] == "- threat_model: no evidence"
    assert lines[sr2 + 2] == "  next: run `sdl-tracker collect --only threat-model`"
    assert any(line.startswith("SI        ML1") for line in lines)
    assert "waivers: none" in lines
    assert "\033[" not in err  # not a terminal: no colour


def test_colour_when_asked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(["status", "--color", "always", "-C", str(repo)], capsys)
    assert "\033[32mSatisfied\033[0m" in err


def test_json_and_markdown(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["status", "--format", "json", "-C", str(repo)], capsys)
    data = json.loads(out)
    assert code == 0 and len(data["requirements"]) == 47
    si2 = next(r for r in data["requirements"] if r["id"] == "SI-2")
    assert si2["status"] == "satisfied" and si2["evidence"][0]["counted"] is True
    assert data["maturity_note"].startswith("indicative")
    code, out, _ = run(["status", "--format", "markdown", "-C", str(repo)], capsys)
    assert out.startswith("## sdl-tracker status: commit `")
    assert "### Requirements not met" in out


def test_an_older_commit_does_not_use_later_evidence(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["status", "--commit", "HEAD~1", "--format", "json", "-C", str(repo)], capsys
    )
    si2 = next(r for r in json.loads(out)["requirements"] if r["id"] == "SI-2")
    assert code == 0 and si2["status"] == "stale"
    assert "outside the history" in si2["reason"]


def test_not_applicable_and_waivers_are_shown(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(
        repo.parent, "extends: iec62443-4-1\n" + only("SM-4", "tiny team"), "p.yaml"
    )
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    soon = (datetime.now(timezone.utc) + timedelta(days=60)).date().isoformat()
    argv = ["waive", "SM-4", "--reason", "course in May", "--expires", soon, "-C", str(repo)]
    argv += ["--approver", "Grace <grace@example.com>", "--key", str(keys["ada"])]
    assert run(argv, capsys)[0] == 0
    code, _, err = run(["status", "--policy", str(policy), "-C", str(repo)], capsys)
    assert code == 0 and "Waived" not in err  # the waiver is pending: it does not count yet
    assert f"SM-4           PENDING  until {soon}  approver named Grace <grace@example.com>" in err
    assert "the approver (approver role in sdl-roster.yaml, not the requester)" in err
    waiver = max(e.seq for e in ledger.entries(open_workspace(repo).store())) - 1
    approve = ["approve", str(waiver), "--key", str(keys["grace"]), "-C", str(repo)]
    code, _, err = run(approve, capsys)
    assert code == 0, err
    code, _, err = run(["status", "--policy", str(policy), "-C", str(repo)], capsys)
    assert code == 0
    assert "- not applicable: tiny team" in err
    assert "Waived" in err
    assert (
        f"SM-4           active   until {soon}  approved by Grace Hopper <grace@example.com>" in err
    )


def test_bad_commit_and_missing_ledger(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["status", "-C", str(git_repo)], capsys)
    assert code == 2 and "run `sdl-tracker init` first" in err
    elsewhere = git_repo.parent / "ledger-dir"
    elsewhere.mkdir()
    code, _, err = run(["status", "--ledger-dir", str(elsewhere), "-C", str(git_repo)], capsys)
    assert code == 2 and f"run `sdl-tracker init --ledger-dir {elsewhere}`" in err
    run(["init", "-C", str(git_repo)], capsys)
    code, _, err = run(["status", "--commit", "nope", "-C", str(git_repo)], capsys)
    assert code == 2 and "'nope' names no commit" in err
