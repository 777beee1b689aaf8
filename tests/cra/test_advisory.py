"""`sdl-tracker advisory`: CSAF 2.0 documents from a real repository, checked by the OASIS schema
and by BSI's csaf-validator-lib mandatory tests, then collected as `advisory` evidence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys
from node_tools import csaf_mandatory, csaf_schema_errors

from sdl_tracker.cli.commands import advisory, waive
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RECORD = """\
id: SEC-2026-007
title: Signature check bypass in ledger verify
received: 2026-11-02
aliases: [CVE-2026-99001, GHSA-abcd-efgh-ijkl]
assessment:
  cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"
status: assessed
cra:
  kind: vulnerability
  actively_exploited: true
  aware_at: 2026-11-02T09:15:00Z
  description: A crafted entry passes the signature check without a valid signature.
  mitigations: [Verify ledgers only from trusted remotes]
"""
VEX = {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://example.com/vex/1",
    "author": "PSIRT",
    "timestamp": "2026-11-01T00:00:00Z",
    "version": 1,
    "statements": [
        {
            "vulnerability": {"name": "CVE-2026-99001"},
            "products": [{"@id": "pkg:pypi/widget"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
        }
    ],
}


def _commit(repo: Path, files: dict[str, str], tag: str | None = None) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"change for {tag or 'records'}")
    if tag:
        git(repo, "tag", tag)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    with open(git_repo / ".sdl-tracker.toml", "a") as f:
        f.write('\n[advisory]\npublisher = "Widget Corp"\nnamespace = "https://widget.example"\n')
    project = '[project]\nname = "widget"\nversion = "{}"\ndependencies = []\n'
    # 0.9.0 predates the vulnerable code: a VEX statement committed with it says so
    _commit(
        git_repo,
        {"pyproject.toml": project.format("0.9.0"), "vex.json": json.dumps(VEX)},
        "v0.9.0",
    )
    git(git_repo, "rm", "-q", "vex.json")
    _commit(git_repo, {"pyproject.toml": project.format("1.0.0")}, "v1.0.0")
    _commit(git_repo, {"pyproject.toml": project.format("1.1.0")}, "v1.1.0")
    return git_repo


def _write(repo: Path, profile: str, record: str, out: Path) -> dict:
    _commit(repo, {"security-issues/SEC-2026-007.yaml": record})
    ws = open_workspace(repo)
    assert advisory.run(ws=ws, issue="SEC-2026-007", profile=profile, output_file=out, now=NOW) == 0
    loaded: dict = json.loads(out.read_text())
    return loaded


def test_open_issue_advisory_and_vex_are_valid_csaf(repo: Path, tmp_path: Path) -> None:
    sa = _write(repo, "advisory", RECORD, tmp_path / "sa" / "sec-2026-007.json")
    vex = _write(repo, "vex", RECORD, tmp_path / "vex" / "sec-2026-007.json")
    assert sa["document"]["category"] == "csaf_security_advisory"
    assert vex["document"]["category"] == "csaf_vex"
    (vuln,) = sa["vulnerabilities"]
    assert vuln["cve"] == "CVE-2026-99001"
    assert {"system_name": "GitHub Security Advisory", "text": "GHSA-abcd-efgh-ijkl"} in vuln["ids"]
    assert vuln["product_status"] == {
        "known_affected": ["WIDGET-1.0.0", "WIDGET-1.1.0"],
        "known_not_affected": ["WIDGET-0.9.0"],
    }
    # no fix yet: the mitigation is the remediation
    assert vuln["remediations"][0]["category"] == "mitigation"
    assert vuln["flags"] == [
        {"label": "vulnerable_code_not_present", "product_ids": ["WIDGET-0.9.0"]}
    ]
    assert vuln["scores"][0]["cvss_v3"]["baseScore"] == 7.5
    assert csaf_schema_errors(sa) == [] and csaf_schema_errors(vex) == []
    files = [tmp_path / d / "sec-2026-007.json" for d in ("sa", "vex")]
    results = csaf_mandatory(files)
    assert [(r["isValid"], r["failed"]) for r in results] == [(True, []), (True, [])]
    assert results[0]["testsRun"] == 44


def test_fixed_advisory_is_recorded_as_advisory_evidence_naming_the_fixing_release(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed = RECORD.replace(
        "status: assessed",
        "status: fixed\nfixed: 2026-11-06\nfixed_in: 1.1.0",
    ).replace("  description:", "  measure_available_at: 2026-11-06T16:00:00Z\n  description:")
    out = repo / "advisories" / "sec-2026-007.json"
    sa = _write(repo, "advisory", fixed, out)
    (vuln,) = sa["vulnerabilities"]
    assert vuln["product_status"]["fixed"] == ["WIDGET-1.1.0"]
    assert vuln["remediations"][0]["category"] == "vendor_fix"
    assert vuln["scores"][0]["products"] == ["WIDGET-1.0.0"]
    (result,) = csaf_mandatory([out])
    assert result["isValid"], result["failed"]
    assert csaf_schema_errors(sa) == []

    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "publish the advisory")
    capsys.readouterr()
    assert main(["collect", "--only", "issues", "--repo", str(repo), "--format", "json"]) == 0
    preds = [e["statement"]["predicate"] for e in json.loads(capsys.readouterr().out)]
    (adv,) = [p for p in preds if p["kind"] == "advisory"]
    assert adv["result"]["status"] == "pass"
    assert adv["details"]["fixed_releases"] == ["v1.1.0"]
    assert adv["details"]["tracking_id"] == "SEC-2026-007"
    assert "fixed in v1.1.0" in adv["result"]["summary"]


def test_an_advisory_naming_an_untagged_fix_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = repo / "advisories" / "sec-2026-007.json"
    fixed = RECORD.replace("status: assessed", "status: assessed\nfixed_in: 1.1.0")
    sa = _write(repo, "advisory", fixed, out)
    sa["product_tree"]["branches"][0]["branches"][0]["branches"][2]["name"] = "1.2.0"
    out.write_text(json.dumps(sa))
    _commit(repo, {})
    assert main(["collect", "--only", "issues", "--repo", str(repo), "--format", "json"]) == 0
    preds = [e["statement"]["predicate"] for e in json.loads(capsys.readouterr().out)]
    (adv,) = [p for p in preds if p["kind"] == "advisory"]
    assert adv["result"]["status"] == "fail"
    assert "fixed version(s) 1.2.0 name no release tag" in adv["result"]["summary"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("status: assessed", "fixed_in: 2.0.0 names no release tag"),
        ("publisher", "give --publisher NAME and --namespace URL"),
        ("id", "no security-issue record with id 'SEC-2026-999'"),
    ],
)
def test_what_cannot_make_an_advisory_exits_2(
    repo: Path, capsys: pytest.CaptureFixture[str], change: str, message: str
) -> None:
    record = RECORD.replace("status: assessed", "status: assessed\nfixed_in: 2.0.0")
    _commit(repo, {"security-issues/SEC-2026-007.yaml": record if change != "id" else RECORD})
    if change == "publisher":
        _commit(
            repo,
            {
                "security-issues/SEC-2026-007.yaml": RECORD,
                ".sdl-tracker.toml": (repo / ".sdl-tracker.toml")
                .read_text()
                .split("[advisory]")[0],
            },
        )
    ident = "SEC-2026-999" if change == "id" else "SEC-2026-007"
    capsys.readouterr()
    assert main(["advisory", ident, "--repo", str(repo)]) == 2
    assert message in capsys.readouterr().err


def test_vex_states_an_approved_not_affected_waiver(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finding waiver with a justification is a not_affected statement: once a roster approver
    signed it, the VEX document marks the releases with no fix and no VEX decision of their own
    not affected, naming the waiver; pending, it changes nothing."""
    keys = ssh_keys(tmp_path / "keys")
    commit_roster(repo, roster_text(keys))
    ws = open_workspace(repo)
    asked = waive.run(
        ws=ws,
        target="CVE-2026-99001",
        reason="the verify path is not reachable in the shipped configuration",
        expires=(NOW + timedelta(days=30)).date().isoformat(),
        approver="Grace Hopper <grace@example.com>",
        fmt="text",
        now=NOW - timedelta(days=1),
        justification="vulnerable_code_not_in_execute_path",
        key=keys["ada"],
    )
    assert asked == 0
    capsys.readouterr()
    vex = _write(repo, "vex", RECORD, tmp_path / "pending" / "sec-2026-007.json")
    assert vex["vulnerabilities"][0]["product_status"]["known_affected"] == [
        "WIDGET-1.0.0",
        "WIDGET-1.1.0",
    ]
    assert "waiver entry 1 (CVE-2026-99001, vulnerable_code_not_in_execute_path) is pending" in (
        capsys.readouterr().err
    )

    assert main(["approve", "1", "--key", str(keys["grace"]), "--repo", str(repo)]) == 0
    out = tmp_path / "vex" / "sec-2026-007.json"
    vex = _write(repo, "vex", RECORD, out)
    (vuln,) = vex["vulnerabilities"]
    assert vuln["product_status"] == {
        "known_not_affected": ["WIDGET-0.9.0", "WIDGET-1.0.0", "WIDGET-1.1.0"]
    }
    assert {"label": "vulnerable_code_not_in_execute_path",
            "product_ids": ["WIDGET-1.0.0", "WIDGET-1.1.0"]} in vuln["flags"]  # fmt: skip
    waived = [t for t in vuln["threats"] if t["product_ids"] == ["WIDGET-1.0.0"]]
    assert "waiver entry 1: the verify path is not reachable" in waived[0]["details"]
    assert "approved by Grace Hopper <grace@example.com>, until 2026-12-20" in waived[0]["details"]
    assert "remediations" not in vuln
    assert csaf_schema_errors(vex) == []
    (result,) = csaf_mandatory([out])
    assert result["isValid"], result["failed"]
    # the security advisory profile keeps stating what is affected
    sa = _write(repo, "advisory", RECORD, tmp_path / "sa" / "sec-2026-007.json")
    assert sa["vulnerabilities"][0]["product_status"]["known_affected"] == [
        "WIDGET-1.0.0",
        "WIDGET-1.1.0",
    ]


@pytest.mark.parametrize(
    ("target", "label", "message"),
    [
        ("SVV-4", "component_not_present", "--justification belongs to a finding waiver"),
        ("CVE-2026-99001", "not_reachable", "--justification 'not_reachable': expected one of"),
    ],
)
def test_a_justification_only_on_a_finding_waiver_with_a_known_label(
    repo: Path, capsys: pytest.CaptureFixture[str], target: str, label: str, message: str
) -> None:
    argv = [
        "waive", target, "--reason", "r", "--expires",
        (datetime.now(timezone.utc) + timedelta(days=10)).date().isoformat(),
        "--approver", "Grace Hopper <grace@example.com>", "--justification", label,
        "--repo", str(repo),
    ]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 2
    assert message in capsys.readouterr().err
