from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main

FIXED = """\
id: SEC-2026-001
title: Path traversal in firmware upload
received: 2026-03-01
triaged: 2026-03-03
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"
status: fixed
fixed_in: 1.4.1
fixed: 2026-03-21
advisory: GHSA-aaaa-bbbb-cccc
"""
OPEN_ASSESSED = """\
id: SEC-2026-002
title: Denial of service on malformed Modbus frame
received: 2026-11-01
triaged: 2026-11-02
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"
status: assessed
"""
ADVISORY = {
    "id": "GHSA-aaaa-bbbb-cccc",
    "summary": "Path traversal",
    "published": "2026-03-22T00:00:00Z",
    "aliases": ["CVE-2026-0001"],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"}],
}
OTHER_ADVISORY = {
    "id": "PYSEC-2026-9",
    "published": "2026-06-01T00:00:00Z",
    "affected": [
        {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}
    ],
}


PATCH_POLICY = """\
---
patch_sla_days: {critical: 30, high: 60, medium: 90, low: 180}
---
# Patch policy
"""


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    _write(git_repo, {"docs/patch-policy.md": PATCH_POLICY})
    return git_repo


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "records")


def _collect(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[dict]]:
    capsys.readouterr()
    code = main(["collect", "--only", "issues", "--repo", str(repo), "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, [e["statement"]["predicate"] for e in json.loads(out)] if out else []


def test_metrics_from_records_and_advisories(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        repo,
        {
            "security-issues/SEC-1.yaml": FIXED,
            "security-issues/SEC-2.yaml": OPEN_ASSESSED,
            "advisories/GHSA-aaaa-bbbb-cccc.json": json.dumps(ADVISORY),
            "advisories/PYSEC-2026-9.json": json.dumps(OTHER_ADVISORY),
        },
    )
    code, (pred,) = _collect(repo, capsys)
    assert code == 0
    assert pred["kind"] == "issue_tracker_record"
    metrics = pred["result"]["metrics"]
    # the GHSA advisory is linked from SEC-1: one issue, not two
    assert metrics["issues"] == 3
    assert metrics["open"] == 1
    assert metrics["assessed"] == 2
    assert metrics["unassessed_open"] == 0
    assert metrics["fixed"] == 1
    assert metrics["disclosed"] == 2
    assert metrics["median_days_to_triage"] in (1.5,)
    assert metrics["max_days_to_fix"] == 20


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            "id: S-3\ntitle: t\nreceived: 2026-11-20\nstatus: received\n",
            "1 open issue(s) not assessed: S-3",
        ),
        (
            "id: S-4\ntitle: t\nreceived: 2025-01-01\nassessment:\n  cvss: "
            '"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"\nstatus: assessed\n',
            "1 patch SLA breach(es): S-4 (critical,",
        ),
        (
            "id: S-5\ntitle: t\nreceived: 2026-01-01\nassessment:\n  cvss: "
            '"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"\nstatus: fixed\nfixed: 2026-03-15\n',
            "1 patch SLA breach(es): S-5 (critical, 73 days > 30)",
        ),
    ],
)
def test_failures(
    repo: Path, capsys: pytest.CaptureFixture[str], record: str, expected: str
) -> None:
    _write(repo, {"security-issues/x.yaml": record})
    _, (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "fail"
    assert expected in pred["result"]["summary"]


def test_patch_sla_comes_from_the_patch_policy(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        repo,
        {
            "docs/patch-policy.md": PATCH_POLICY.replace("critical: 30", "critical: 90"),
            "security-issues/x.yaml": (
                "id: S-5\ntitle: t\nreceived: 2026-01-01\nassessment:\n  cvss: "
                '"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"\nstatus: fixed\nfixed: 2026-03-15\n'
            ),
        },
    )
    _, (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "pass"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.yaml", "id: [\n", "a.yaml: line 2: not valid YAML"),
        (
            "b.yaml",
            "id: X\ntitle: t\nreceived: 2026-01-01\nstatus: done\n",
            "status: 'done' is not one of",
        ),
        (
            "c.yaml",
            "id: X\ntitle: t\nreceived: soon\nstatus: received\n",
            "received: expected a date",
        ),
        (
            "d.yaml",
            "id: X\ntitle: t\nreceived: 2026-01-01\nstatus: received\n"
            "assessment:\n  cvss: CVSS:3.1/AV:Q\n",
            "assessment.cvss: not a valid CVSS",
        ),
        (
            "e.yaml",
            "id: X\ntitle: t\nreceived: 2026-01-01\nstatus: fixed\n",
            "fixed: required when status is fixed",
        ),
        (
            "f.yaml",
            "id: X\ntitle: t\nreceived: 2026-01-01\nstatus: received\nowner: me\n",
            "unknown field 'owner'",
        ),
    ],
)
def test_malformed_records_exit_2_and_append_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    _write(repo, {f"security-issues/{name}": text})
    code = main(["collect", "--only", "issues", "--repo", str(repo)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert list(ledger.entries(ledger.GitStore(repo))) == []


def test_ingest_advisory_from_report(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "ghsa.json"
    report.write_text(
        json.dumps(
            {
                "ghsa_id": "GHSA-xxxx-yyyy-zzzz",
                "published_at": "2026-05-01T00:00:00Z",
                "cvss": {"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"},
            }
        )
    )
    code, (pred,) = _collect(repo, capsys, "--from-report", str(report))
    assert code == 0
    assert pred["result"]["metrics"]["disclosed"] == 1
    assert pred["result"]["status"] == "pass"


def test_without_a_records_folder_it_says_what_to_create(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["collect", "--only", "issues", "--repo", str(repo)]) == 0
    err = capsys.readouterr().err
    assert "note: issues: no security-issues/ or .security-issues/ folder of issue records" in err
    assert "create security-issues/ with one YAML file per security issue" in err
    _write(repo, {"security-issues/README.md": "Report issues to psirt@example.com\n"})
    assert main(["collect", "--only", "issues", "--repo", str(repo)]) == 0
    assert "note: issues:" not in capsys.readouterr().err


def test_the_sla_is_never_a_built_in_default(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed = (
        "id: S-5\ntitle: t\nreceived: 2026-01-01\nassessment:\n  cvss: "
        '"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"\nstatus: fixed\nfixed: 2026-03-15\n'
    )
    _write(repo, {"security-issues/x.yaml": fixed, "docs/patch-policy.md": "# Patch policy\n"})
    _, (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "incomplete"
    assert (
        "docs/patch-policy.md states no patch SLA: add front matter" in (pred["result"]["summary"])
    )
    git(repo, "rm", "-q", "docs/patch-policy.md")
    git(repo, "commit", "-q", "-m", "no policy")
    _, (pred,) = _collect(repo, capsys)
    assert "no patch-policy document at docs/patch-policy.md" in pred["result"]["summary"]
    with open(repo / ".sdl-tracker.toml", "a") as f:
        f.write("\n[collectors.issues]\npatch_sla_days = { critical = 90 }\n")
    assert main(["collect", "--only", "issues", "--repo", str(repo)]) == 2
    assert "move it to the front matter of docs/patch-policy.md" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("---\npatch_sla_days: {critical: 30}\n---\n", "high, medium, low missing"),
        ("---\npatch_sla_days: {critical: 0, high: 1, medium: 1, low: 1}\n---\n", "got 0"),
        ("---\npatch_sla_days: [30]\n---\n", "expected days by severity"),
        ("---\npatch_sla_days: {critical: 30\n", "never closed"),
        ("---\npatch_sla_days: {critical: [\n---\n", "front matter is not valid YAML"),
    ],
)
def test_a_malformed_patch_sla_exits_2(
    repo: Path, capsys: pytest.CaptureFixture[str], policy: str, message: str
) -> None:
    _write(repo, {"docs/patch-policy.md": policy, "security-issues/README.md": "x\n"})
    capsys.readouterr()
    assert main(["collect", "--only", "issues", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "patch-policy.md" in err and message in err
    assert list(ledger.entries(ledger.GitStore(repo))) == []


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ("received: 2026-03-01\nstatus: fixed\nfixed: 2026-02-01\n", "fixed: 2026-02-01 is before"),
        ("received: 2999-01-01\nstatus: received\n", "received: 2999-01-01 is in the future"),
        (
            "received: 2026-03-01\ntriaged: 2026-02-27\nstatus: triaged\n",
            "triaged: 2026-02-27 is before received (2026-03-01)",
        ),
        (
            "received: 2026-03-01\nstatus: fixed\nfixed: 2026-03-02\ndisclosed: 2999-01-01\n",
            "disclosed: 2999-01-01 is in the future",
        ),
        (  # no such day: PyYAML's own error, at its line, not a crash
            "received: 2024-13-01\nstatus: received\n",
            "line 3: not valid YAML ('2024-13-01' is not a valid timestamp",
        ),
    ],
)
def test_impossible_dates_exit_2_naming_the_record(
    repo: Path, capsys: pytest.CaptureFixture[str], dates: str, message: str
) -> None:
    _write(repo, {"security-issues/SEC-9.yaml": f"id: SEC-9\ntitle: t\n{dates}"})
    capsys.readouterr()
    assert main(["collect", "--only", "issues", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "security-issues/SEC-9.yaml: " + message in err, err
    assert list(ledger.entries(ledger.GitStore(repo))) == []


DRILL = """\
id: DRILL-2026-001
title: Drill - test advisory through DM-1..DM-5
drill: true
received: 2026-03-01
triaged: 2026-03-02
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
status: disclosed
fixed: 2026-03-10
advisory: DRILL-2026-001
disclosed: 2026-03-11
"""


def test_no_issue_is_not_demonstrated_until_a_drill(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Zero issues is a process that never ran: DM-2 is not demonstrated, and the gate fails,
    until a drill (or a real issue) is taken through it."""
    _write(repo, {"security-issues/README.md": "Report issues to psirt@example.com\n"})
    _, (pred,) = _collect(repo, capsys)
    assert pred["result"]["metrics"]["issues"] == 0
    assert pred["result"]["status"] == "info"
    assert pred["result"]["summary"].startswith("no security issue recorded yet")
    main(["status", "--repo", str(repo), "--format", "json"])
    found = {r["id"]: r for r in json.loads(capsys.readouterr().out)["requirements"]}
    for rid in ("DM-2", "DM-3", "DM-4"):
        assert found[rid]["status"] == "not_demonstrated", found[rid]
        assert "counts 0 issues" in found[rid]["reason"]
        assert "run a drill" in found[rid]["action"]
    assert found["SUM-5"]["status"] != "satisfied"
    _write(repo, {"security-issues/DRILL-2026-001.yaml": DRILL})
    _, (pred,) = _collect(repo, capsys)
    assert pred["result"]["metrics"]["drills"] == 1
    main(["status", "--repo", str(repo), "--format", "json"])
    found = {r["id"]: r for r in json.loads(capsys.readouterr().out)["requirements"]}
    for rid in ("DM-2", "DM-3", "DM-4"):
        assert found[rid]["status"] == "satisfied", found[rid]
