"""`status` and `explain` read the policy as it is now and count its tailoring; they say so
when a release verdict would not: uncommitted, outside the repository, or not approved by a
product-security-lead (real git repository, real ssh-keygen keys)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker.cli.main import main

POLICY = "extends: iec62443-4-1\nnot_applicable:\n  SM-10: not in this product\n"
MORE = POLICY + "  SG-4: no network interface\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (git_repo / ".sdl-tracker.toml").write_text('policy = "sdl-policy.yaml"\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "config")
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    commit_roster(git_repo, roster_text(ssh_keys(git_repo.parent / "keys")))
    return git_repo


def note(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object] | None:
    code, out, _ = run(["status", "--format", "json", "-C", str(repo), *extra], capsys)
    assert code == 0
    found: dict[str, object] | None = json.loads(out).get("tailoring_note")
    return found


def test_status_and_explain_say_when_the_gate_would_not_count_the_tailoring(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = repo / "sdl-policy.yaml"
    policy.write_text(POLICY)
    # Uncommitted: status counts SM-10 as not applicable, and says the gate will not.
    code, _, err = run(["status", "-C", str(repo)], capsys)
    assert code == 0
    assert "Not applicable" in err
    assert "note: tailoring not counted by the gate: sdl-policy.yaml is not committed at" in err
    assert "until it is committed" in err and err.split("note: ")[1].split("\n")[0].endswith(
        ": SM-10"
    )
    assert "next: commit it, then a product-security-lead approves the committed policy: " in err
    assert "`sdl-tracker approve --policy`" in err
    found = note(repo, capsys)
    assert found is not None and found["requirements"] == ["SM-10"]
    code, out, _ = run(["status", "--format", "markdown", "-C", str(repo)], capsys)
    assert "> **Tailoring not counted by the gate:** sdl-policy.yaml is not committed at" in out
    code, _, err = run(["explain", "SM-10", "-C", str(repo)], capsys)
    assert code == 0
    assert "tailoring: SM-10's tailoring is not counted by the gate: sdl-policy.yaml" in err
    code, _, err = run(["explain", "SM-1", "-C", str(repo)], capsys)
    assert "note: tailoring not counted by the gate:" in err and ": SM-10" in err

    # Committed, not approved: the gate judges SM-10 by the shipped policy, and status says so.
    git(repo, "add", "sdl-policy.yaml")
    git(repo, "commit", "-q", "-m", "policy")
    found = note(repo, capsys)
    assert found is not None and found["requirements"] == ["SM-10"]
    assert "no signed approval in the ledger names sdl-policy.yaml blob" in str(found["why"])
    assert found["gate"] == "the gate judges these requirements by the shipped policy instead"
    # The gate's own summary (what `ci` writes and GitHub shows) carries the same note.
    summary = repo.parent / "summary.md"
    code, _, err = run(["gate", "--summary", str(summary), "-C", str(repo)], capsys)
    assert code == 1
    text = summary.read_text()
    assert "> **Tailoring not counted by the gate:** no signed approval" in text
    assert "judges these requirements by the shipped policy instead: SM-10." in text

    # An edit not yet committed is named as such.
    policy.write_text(MORE)
    found = note(repo, capsys)
    assert found is not None and "sdl-policy.yaml has uncommitted changes" in str(found["why"])
    assert sorted(found["requirements"]) == ["SG-4", "SM-10"]  # type: ignore[call-overload]
    policy.write_text(POLICY)

    # Outside the repository (what `--policy` and SDL_TRACKER_POLICY allow for a what-if).
    outside = repo.parent / "draft.yaml"
    outside.write_text(POLICY)
    found = note(repo, capsys, "--policy", str(outside))
    assert found is not None and "is outside the repository" in str(found["why"])

    # Approved by the product-security-lead: nothing to note.
    key = repo.parent / "keys" / "grace_ed25519"
    assert run(["approve", "--policy", "--key", str(key), "-C", str(repo)], capsys)[0] == 0
    assert note(repo, capsys) is None
    code, out, _ = run(["status", "--format", "markdown", "-C", str(repo)], capsys)
    assert "Tailoring not counted" not in out

    # Evaluating that commit with a policy edited since: the gate would use the approved one.
    approved = git(repo, "rev-parse", "HEAD")
    policy.write_text(MORE)
    git(repo, "commit", "-q", "-am", "SG-4 too")
    found = note(repo, capsys, "--commit", approved)
    assert found is not None and found["requirements"] == ["SG-4"]
    assert f"differs from the one committed at {approved[:10]}" in str(found["why"])
