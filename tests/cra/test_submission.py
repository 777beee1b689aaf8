"""`record cra_submission`: a signed submission from the roster's product-security-lead closes a
stage in `status`; any other signer, or none, closes nothing and is named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

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
"""


def _status(repo: Path, now: datetime, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    status.run(ws=open_workspace(repo), commit=None, policy_file=None, fmt="table", now=now)
    return capsys.readouterr().err


def test_only_a_product_security_lead_signature_closes_a_stage(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo
    keys = ssh_keys(tmp_path / "keys")
    commit_roster(repo, roster_text(keys))
    assert main(["init", "--repo", str(repo)]) == 0
    (repo / "security-issues").mkdir()
    (repo / "security-issues" / "SEC-2026-007.yaml").write_text(RECORD)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "record")
    ws = open_workspace(repo)
    assert (
        collect.run(
            ws=ws,
            only=["issues"],
            from_report=None,
            options={},
            force=False,
            fmt="text",
            now=T + timedelta(hours=1),
        )
        == 0
    )
    sent = tmp_path / "early-warning.json"
    sent.write_text('{"what": "early warning as sent"}\n')
    argv = [
        "record", "cra_submission", str(sent), "--issue", "SEC-2026-007",
        "--stage", "early-warning", "--submitted-at", "2026-11-03T08:00:00+01:00",
        "--reference", "SRP-2026-000123", "--repo", str(repo),
    ]  # fmt: skip
    assert main(argv) == 0  # unsigned
    assert main([*argv, "--sign", "--key", str(keys["tess"])]) == 0  # not a lead
    text = _status(repo, T + timedelta(hours=25), capsys)
    assert "early_warning due 2026-11-03T09:15:00Z: OVERDUE" in text
    assert "entry 2 (SEC-2026-007 early_warning) is not counted: signed by nobody" in text
    assert "entry 3 (SEC-2026-007 early_warning) is not counted: signed by Tess Tester" in text

    assert main([*argv, "--sign", "--key", str(keys["grace"])]) == 0
    text = _status(repo, T + timedelta(hours=25), capsys)
    assert (
        "early_warning due 2026-11-03T09:15:00Z: submitted 2026-11-03T07:00:00Z "
        "(SRP-2026-000123, signed by Grace Hopper <grace@example.com>)"
    ) in text
    assert "OVERDUE" not in text
    assert "notification due 2026-11-05T09:15:00Z: open" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--stage", "notification"], "missing: --issue, --submitted-at, --reference"),
        (
            [
                "--issue",
                "S",
                "--stage",
                "final",
                "--reference",
                "R",
                "--submitted-at",
                "2026-11-03",
            ],
            "--submitted-at: 2026-11-03T00:00:00 has no time zone",
        ),
    ],
)
def test_incomplete_submission_exits_2(
    git_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    sent = tmp_path / "x.json"
    sent.write_text("{}")
    capsys.readouterr()
    assert main(["record", "cra_submission", str(sent), *extra, "--repo", str(git_repo)]) == 2
    assert message in capsys.readouterr().err


def test_submission_options_belong_to_cra_submission_only(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF")
    argv = ["record", "pentest_report", str(report), "--stage", "final", "--repo", str(git_repo)]
    assert main(argv) == 2
    assert "--stage belongs to kind cra_submission only" in capsys.readouterr().err
