"""The Article 14 walk on a real repository: an actively exploited vulnerability recorded at T,
`status` at T+23 h and T+25 h, the submissions recorded, the fix released, the CSAF advisory
produced and validated, the final report drafted. Every command gets its `now` passed in.

A stage closes only by a `record cra_submission` entry a product-security-lead signed: what the
issue record declares as sent, or an unsigned or wrongly signed entry, leaves it overdue in
`status`, in the collected evidence and in the CRA gate alike."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys
from node_tools import csaf_mandatory, csaf_schema_errors

from sdl_tracker.cli.commands import advisory, collect, cra, status
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

T = datetime(2026, 11, 2, 9, 15, tzinfo=timezone.utc)
RECORD = """\
id: SEC-2026-007
title: Signature check bypass in ledger verify
received: 2026-11-02
aliases: [CVE-2026-99001]
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"
status: {status}
cra:
  kind: vulnerability
  actively_exploited: true
  aware_at: 2026-11-02T09:15:00Z
  member_states: [DE, NL]
  description: A crafted entry passes the signature check without a valid signature.
  mitigations: [Verify ledgers only from trusted remotes]
"""
SUBMITTED = """\
  submissions:
    early_warning: {submitted_at: 2026-11-03T10:00:00Z, reference: SRP-2026-000123}
    notification: {submitted_at: 2026-11-05T08:00:00Z, reference: SRP-2026-000123,
                   sensitivity: "TLP:AMBER"}
"""


def _commit(repo: Path, files: dict[str, str], tag: str | None = None) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"step {tag or ''}")
    if tag:
        git(repo, "tag", tag)


def _collect(repo: Path, now: datetime, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    ws = open_workspace(repo)
    assert (
        collect.run(
            ws=ws, only=["issues"], from_report=None, options={}, force=False, fmt="json", now=now
        )
        == 0
    )
    return [e["statement"]["predicate"] for e in json.loads(capsys.readouterr().out)]


def _status(repo: Path, now: datetime, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    status.run(ws=open_workspace(repo), commit=None, policy_file=None, fmt="table", now=now)
    return capsys.readouterr().err


def _cra14(repo: Path, now: datetime, capsys: pytest.CaptureFixture[str]) -> dict:
    """CRA-14 as `status --framework cra` judges it at `now` (the gate evaluates the same way)."""
    capsys.readouterr()
    status.run(
        ws=open_workspace(repo), commit=None, policy_file=None, fmt="json", now=now, framework="cra"
    )
    (item,) = [
        r for r in json.loads(capsys.readouterr().out)["requirements"] if r["id"] == "CRA-14"
    ]
    return item


def _draft(repo: Path, stage: str, now: datetime, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert (
        cra.run(ws=open_workspace(repo), issue="SEC-2026-007", stage=stage, fmt="json", now=now)
        == 0
    )
    loaded: dict = json.loads(capsys.readouterr().out)
    return loaded


def test_article_14_walk(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo
    keys = ssh_keys(tmp_path / "keys")
    commit_roster(repo, roster_text(keys))
    assert main(["init", "--repo", str(repo)]) == 0
    with open(repo / ".sdl-tracker.toml", "a") as f:
        f.write('\n[advisory]\npublisher = "Widget Corp"\nnamespace = "https://widget.example"\n')
    project = '[project]\nname = "widget"\nversion = "{}"\ndependencies = []\n'
    policy = "---\npatch_sla_days: {critical: 30, high: 60, medium: 90, low: 180}\n---\n# Patch\n"
    _commit(
        repo,
        {"pyproject.toml": project.format("1.0.0"), "docs/patch-policy.md": policy},
        "v1.0.0",
    )

    # T: the actively exploited vulnerability is recorded
    _commit(repo, {"security-issues/SEC-2026-007.yaml": RECORD.format(status="assessed")})
    (pred,) = _collect(repo, T + timedelta(hours=1), capsys)
    assert pred["result"]["metrics"]["cra_reportable"] == 1
    assert pred["result"]["status"] == "pass"

    # T+23 h: everything still open
    text = _status(repo, T + timedelta(hours=23), capsys)
    assert "early_warning due 2026-11-03T09:15:00Z: open, 1 h 00 min left" in text
    assert "OVERDUE" not in text
    assert _cra14(repo, T + timedelta(hours=23), capsys)["status"] == "satisfied"

    # T+25 h: the early warning is overdue, without collecting again
    text = _status(repo, T + timedelta(hours=25), capsys)
    assert "SEC-2026-007 (vulnerability, aware 2026-11-02T09:15:00Z) OVERDUE" in text
    assert "early_warning due 2026-11-03T09:15:00Z: OVERDUE by 1 h 00 min" in text
    # ... and the CRA view fails CRA-14 at that time, from the same stored evidence
    item = _cra14(repo, T + timedelta(hours=25), capsys)
    assert item["status"] == "failing", item
    assert "cra_overdue" in item["reason"], item
    early = _draft(repo, "early-warning", T + timedelta(hours=25), capsys)
    values = {f["field"]: f["value"] for f in early["fields"]}
    assert values["product"] == "widget"
    assert values["affected_versions"] == ["1.0.0"]
    assert values["member_states"] == ["DE", "NL"]
    assert early["deadline"]["state"] == "overdue" and early["empty"] == []

    # the record declares the submissions: that alone closes nothing, anywhere
    _commit(
        repo,
        {"security-issues/SEC-2026-007.yaml": RECORD.format(status="assessed") + SUBMITTED},
    )
    (pred,) = _collect(repo, T + timedelta(days=3), capsys)
    metrics = pred["result"]["metrics"]
    assert (metrics["cra_overdue"], metrics["cra_late"]) == (1, 0)
    assert "overdue: SEC-2026-007 early_warning" in pred["result"]["summary"]
    text = _status(repo, T + timedelta(days=3), capsys)
    assert "early_warning: declared in the record as sent 2026-11-03T10:00:00Z" in text
    assert "not counted: only a `record cra_submission` entry signed by a" in text
    assert _cra14(repo, T + timedelta(days=3), capsys)["status"] == "failing"

    # recorded unsigned, then signed by a tester: still overdue in the gate's view
    sent = tmp_path / "early-warning.json"
    sent.write_text('{"what": "early warning as sent"}\n')
    argv = [
        "record", "cra_submission", str(sent), "--issue", "SEC-2026-007",
        "--stage", "early-warning", "--submitted-at", "2026-11-03T10:00:00Z",
        "--reference", "SRP-2026-000123", "--repo", str(repo),
    ]  # fmt: skip
    assert main(argv) == 0
    assert main([*argv, "--sign", "--key", str(keys["tess"])]) == 0
    item = _cra14(repo, T + timedelta(days=3), capsys)
    assert item["status"] == "failing", item
    assert "cra_overdue" in item["reason"], item

    # the product-security-lead signs both: the early warning went out 45 minutes late
    assert main([*argv, "--sign", "--key", str(keys["grace"])]) == 0
    notification = [
        *argv[:5], "--stage", "notification", "--submitted-at", "2026-11-05T08:00:00Z",
        *argv[9:], "--sign", "--key", str(keys["grace"]),
    ]  # fmt: skip
    assert main(notification) == 0
    (pred,) = _collect(repo, T + timedelta(days=3), capsys)
    metrics = pred["result"]["metrics"]
    assert (metrics["cra_overdue"], metrics["cra_late"]) == (0, 1)
    assert pred["result"]["status"] == "fail"
    assert "sent late: SEC-2026-007 early_warning" in pred["result"]["summary"]
    item = _cra14(repo, T + timedelta(days=3), capsys)
    assert item["status"] == "failing" and "cra_late" in item["reason"], item

    # the fix is released: the measure is available, the 14-day final-report clock starts
    fixed = (
        RECORD.format(status="fixed\nfixed: 2026-11-06\nfixed_in: 1.0.1")
        + "  measure_available_at: 2026-11-06T16:00:00Z\n"
        + SUBMITTED
    )
    _commit(
        repo,
        {"pyproject.toml": project.format("1.0.1"), "security-issues/SEC-2026-007.yaml": fixed},
        "v1.0.1",
    )

    # the CSAF advisory, validated, published, and collected as advisory evidence
    out = repo / "advisories" / "sec-2026-007.json"
    ws = open_workspace(repo)
    assert (
        advisory.run(ws=ws, issue="SEC-2026-007", output_file=out, now=T + timedelta(days=5)) == 0
    )
    document = json.loads(out.read_text())
    assert csaf_schema_errors(document) == []
    (verdict,) = csaf_mandatory([out])
    assert verdict["isValid"], verdict["failed"]
    assert document["vulnerabilities"][0]["product_status"] == {
        "fixed": ["WIDGET-1.0.1"],
        "known_affected": ["WIDGET-1.0.0"],
    }
    _commit(repo, {})
    preds = _collect(repo, T + timedelta(days=5), capsys)
    (adv,) = [p for p in preds if p["kind"] == "advisory"]
    assert adv["result"]["status"] == "pass"
    assert adv["details"]["fixed_releases"] == ["v1.0.1"]

    # the final report is drafted: due 14 days after the measure, what is still empty is named
    final = _draft(repo, "final", T + timedelta(days=10), capsys)
    assert final["deadline"]["due"] == "2026-11-20T16:00:00Z"
    assert final["deadline"]["state"] == "open"
    values = {f["field"]: f["value"] for f in final["fields"]}
    assert values["fixed_versions"] == ["1.0.1"]
    assert values["ids"] == ["CVE-2026-99001"]
    assert values["cvss"].startswith("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N (7.5 high)")
    assert final["empty"] == [
        "impact (SEC-2026-007.yaml: cra.impact)",
        "malicious_actor (SEC-2026-007.yaml: cra.malicious_actor)",
        "corrective_measure (SEC-2026-007.yaml: cra.corrective_measure)",
        "advisory (SEC-2026-007.yaml: advisory)",
    ]
    capsys.readouterr()
    assert cra.run(ws=ws, issue="SEC-2026-007", stage="final", now=T + timedelta(days=10)) == 0
    captured = capsys.readouterr()
    assert "# Final report: SEC-2026-007 — Signature check bypass in ledger verify" in captured.out
    assert "| Security update or other corrective measures | **(empty)** |" in captured.out
    assert "4 field(s) still empty" in captured.err

    # status at T+10 d: the final report is the open stage, the late early warning is shown;
    # the signed early warning and notification did not move the final report's deadline
    text = _status(repo, T + timedelta(days=10), capsys)
    assert "final_report due 2026-11-20T16:00:00Z: open, 8 d 6 h 45 min left" in text
    assert "early_warning due 2026-11-03T09:15:00Z: submitted 2026-11-03T10:00:00Z, LATE" in text
    assert "users: no cra.users_informed_at" in text


def test_report_of_an_issue_without_a_reportable_block_exits_2(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    record = RECORD.format(status="assessed").replace(
        "actively_exploited: true", "actively_exploited: false"
    )
    _commit(git_repo, {"security-issues/SEC-2026-007.yaml": record})
    capsys.readouterr()
    code = main(
        ["cra", "report", "SEC-2026-007", "--stage", "notification", "--repo", str(git_repo)]
    )
    assert code == 2
    assert "no reportable cra: block" in capsys.readouterr().err
