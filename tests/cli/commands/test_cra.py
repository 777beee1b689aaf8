"""`status` / `explain` / `gate` with `--framework cra`: the same ledger, the CRA catalogue."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from evidence_factory import policy_file
from helpers import git
from identity import approved_policy, commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.workspace import open_workspace


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    return git_repo


def cra_only(root: Path, *keep: str, committed: bool = False) -> Path:
    """A CRA policy in which only `keep` apply, accepting unsigned attestations for them;
    `committed`: committed to the repository and approved (what a recorded verdict needs)."""
    ids = [r.id for r in policy_mod.load("cra-2024-2847").requirements if r.id not in keep]
    lines = ["extends: cra-2024-2847", "not_applicable:"]
    lines += [f"  {i}: out of scope for this test" for i in ids]
    lines += ["provenance:", "  requirements:"] + [f"    {k}: [attested, signed]" for k in keep]
    # The first release has no earlier gate verdict: the rule is reduced to the attestation.
    lines += ["requirements:"] + [
        f"  {k}: {{requires: {{kind: attestation, named: true}}}}" for k in keep
    ]
    if committed:
        return approved_policy(root, "\n".join(lines) + "\n", "cra.yaml")
    return policy_file(root.parent, "\n".join(lines) + "\n", "cra.yaml")


def only_62443(root: Path, *keep: str, committed: bool = False) -> Path:
    ids = [r.id for r in policy_mod.load("iec62443-4-1").requirements if r.id not in keep]
    lines = ["extends: iec62443-4-1", "not_applicable:"]
    lines += [f"  {i}: out of scope for this test" for i in ids]
    if committed:
        return approved_policy(root, "\n".join(lines) + "\n", "small.yaml")
    return policy_file(root.parent, "\n".join(lines) + "\n", "small.yaml")


def attest(root: Path, rid: str, capsys: pytest.CaptureFixture[str]) -> None:
    file = root.parent / f"{rid}.txt"
    file.write_text(f"statement for {rid}\n")
    code, _, err = run(["record", "attestation", str(file), "-r", rid, "-C", str(root)], capsys)
    assert code == 0, err


def entries(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return [e.to_json() for e in ledger.entries(open_workspace(root).store())]


def test_status_json_lists_the_30_items_of_the_cra_catalogue(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["status", "--framework", "cra", "--format", "json", "-C", str(repo)], capsys
    )
    assert code == 0
    conf = json.loads(out)
    assert conf["catalog"] == "cra:2024-2847" and conf["policy"] == "cra-2024-2847"
    assert len(conf["requirements"]) == 31
    assert {r["status"] for r in conf["requirements"]} == {"missing"}
    code, out, _ = run(["status", "--format", "json", "-C", str(repo)], capsys)
    assert json.loads(out)["catalog"] == "iec62443-4-1:2018"


def test_status_table_and_the_framework_from_the_environment(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDL_TRACKER_FRAMEWORK", "cra")
    code, _, err = run(["status", "-C", str(repo)], capsys)
    assert code == 0
    line = next(x for x in err.splitlines() if x.startswith("CRA-I-2a "))
    assert line.endswith("Missing")
    assert "AI-P2 - Annex I Part II: vulnerability handling" in err


def test_explain_takes_a_cra_id_in_any_case_and_suggests_close_ones(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["explain", "cra-i-2a", "--format", "json", "-C", str(repo)], capsys)
    assert code == 0
    found = json.loads(out)
    assert found["requirement"]["id"] == "CRA-I-2a"
    assert "dependency_audit (vulnerabilities ≤ 0" in found["requirement"]["rule"]
    code, out, _ = run(["explain", "CRA-13-8", "--format", "json", "-C", str(repo)], capsys)
    assert (
        "run `sdl-tracker collect --only support-period`"
        in json.loads(out)["requirement"]["action"]
    )
    code, out, _ = run(["explain", "CRA-I-2l", "--format", "json", "-C", str(repo)], capsys)
    found = json.loads(out)
    assert found["assessor_will_ask"].startswith("what is logged, how users opt out")
    assert [r["id"] for r in found["product_assessment"]["requirements"]] == ["FR 2", "FR 6"]
    code, _, err = run(["explain", "CRA-I-2g", "-C", str(repo)], capsys)
    assert code == 0
    assert (
        "product:   IEC 62443-4-2 (hint): FR 4 Data confidentiality — no foundational "
        "requirement addresses data minimisation directly" in err
    )
    assert "assessor:  when satisfied, an assessor will still ask for: the data inventory" in err
    code, out, _ = run(["explain", "CRA-II-1", "--format", "json", "-C", str(repo)], capsys)
    assert "product_assessment" not in json.loads(out)  # a process item: no product hint
    code, _, err = run(["explain", "CRA-I-2z", "-C", str(repo)], capsys)
    assert code == 2
    assert "did you mean CRA-II-2 or CRA-I-2m or CRA-I-2l?" in err
    assert "sdl-tracker catalog --catalog cra:2024-2847" in err


def test_a_62443_policy_is_refused_for_the_cra_framework(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = only_62443(repo, "SM-4")
    code, _, err = run(
        ["gate", "--what-if", "--framework", "cra", "--policy", str(policy), "-C", str(repo)],
        capsys,
    )
    assert code == 2
    assert "a policy for iec62443-4-1:2018, but --framework cra" in err
    assert entries(repo) == []


def test_cra_gate_records_its_own_verdict_which_62443_never_counts(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cra = cra_only(repo, "CRA-13-12", committed=True)
    attest(repo, "CRA-13-12", capsys)
    git(repo, "tag", "v1.0")
    argv = ["gate", "--framework", "cra", "--release", "v1.0", "--policy", str(cra)]
    code, _, err = run([*argv, "-C", str(repo)], capsys)
    assert code == 0, err
    assert "CRA-13-12 Technical documentation kept" in err
    p = entries(repo)[-1]["statement"]["predicate"]
    assert p["details"]["catalog"] == "cra:2024-2847"
    assert p["requirements"] == []  # no rule of this (tailored) policy asks for the verdict
    assert set(p["details"]["statuses"]) == {
        r.id for r in policy_mod.load("cra-2024-2847").requirements
    }
    # The 62443 view: the CRA verdict is neither SM-12 evidence nor a ratchet baseline.
    small = only_62443(repo, "SM-12", committed=True)
    code, out, _ = run(
        ["status", "--policy", str(small), "--format", "json", "-C", str(repo)], capsys
    )
    sm12 = next(r for r in json.loads(out)["requirements"] if r["id"] == "SM-12")
    # no earlier 62443-4-1 release verdict: the CRA's does not count
    assert sm12["status"] == "not_demonstrated" and sm12["evidence"] == []
    git(repo, "tag", "v1.1")
    code, _, err = run(
        ["gate", "--release", "v1.1", "--ratchet", "--policy", str(small), "-C", str(repo)],
        capsys,
    )
    assert code == 1, err  # SM-12: no earlier 62443-4-1 release verdict, not demonstrated
    assert "ratchet: no earlier release verdict in the ledger" in err
    # ...and the CRA view does not count the 62443 verdict either.
    code, _, err = run(
        [*argv[:3], "--release", "v1.1", "--ratchet", "--policy", str(cra), "-C", str(repo)],
        capsys,
    )
    assert code == 0, err
    assert "ratchet: no earlier release verdict" not in err


def test_a_cra_item_is_waived_like_any_requirement(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    code, _, err = run(
        [
            "waive",
            "CRA-I-2d",
            "--reason",
            "capability assessment booked for January",
            "--expires",
            (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%d"),
            "--approver",
            "Grace Hopper <grace@example.com>",
            "--key",
            str(keys["ada"]),
            "-C",
            str(repo),
        ],
        capsys,
    )
    assert code == 0, err
    p = entries(repo)[-2]["statement"]["predicate"]  # the request, then Ada's signature of it
    assert p["requirements"] == ["CRA-I-2d"]
    seq = str(len(entries(repo)) - 1)
    assert run(["approve", seq, "--key", str(keys["grace"]), "-C", str(repo)], capsys)[0] == 0
    code, out, _ = run(["explain", "CRA-I-2d", "--format", "json", "-C", str(repo)], capsys)
    result = json.loads(out)["requirement"]
    assert result["status"] == "waived"
    assert "capability assessment booked" in result["reason"]
