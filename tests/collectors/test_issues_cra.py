"""The Article 14 clock in the issues collector and in `status`, on a real repository."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.commands import collect, status
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

T = datetime(2026, 11, 2, 9, 15, tzinfo=timezone.utc)
RECORD = """\
id: SEC-2026-007
title: Signature check bypass
received: 2026-11-02
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"
status: assessed
cra:
  kind: vulnerability
  actively_exploited: true
  aware_at: 2026-11-02T09:15:00Z
  member_states: [DE, NL]
"""


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    # the patch targets the issues collector measures against (else its evidence is incomplete)
    (git_repo / "docs").mkdir(exist_ok=True)
    (git_repo / "docs" / "patch-policy.md").write_text(
        "---\npatch_sla_days: {critical: 30, high: 60, medium: 90, low: 180}\n---\n# Patch\n"
    )
    return git_repo


def _write(repo: Path, text: str) -> None:
    (repo / "security-issues").mkdir(exist_ok=True)
    (repo / "security-issues" / "SEC-2026-007.yaml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "record")


def _collect(repo: Path, now: datetime, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    ws = open_workspace(repo)
    code = collect.run(
        ws=ws, only=["issues"], from_report=None, options={}, force=False, fmt="json", now=now
    )
    assert code == 0
    (entry,) = json.loads(capsys.readouterr().out)
    return entry["statement"]["predicate"]


def test_clock_in_evidence_and_status(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(repo, RECORD)
    pred = _collect(repo, T + timedelta(hours=23), capsys)
    metrics = pred["result"]["metrics"]
    assert (metrics["cra_reportable"], metrics["cra_overdue"], metrics["cra_late"]) == (1, 0, 0)
    assert pred["result"]["status"] == "pass"
    (case,) = pred["details"]["cra_cases"]
    assert case["stages"][0]["due"] == "2026-11-03T09:15:00Z"

    # status at T+25 h judges the stored case again: the early warning is overdue now
    ws = open_workspace(repo)
    capsys.readouterr()
    status.run(ws=ws, commit=None, policy_file=None, fmt="table", now=T + timedelta(hours=25))
    err = capsys.readouterr().err
    assert "SEC-2026-007 (vulnerability, aware 2026-11-02T09:15:00Z) OVERDUE" in err
    assert "early_warning due 2026-11-03T09:15:00Z: OVERDUE by 1 h 00 min" in err
    assert "notification due 2026-11-05T09:15:00Z: open, 1 d 23 h 00 min left" in err
    status.run(ws=ws, commit=None, policy_file=None, fmt="json", now=T + timedelta(hours=25))
    (case,) = json.loads(capsys.readouterr().out)["cra_cases"]
    assert case["overdue"] == ["early_warning"]

    # collected again the same day: not reaffirmed, the overdue stage fails the collection
    pred = _collect(repo, T + timedelta(hours=25), capsys)
    assert not pred["result"]["summary"].startswith("reaffirmed")
    assert pred["result"]["status"] == "fail"
    assert pred["result"]["metrics"]["cra_overdue"] == 1
    assert (
        "1 CRA Article 14 report(s) overdue: SEC-2026-007 early_warning"
        in (pred["result"]["summary"])
    )
    stored = _artifact(repo, "security-issues.json")
    assert stored["cra_cases"][0]["overdue"] == ["early_warning"]


def test_submissions_declared_in_the_record_close_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anybody who can commit can write `cra.submissions`: only a signed `record
    cra_submission` closes a stage (tests/cra/test_walk.py signs them)."""
    _write(
        repo,
        RECORD + "  submissions:\n"
        "    early_warning: {submitted_at: 2026-11-03T08:00:00Z, reference: SRP-1}\n"
        "    notification: {submitted_at: 2026-11-04T10:00:00Z, reference: SRP-1}\n",
    )
    pred = _collect(repo, T + timedelta(hours=30), capsys)
    assert pred["result"]["status"] == "fail"
    metrics = pred["result"]["metrics"]
    assert (metrics["cra_overdue"], metrics["cra_late"]) == (1, 0)
    assert metrics["cra_users_not_informed"] == 1
    assert "overdue: SEC-2026-007 early_warning" in pred["result"]["summary"]
    (case,) = pred["details"]["cra_cases"]
    early = case["stages"][0]
    assert (early["submitted_at"], early["declared_at"]) == (None, "2026-11-03T08:00:00Z")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "aware_at: 2026-11-02T09:15:00Z",
            "aware_at: 2026-11-02",
        ),
        ("aware_at: 2026-11-02T09:15:00Z", "aware_at: 2026-11-02 09:15:00"),
    ],
)
def test_bare_date_or_naive_time_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], change: str, message: str
) -> None:
    _write(repo, RECORD.replace(change, message))
    code = main(["collect", "--only", "issues", "--repo", str(repo)])
    assert code == 2
    err = capsys.readouterr().err
    assert "SEC-2026-007.yaml: cra.aware_at:" in err
    assert list(ledger.entries(ledger.GitStore(repo))) == []


def test_fixed_vulnerability_needs_the_measure_time(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(repo, RECORD.replace("status: assessed", "status: fixed\nfixed: 2026-11-06"))
    assert main(["collect", "--only", "issues", "--repo", str(repo)]) == 2
    assert "cra.measure_available_at: required when status is fixed" in capsys.readouterr().err


def _artifact(repo: Path, name: str) -> dict:
    store = ledger.GitStore(repo)
    for entry in reversed(list(ledger.entries(store))):
        for a in entry.statement().artifacts:
            if a.name == name:
                data = store.read_object(a.sha256)
                assert data is not None
                return json.loads(data)
    raise AssertionError(name)
