"""The gate's policy: as committed at the evaluated commit, its tailoring counted only when a
product-security-lead signed an approval of its blob (real ssh-keygen keys); a what-if otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence_factory import only
from helpers import git
from identity import approved_policy, commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.conformance import signatures, tailoring
from sdl_tracker.gitdata import attest
from sdl_tracker.ledger.chain import canonical
from sdl_tracker.models import JSON
from sdl_tracker.workspace import Workspace, open_workspace

POLICY = "extends: iec62443-4-1\n" + only("SM-4")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (git_repo / ".sdl-tracker.toml").write_text('policy = "sdl-policy.yaml"\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "config")
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    training = git_repo.parent / "training.csv"
    training.write_text("Ada,secure coding\n")
    assert run(["record", "training_record", str(training), "-C", str(git_repo)], capsys)[0] == 0
    return git_repo


def kinds(root: Path) -> list[str]:
    store = open_workspace(root).store()
    return [e.statement().predicate.kind for e in ledger.entries(store)]


def commit_policy(root: Path, text: str = POLICY) -> None:
    (root / "sdl-policy.yaml").write_text(text)
    git(root, "add", "sdl-policy.yaml")
    git(root, "commit", "-q", "-m", "policy")


def test_unapproved_tailoring_does_not_count_until_the_lead_signs_its_blob(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    commit_policy(repo)
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "tailoring does not count (no signed approval in the ledger names sdl-policy.yaml" in err
    assert (
        "the project policy declares SM-10 not applicable (out of scope for this test), which "
        "does not count"
    ) in err
    assert "evaluated by the shipped policy" in err
    assert "`sdl-tracker approve --policy`" in err
    assert kinds(repo)[-1] == "release_gate_record"  # a release verdict, failed
    code, err = run(["approve", "--policy", "--key", str(keys["grace"]), "-C", str(repo)], capsys)
    assert code == 0, err
    assert "Grace Hopper <grace@example.com> approves the policy sdl-policy.yaml (blob" in err
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 0, err
    assert "tailoring approved by Grace Hopper <grace@example.com> (entry 3)" in err
    # An edit is a new blob: the old approval no longer covers it.
    commit_policy(repo, POLICY.replace("out of scope for this test", "not in this product"))
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "tailoring does not count" in err


def test_only_a_product_security_lead_approves_the_policy(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    commit_policy(repo)
    code, err = run(["approve", "--policy", "--key", str(keys["ada"]), "-C", str(repo)], capsys)
    assert code == 2
    assert "does not hold the product-security-lead role" in err
    # Appended by hand, the same approval signed by Ada is not counted either.
    ws = open_workspace(repo)
    blob = git(repo, "rev-parse", "HEAD:sdl-policy.yaml")
    _forge_approval(ws, blob, keys["ada"])
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "is signed by Ada Lovelace <ada@example.com>, not by a product-security-lead" in err


def test_an_approval_altered_after_signing_is_not_counted(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    commit_policy(repo)
    ws = open_workspace(repo)
    # Grace signed an approval of another blob; the statement is then rewritten to name ours.
    blob = git(repo, "rev-parse", "HEAD:sdl-policy.yaml")
    _forge_approval(ws, "0" * 40, keys["grace"], claimed=blob)
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "carries no signature that verifies" in err


def test_a_policy_the_commit_does_not_hold_needs_what_if(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    approved_policy(repo, POLICY)
    before = kinds(repo)
    (repo / "sdl-policy.yaml").write_text(POLICY + "max_age_days: 9999\n")
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 2
    assert "sdl-policy.yaml has uncommitted changes" in err and "--what-if" in err
    outside = repo.parent / "draft.yaml"
    outside.write_text(POLICY)
    code, err = run(["gate", "--policy", str(outside), "-C", str(repo)], capsys)
    assert code == 2 and "is outside the repository" in err
    monkeypatch.setenv("SDL_TRACKER_POLICY", str(outside))
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 2 and "SDL_TRACKER_POLICY is set" in err
    code, err = run(["gate", "--what-if", "-C", str(repo)], capsys)
    assert code == 0, err
    assert "policy (what-if):" in err and "not a release verdict: nothing recorded" in err
    assert kinds(repo) == before
    monkeypatch.delenv("SDL_TRACKER_POLICY")
    git(repo, "tag", "v1.0")  # the release's commit holds the approved policy
    code, err = run(["gate", "--release", "v1.0", "-C", str(repo)], capsys)
    assert code == 2  # evaluating HEAD: the working copy's edit is refused, not ignored
    git(repo, "checkout", "-q", "sdl-policy.yaml")
    git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    (repo / "sdl-policy.yaml").write_text("extends: iec62443-4-1\n")
    git(repo, "commit", "-q", "-am", "untailored")
    code, err = run(["gate", "--release", "v1.0", "-C", str(repo)], capsys)
    assert code == 0, err  # the tag's commit holds the approved policy, whatever HEAD holds
    assert kinds(repo)[-1] == "release_gate_record"


def test_approve_policy_refuses_what_it_cannot_approve(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(repo.parent / "keys")
    grace = ["--key", str(keys["grace"]), "-C", str(repo)]
    code, err = run(["approve", "--policy", *grace], capsys)
    assert code == 2 and "sdl-policy.yaml is not committed" in err
    commit_policy(repo)
    code, err = run(["approve", "--policy", *grace], capsys)
    assert code == 2 and "no sdl-roster.yaml committed at HEAD" in err
    code, err = run(["approve", "3", "--policy", *grace], capsys)
    assert code == 2 and "not both" in err
    assert kinds(repo) == ["training_record"]


def _forge_approval(ws: Workspace, signed_blob: str, key: Path, claimed: str | None = None) -> None:
    """A policy_approval statement over `signed_blob` and a signature by `key`; with `claimed`,
    the stored statement names that blob instead (the signature no longer matches it)."""
    from datetime import datetime, timezone

    from sdl_tracker.models import Predicate, Provenance, Result, ResultStatus, Statement, Tool

    def statement(blob: str) -> Statement:
        details: dict[str, JSON] = {"policy": [{"path": "sdl-policy.yaml", "blob": blob}]}
        return Statement(
            commit=None,
            artifacts=(),
            predicate=Predicate(
                kind=tailoring.KIND,
                collector="approve",
                tool=Tool(name="sdl-tracker", version="0"),
                requirements=(),
                result=Result(status=ResultStatus.INFO, summary="approves the policy"),
                details=details,
                recorded_by="someone <someone@example.com>",
                recorded_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                provenance=Provenance.ATTESTED,
            ),
        )

    signed = statement(signed_blob)
    envelope = attest.sign(key, canonical(signed))
    stored = statement(claimed) if claimed else signed
    sig = signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector="approve",
        signer="someone",
        summary="signs",
        commit=None,
        now=signed.predicate.recorded_at,
    )
    ledger.append(ws.store(), [stored, sig])


NO_PARSER = "the product reads no untrusted input, only update files signed by its vendor"


def _parts_policy(fuzzing: bool) -> str:
    """SVV-3 alone with the shipped provenance; its fuzzing part declared not applicable (when
    `fuzzing`), and the parts this test does not produce evidence for."""
    parts = "  SVV-3:\n" + (f"    fuzzing: {NO_PARSER}\n" if fuzzing else "")
    parts += "".join(
        f"    {kind}: not produced in this test\n"
        for kind in (
            "dependency_audit",
            "attack_surface_analysis",
            "binary_sca",
            "dynamic_analysis",
        )
    )
    text = only("SVV-3").replace("[attested, signed]", "[signed, verified, ingested]")
    return "extends: iec62443-4-1\n" + text.replace("provenance:", parts + "provenance:")


def test_one_part_declared_not_applicable_counts_in_the_gate_only_once_approved(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SVV-3's fuzzing part not applicable on its own, through a real gate and `approve
    --policy`: the real bandit run meets the static-analysis part, the fuzzing part is shown
    with its justification once the lead approved the policy, and not before."""
    (repo / "frames.py").write_text("def size(data):\n    return len(data)\n")
    git(repo, "add", "frames.py")
    git(repo, "commit", "-q", "-m", "code")
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    commit_policy(repo, _parts_policy(fuzzing=True))
    assert run(["collect", "--only", "sast", "-C", str(repo)], capsys)[0] == 0
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "fuzzing: no evidence" in err  # unapproved: every part applies again
    assert "declares SVV-3 partly not applicable" in err and f"fuzzing ({NO_PARSER})" in err
    code, err = run(["approve", "--policy", "--key", str(keys["grace"]), "-C", str(repo)], capsys)
    assert code == 0, err
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 0, err
    assert "gate " in err and "PASSED" in err and "1 satisfied" in err
    assert kinds(repo)[-1] == "release_gate_record"
    assert main(["explain", "SVV-3", "-C", str(repo)]) == 0
    shown = "".join(capsys.readouterr())
    assert f"not applicable part (fuzzing): {NO_PARSER}" in shown
    assert "[any of: fuzzing, dast] — not applicable" in shown
    assert "rests on: entry 2 sast [verified]" in shown  # the part that applies: bandit's run
    # The same policy without the fuzzing line, approved too: the fuzzing part applies again.
    commit_policy(repo, _parts_policy(fuzzing=False))
    code, err = run(["approve", "--policy", "--key", str(keys["grace"]), "-C", str(repo)], capsys)
    assert code == 0, err
    code, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "fuzzing: no evidence" in err and NO_PARSER not in err
