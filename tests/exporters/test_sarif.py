from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from export_support import schema
from node_tools import github_sarif_errors
from release_factory import SECRET

from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.exporters import EXPORTERS, sarif
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.ledger import artifact
from sdl_tracker.models import Predicate, Result, ResultStatus, Statement, Tool

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
BANDIT = {
    "errors": [],
    "metrics": {"_totals": {}, "./app.py": {"loc": 3}},
    "results": [
        {
            "filename": "./app.py",
            "line_number": 2,
            "col_offset": 0,
            "end_col_offset": 20,
            "line_range": [2],
            "test_id": "B105",
            "test_name": "hardcoded_password_string",
            "issue_severity": "LOW",
            "issue_confidence": "MEDIUM",
            "issue_cwe": {"id": 259, "link": "https://cwe.mitre.org/data/definitions/259.html"},
            "issue_text": "Possible hardcoded password: 'hunter2-very-secret'",
            "more_info": "https://bandit.readthedocs.io/en/latest/plugins/b105.html",
            "code": "2 password = 'hunter2-very-secret'\n",
        }
    ],
}


BANDIT_JSON = json.dumps(BANDIT).encode()


def validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(schema("sarif-schema-2.1.0.json"))


def _source(*items: tuple[Statement, dict[str, bytes]]) -> Source:
    conf = Conformance("c" * 40, NOW, "p", "0" * 64, (), ())
    objects = {k: v for _, o in items for k, v in o.items()}
    return Source(conformance=conf, records=records([s for s, _ in items]), objects=objects)


def _statement(
    kind: str, status: ResultStatus, files: dict[str, bytes]
) -> tuple[Statement, dict[str, bytes]]:
    stored = [artifact(name, data) for name, data in files.items()]
    st = Statement(
        commit="c" * 40,
        artifacts=tuple(a for a, _ in stored),
        predicate=Predicate(
            kind=kind,
            collector=kind,
            tool=Tool("bandit", "1.8.0"),
            requirements=("SI-2",),
            result=Result(status, f"{kind}: {status.value}"),
            recorded_by="Ada Lovelace <ada@example.com>",
            recorded_at=NOW,
        ),
    )
    return st, {a.sha256: d for a, d in stored}


def test_the_release_findings_are_one_valid_sarif_log(files: dict[str, bytes]) -> None:
    log = json.loads(files["findings.sarif"])
    assert list(validator().iter_errors(log)) == []
    by_tool = {r["tool"]["driver"]["name"]: r for r in log["runs"]}
    deps = by_tool["sdl-tracker osv-db"]
    (vuln,) = [r for r in deps["results"] if r["ruleId"] == "PYSEC-2018-28"]
    assert vuln["level"] == "error" and "requests 2.19.0" in vuln["message"]["text"]
    physical = vuln["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "requirements.txt"
    assert physical["region"]["startLine"] >= 1
    assert "declared in requirements.txt" in vuln["message"]["text"]
    (rule,) = [r for r in deps["tool"]["driver"]["rules"] if r["id"] == "PYSEC-2018-28"]
    assert "PYSEC-2018-28" in rule["properties"]["tags"]
    assert rule["helpUri"] == "https://osv.dev/vulnerability/PYSEC-2018-28"
    # GitHub reads security-severity from the rule: the CVSS base score of the OSV record
    assert rule["properties"]["security-severity"] == "5.3"
    assert (
        "CVSS base score 5.3 (CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N)"
        in (rule["help"]["markdown"])
    )
    (unscored,) = [r for r in deps["tool"]["driver"]["rules"] if r["id"] == "PYSEC-2019-133"]
    assert "security-severity" not in unscored["properties"]  # no invented number
    assert "Severity: unknown (OSV record PYSEC-2019-133" in unscored["help"]["markdown"]
    (vexed,) = [r for r in deps["results"] if r["ruleId"] == "PYSEC-2019-133"]
    assert vexed["suppressions"][0]["status"] == "accepted"
    assert "code_not_reachable" in vexed["suppressions"][0]["justification"]
    (secret,) = by_tool["detect-secrets"]["results"]
    assert secret["ruleId"] == "AWS Access Key"
    assert secret["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert SECRET not in files["findings.sarif"].decode()
    threats = by_tool["sdl-tracker threat-model"]
    assert threats["results"] == []  # every threat of the model is mitigated or accepted
    assert threats["properties"]["sdl-tracker"]["status"] == "fail"
    categories = [run["automationDetails"]["id"] for run in log["runs"]]
    assert all(c.startswith("sdl-tracker/") and c.endswith("/") for c in categories)
    assert len(set(categories)) == len(categories)  # GitHub rejects two runs in one category
    for run in log["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            assert {"shortDescription", "fullDescription", "help", "name"} <= set(rule)
            assert rule["help"]["text"] and rule["help"]["markdown"]
        for result in run["results"]:
            assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
            assert result["partialFingerprints"]["primaryLocationLineHash"]


def test_github_code_scanning_rules_accept_the_release_findings(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    """Microsoft's SARIF Multitool with the GitHub rules (GH1001-GH1007 turned on)."""
    path = tmp_path / "findings.sarif"
    path.write_bytes(files["findings.sarif"])
    assert github_sarif_errors(path, tmp_path) == []


def test_github_code_scanning_rules_reject_a_result_without_a_file(tmp_path: Path) -> None:
    """The validator itself catches what GitHub's upload rejects (so the test above can fail)."""
    log = sarif.log(_source(_statement("sast", ResultStatus.PASS, {"bandit.json": BANDIT_JSON})))
    (result,) = log["runs"][0]["results"]
    result["locations"] = [{"logicalLocations": [{"name": "requests==2.19.0"}]}]
    del log["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    path = tmp_path / "bad.sarif"
    path.write_text(json.dumps(log))
    found = " ".join(github_sarif_errors(path, tmp_path))
    assert "GH1001" in found and "GH2012" in found


def test_fingerprints_are_stable_across_runs_and_line_moves() -> None:
    moved = json.loads(BANDIT_JSON)
    moved["results"][0]["line_number"] = 40
    moved["results"][0]["line_range"] = [40]
    logs = [
        sarif.log(_source(_statement("sast", ResultStatus.PASS, {"bandit.json": data})))
        for data in (BANDIT_JSON, BANDIT_JSON, json.dumps(moved).encode())
    ]
    prints = [log["runs"][0]["results"][0]["partialFingerprints"] for log in logs]
    assert prints[0] == prints[1] == prints[2]
    rule = logs[0]["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["properties"]["security-severity"] == "2.0"
    assert "external/cwe/cwe-259" in rule["properties"]["tags"]
    assert "hunter2" not in json.dumps(rule)


def test_bandit_findings_without_their_code_snippets() -> None:
    data = json.dumps(BANDIT).encode()
    log = sarif.log(_source(_statement("sast", ResultStatus.PASS, {"bandit.json": data})))
    assert list(validator().iter_errors(log)) == []
    (run,) = log["runs"]
    (result,) = run["results"]
    assert result["ruleId"] == "B105"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"
    assert "snippet" not in json.dumps(run)
    assert "hunter2" not in json.dumps(run)  # neither the code line nor the quoted value
    assert result["message"]["text"] == "Possible hardcoded password (the value is not copied here)"


def test_an_unreadable_or_missing_report_is_an_unsuccessful_run_not_a_clean_one() -> None:
    log = sarif.log(
        _source(
            _statement("sast", ResultStatus.PASS, {"bandit.json": b"{not json"}),
            _statement("secret_scan", ResultStatus.INCOMPLETE, {}),
        )
    )
    assert list(validator().iter_errors(log)) == []
    sast_run, secrets_run = log["runs"]
    assert sast_run["invocations"][0]["executionSuccessful"] is False
    assert (
        "cannot be read"
        in sast_run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    )
    assert secrets_run["invocations"][0]["executionSuccessful"] is False
    assert secrets_run["results"] == []


def test_registered_and_renders_an_empty_log_from_verdicts_alone() -> None:
    conf = Conformance("c" * 40, NOW, "p", "0" * 64, (), ())
    text = EXPORTERS["sarif"].render(Report(conf))
    assert json.loads(text)["runs"] == []
    assert list(validator().iter_errors(json.loads(text))) == []


def test_open_threats_are_results_at_the_model_file() -> None:
    model = {
        "path": "threat-model.yaml",
        "threats": [
            {"id": "T-1", "title": "Forged image", "category": "tampering", "targets": ["C-1"]},
            {"id": "T-2", "title": "Sniffing", "category": "information_disclosure"},
        ],
    }
    statement, objects = _statement(
        "threat_model",
        ResultStatus.FAIL,
        {
            "threat-model.yaml": b"version: 1\n",
            "threat-model.yaml.normalised.json": json.dumps(model).encode(),
        },
    )
    p = statement.predicate
    statement = Statement(
        commit=statement.commit,
        artifacts=statement.artifacts,
        predicate=Predicate(
            kind=p.kind,
            collector=p.collector,
            tool=Tool("sdl-tracker threat-model", "0.1.0"),
            requirements=p.requirements,
            result=p.result,
            recorded_by=p.recorded_by,
            recorded_at=p.recorded_at,
            details={"model": "threat-model.yaml", "open": ["T-1"]},
        ),
    )
    log = sarif.log(_source((statement, objects)))
    assert list(validator().iter_errors(log)) == []
    ((result,),) = [run["results"] for run in log["runs"]]
    assert result["ruleId"] == "T-1" and result["level"] == "warning"
    assert result["message"]["text"].startswith(
        "open threat T-1 (tampering): Forged image; targets C-1"
    )
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "threat-model.yaml"
    assert location["region"]["startLine"] == 1


def test_each_open_threat_is_on_its_line_in_its_own_model_files_run() -> None:
    def model(path: str, text: bytes, threats: list[dict[str, str]], seq_open: list[str]):
        statement, objects = _statement(
            "threat_model",
            ResultStatus.FAIL,
            {
                path: text,
                f"{path}.normalised.json": json.dumps({"path": path, "threats": threats}).encode(),
            },
        )
        p = statement.predicate
        return Statement(
            commit=statement.commit,
            artifacts=statement.artifacts,
            predicate=replace(p, details={"model": path, "open": seq_open}),
        ), objects

    yaml_text = b"threats:\n  - id: T-10\n    title: Other\n  - id: T-1\n    title: Forged\n"
    a = model(
        "a.yaml",
        yaml_text,
        [{"id": "T-1", "title": "Forged", "category": "tampering", "impact": "High"}],
        ["T-1"],
    )
    b = model(
        "b.json",
        b'{\n "threats": [\n  {"id": "x", "title": "Sniff"}]}',
        [{"id": "x", "title": "Sniff", "category": "information_disclosure"}],
        ["x"],
    )
    log = sarif.log(_source(a, b))
    assert list(validator().iter_errors(log)) == []
    runs = {run["automationDetails"]["id"]: run for run in log["runs"]}
    assert set(runs) == {"sdl-tracker/threat-model/a.yaml/", "sdl-tracker/threat-model/b.json/"}
    (first,) = runs["sdl-tracker/threat-model/a.yaml/"]["results"]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    (rule,) = runs["sdl-tracker/threat-model/a.yaml/"]["tool"]["driver"]["rules"]
    assert rule["properties"]["security-severity"] == "8.0"
    (second,) = runs["sdl-tracker/threat-model/b.json/"]["results"]
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def _deps_statement(vulns: list[dict[str, object]]) -> tuple[Statement, dict[str, bytes]]:
    statement, objects = _statement("dependency_audit", ResultStatus.FAIL, {})
    p = statement.predicate
    predicate = replace(
        p, tool=Tool("sdl-tracker osv-db", "0.1.0"), details={"vulnerabilities": vulns}
    )
    return replace(statement, predicate=predicate), objects


def _vuln(package: str, score: float | None, vector: str = "", source: str = "") -> dict:
    return {
        "id": "PYSEC-1",
        "package": package,
        "version": "1.0",
        "aliases": ["CVE-1"],
        "fix_versions": ["2.0"],
        "declared": {"path": "requirements.txt", "line": 1},
        "severity": {"score": score, "vector": vector or None, "source": source},
    }


def test_a_rules_security_severity_is_the_highest_score_of_its_results(tmp_path: Path) -> None:
    low = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
    high = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    log = sarif.log(
        _source(
            _deps_statement(
                [
                    _vuln("a", 1.8, low, "OSV record PYSEC-1 (a)"),
                    _vuln("b", None, source="OSV record PYSEC-1 (b) gives no CVSS vector"),
                    _vuln("c", 9.8, high, "OSV record PYSEC-1 (c)"),
                ]
            )
        )
    )
    assert list(validator().iter_errors(log)) == []
    ((rule,),) = [run["tool"]["driver"]["rules"] for run in log["runs"]]
    assert rule["properties"]["security-severity"] == "9.8"
    assert f"CVSS base score 9.8 ({high}), from OSV record PYSEC-1 (c)" in rule["help"]["text"]
    results = log["runs"][0]["results"]
    assert [r["properties"]["cvss"]["score"] for r in results] == [1.8, None, 9.8]
    path = tmp_path / "scored.sarif"
    path.write_text(json.dumps(log))
    assert github_sarif_errors(path, tmp_path) == []


@pytest.mark.parametrize(
    "severity",
    [None, {"score": None, "source": "the record has none"}, {"score": "9.8"}, {"score": 11.0}],
    ids=["absent", "unknown", "string", "out-of-range"],
)
def test_no_score_means_no_security_severity(severity: object) -> None:
    vuln = _vuln("a", None)
    vuln["severity"] = severity
    log = sarif.log(_source(_deps_statement([vuln])))
    ((rule,),) = [run["tool"]["driver"]["rules"] for run in log["runs"]]
    assert "security-severity" not in rule["properties"]
    assert "Severity: unknown (" in rule["help"]["markdown"]
    if isinstance(severity, dict) and severity.get("source"):
        assert "Severity: unknown (the record has none)" in rule["help"]["markdown"]
