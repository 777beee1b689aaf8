"""SM-11: every unmet requirement and open finding of this evaluation has an assessed issue
record or a waiver — judged from the evaluation's own findings, never from an earlier verdict."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from evidence_factory import NOW, C, approve_all, only, stmt, tailored
from helpers import git

from sdl_tracker.cli.main import main
from sdl_tracker.conformance import waivers
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.model import RequirementResult, Status
from sdl_tracker.models import ResultStatus, Statement
from sdl_tracker.policy.model import Policy

FACTS = CommitFacts(commit=C, ancestors=frozenset(), changed={})
SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
PATCH_POLICY = "---\npatch_sla_days: {critical: 30, high: 60, medium: 90, low: 180}\n---\n# P\n"


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return tailored(tmp_path_factory.mktemp("sm11"), only("SM-11,SVV-3"))


def _issues(*records: dict[str, object]) -> Statement:
    return stmt(
        "issue_tracker_record",
        metrics={"issues": len(records)},
        details={"tracking": list(records)},  # type: ignore[dict-item]
    )


def _record(rid: str, *names: str, status: str = "assessed", assessed: bool = True) -> dict:
    return {"id": rid, "names": [rid, *names], "status": status, "assessed": assessed}


def _sast(*findings: tuple[str, str, str]) -> Statement:
    return stmt(
        "sast",
        metrics={"high": sum(f[1] == "high" for f in findings)},
        covers=("src",),
        details={
            "severity_threshold": "medium",
            "findings": [{"id": i, "severity": s, "path": p, "line": 3} for i, s, p in findings],
        },
    )


def _sm11(policy: Policy, entries: list[Statement]) -> RequirementResult:
    conf = evaluate(policy, entries, FACTS, NOW, approvals=approve_all(entries))
    return conf.result("SM-11")


def test_every_open_finding_and_unmet_requirement_needs_a_record(policy: Policy) -> None:
    sast = _sast(("B602", "high", "src/run.py"), ("B108", "medium", "src/tmp.py"))
    deps = stmt(
        "dependency_audit",
        status=ResultStatus.FAIL,
        metrics={"vulnerabilities": 1},
        details={"vulnerabilities": [{"id": "PYSEC-2023-221", "aliases": ["CVE-2023-25577"]}]},
    )
    threats = stmt("threat_model", details={"open": ["T3"], "model": "threat-model.yaml"})
    found = _sm11(policy, [sast, deps, threats, _issues()])
    # Not one of them addressed: failing, not partial.
    assert found.status is Status.FAILING, found.reason
    for named in ("B602 src/run.py:3", "B108 src/tmp.py:3", "PYSEC-2023-221", "threat T3"):
        assert named in found.reason
    assert "SVV-3 (failing)" in found.reason
    assert "tracks:" in found.action and "sdl-tracker waive" in found.action

    records = _issues(
        _record("SEC-1", "B602:src/run.py", "SVV-3"),
        _record("SEC-2", "CVE-2023-25577"),  # an alias of the advisory names it too
        _record("SEC-3", "T3"),
    )
    waiver = waivers.statement(
        target="B108",
        reason="tmp dir is private",
        approver="Grace Hopper <grace@example.com>",
        requested_by="Ada Lovelace <ada@example.com>",
        expires=waivers.parse_expiry("2026-07-01"),
        commit=C,
        now=NOW,
    )
    some = _sm11(policy, [sast, deps, threats, records])
    assert some.status is Status.PARTIAL, some.reason
    assert some.reason.startswith("1 of 5 ") and "B108 src/tmp.py:3" in some.reason
    met = _sm11(policy, [sast, deps, threats, records, waiver])
    assert met.status is Status.SATISFIED, met.reason
    assert "all 5 unmet requirement(s) and open finding(s) tracked" in met.reason
    assert "B108 src/tmp.py:3 (medium, sast entry 1): waiver entry 5" in met.reason


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (_record("SEC-1", "B602", status="triaged", assessed=False), "SEC-1 is not assessed yet"),
        (_record("SEC-1", "B602", status="fixed"), "SEC-1 is fixed, yet still found"),
        (_record("SEC-1", "B999"), "B602 src/run.py:3 (high, sast entry 1)"),
        (_record("SEC-1", "B602:src/other.py"), "B602 src/run.py:3"),
    ],
)
def test_a_record_must_be_assessed_open_and_name_the_finding(
    tmp_path: Path, record: dict, why: str
) -> None:
    policy = tailored(tmp_path, only("SM-11"))
    found = _sm11(policy, [_sast(("B602", "high", "src/run.py")), _issues(record)])
    assert found.status is Status.FAILING
    assert why in found.reason


def test_findings_below_the_collectors_threshold_and_waived_requirements_need_none(
    tmp_path: Path,
) -> None:
    policy = tailored(tmp_path, only("SM-11"))
    low = stmt(
        "sast",
        covers=("src",),
        details={
            "severity_threshold": "high",
            "findings": [{"id": "B108", "severity": "medium", "path": "a.py", "line": 1}],
        },
    )
    found = _sm11(policy, [low, _issues()])
    assert found.status is Status.SATISFIED, found.reason
    assert "no unmet requirement and no open finding" in found.reason


def test_issue_evidence_without_tracking_is_incomplete(policy: Policy) -> None:
    old = stmt("issue_tracker_record", metrics={"issues": 1})
    found = _sm11(policy, [old])
    assert found.status is Status.INCOMPLETE
    assert "collect it again" in found.reason


def test_an_earlier_passing_verdict_no_longer_satisfies_it(policy: Policy) -> None:
    gate = stmt(
        "release_gate_record",
        commit="b" * 40,
        details={"release": "v1.0", "passed": True, "statuses": {}},
    )
    found = _sm11(policy, [gate, _sast(("B602", "high", "src/run.py")), _issues()])
    assert found.status is Status.FAILING


def _commit(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")


def _status(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    args = ["--policy", str(repo / "sm11.yaml"), "--format", "json"]
    assert main(["status", "--repo", str(repo), *args]) == 0
    return {r["id"]: r for r in json.loads(capsys.readouterr().out)["requirements"]}


def test_on_a_real_repository(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    _commit(
        git_repo,
        {
            "app.py": SHELL,
            "docs/patch-policy.md": PATCH_POLICY,
            "security-issues/README.md": "How to report an issue.\n",
            "sm11.yaml": "extends: iec62443-4-1\n" + only("SM-11,SI-2"),
        },
    )
    assert main(["collect", "--only", "sast", "--only", "issues", "--repo", str(git_repo)]) == 0
    sm11 = _status(git_repo, capsys)["SM-11"]
    assert sm11["status"] == "failing", sm11["reason"]
    assert "B602 app.py:5 (high, sast entry" in sm11["reason"]
    assert "SI-2 (failing)" in sm11["reason"]

    _commit(
        git_repo,
        {
            "security-issues/SEC-2026-001.yaml": (
                "id: SEC-2026-001\ntitle: shell=True in run()\n"
                f"received: {datetime.now(timezone.utc).date()}\n"
                "status: assessed\ntracks: [B602:app.py, SI-2]\nassessment:\n"
                '  cvss: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N"\n'
            )
        },
    )
    assert main(["collect", "--only", "issues", "--repo", str(git_repo)]) == 0
    sm11 = _status(git_repo, capsys)["SM-11"]
    assert sm11["status"] == "satisfied", sm11["reason"]
    assert "app.py:5 (high, sast entry 1): SEC-2026-001" in sm11["reason"]
