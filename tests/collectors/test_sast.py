from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys
from node_tools import github_sarif_errors

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore
from sdl_tracker.models import Statement

SCHEMAS = Path(__file__).resolve().parents[2] / ".." / "shared" / "schemas"
CLEAN = "def add(a, b):\n    return a + b\n"
SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
SHELL_NOSEC = (
    "import subprocess  # nosec B404\n\n\n"
    "def run(cmd):\n    return subprocess.call(cmd, shell=True)  # nosec B602\n"
)
PICKLE = "import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n"


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    capsys.readouterr()
    return git_repo


def _commit(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A", *files)
    git(repo, "commit", "-q", "-m", "change")


def _configure(repo: Path, section: str) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write(f"\n[collectors.sast]\n{section}\n")


def _collect(repo: Path, *args: str) -> int:
    return main(["collect", "--only", "sast", "--repo", str(repo), *args])


def _statements(repo: Path) -> list[Statement]:
    return [e.statement() for e in ledger.entries(GitStore(repo))]


def _last(repo: Path) -> Statement:
    st = _statements(repo)[-1]
    assert st.predicate.kind == "sast" and st.predicate.collector == "sast"
    return st


def _artifact(repo: Path, st: Statement, name: str) -> bytes:
    (art,) = [a for a in st.artifacts if a.name == name]
    data = GitStore(repo).read_object(art.sha256)
    assert data is not None
    return data


def _bandit_itself(repo: Path, *args: str) -> dict[str, Any]:
    """bandit's own JSON report, `bandit -r . -f json`, run independently of sdl-tracker."""
    proc = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-q", *args],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def _counts(report: dict[str, Any]) -> dict[str, int]:
    severities = [r["issue_severity"] for r in report["results"]]
    files = [n for n in report["metrics"] if n != "_totals"]
    return {
        "findings": len(report["results"]),
        "high": severities.count("HIGH"),
        "medium": severities.count("MEDIUM"),
        "low": severities.count("LOW"),
        "files_scanned": len(files) - len(report["errors"]),
        "errors": len(report["errors"]),
    }


def _without_time(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_clean_repository_passes_with_both_reports(repo: Path) -> None:
    _commit(repo, {"src/calc.py": CLEAN, "src/util.py": "VALUE = 1\n"})
    assert _collect(repo) == 0
    st = _last(repo)
    p = st.predicate
    assert p.result.status.value == "pass"
    assert p.result.summary == (
        "bandit: 0 findings in 2 files; scanned every tracked Python file "
        "(no shipped package found)"
    )
    assert dict(p.result.metrics) == {
        "findings": 0,
        "high": 0,
        "medium": 0,
        "low": 0,
        "files_scanned": 2,
        "errors": 0,
    }
    assert p.tool.name == "bandit" and p.tool.version[0].isdigit()
    assert p.requirements == ("SI-2", "SVV-3")
    assert p.covers == (".",)
    assert set(p.inputs) == {"tree:.", "tool:bandit", "config:sast"}
    assert p.inputs["tree:."] == git(repo, "rev-parse", "HEAD^{tree}")
    assert sorted(a.name for a in st.artifacts) == ["bandit.json", "bandit.sarif"]
    report = json.loads(_artifact(repo, st, "bandit.json"))
    assert sorted(report["metrics"]) == ["./src/calc.py", "./src/util.py", "_totals"]
    sarif = json.loads(_artifact(repo, st, "bandit.sarif"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


def test_high_finding_fails_and_metrics_equal_bandits_own_report(repo: Path) -> None:
    _commit(repo, {"app/run.py": SHELL, "app/store.py": PICKLE, "app/ok.py": CLEAN})
    assert _collect(repo) == 0
    st = _last(repo)
    p = st.predicate
    assert p.result.status.value == "fail"
    assert "1 finding(s) at or above HIGH" in p.result.summary
    assert "app/run.py:5 B602" in p.result.summary
    stored = json.loads(_artifact(repo, st, "bandit.json"))
    own = _bandit_itself(repo)
    # Same files, same findings as plain `bandit -r .` — and the metrics count exactly those.
    assert _without_time(stored) == _without_time(own)
    assert dict(p.result.metrics) == _counts(own)
    assert dict(p.result.metrics) == {
        "findings": 4,
        "high": 1,
        "medium": 1,
        "low": 2,
        "files_scanned": 3,
        "errors": 0,
    }
    assert p.details["failing"] == 1


def test_sarif_artifact_validates_against_the_schema(repo: Path, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = SCHEMAS / "sarif-schema-2.1.0.json"
    if not schema_file.is_file():
        pytest.skip(f"{schema_file} is not available")
    _commit(repo, {"app/run.py": SHELL, "app/store.py": PICKLE, "odd name.py": "assert 1\n"})
    _commit(repo, {"broken.py": "def f(:\n"})
    assert _collect(repo) == 0
    st = _last(repo)
    sarif = json.loads(_artifact(repo, st, "bandit.sarif"))
    jsonschema.Draft4Validator(json.loads(schema_file.read_text())).validate(sarif)
    run = sarif["runs"][0]
    assert len(run["results"]) == st.predicate.result.metrics["findings"]
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}
    assert run["invocations"][0]["executionSuccessful"] is False
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "odd%20name.py" in uris
    snippets = [
        r["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] for r in run["results"]
    ]
    assert "def run(cmd):\n    return subprocess.call(cmd, shell=True)\n" in snippets
    (tmp_path / "bandit.sarif").write_text(json.dumps(sarif))
    assert github_sarif_errors(tmp_path / "bandit.sarif", tmp_path) == []


def test_unparsable_file_makes_the_evidence_incomplete(repo: Path) -> None:
    _commit(repo, {"good.py": CLEAN, "pkg/broken.py": "def f(:\n    pass\n"})
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "incomplete"
    assert "could not scan pkg/broken.py" in p.result.summary
    assert p.result.metrics["errors"] == 1 and p.result.metrics["files_scanned"] == 1
    assert p.details["errors"] == ["pkg/broken.py: syntax error while parsing AST from file"]
    # Incomplete evidence is never reaffirmed: the next collect runs bandit again.
    assert _collect(repo) == 0
    assert "reaffirms" not in _last(repo).predicate.details


def test_nosec_suppressed_findings_are_not_counted(repo: Path) -> None:
    _commit(repo, {"run.py": SHELL_NOSEC})
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "pass"
    assert p.result.metrics["findings"] == 0 and p.result.metrics["high"] == 0
    assert dict(p.result.metrics) == _counts(_bandit_itself(repo))


def test_pyproject_tool_bandit_skips_and_exclude_dirs_are_honoured(repo: Path) -> None:
    pyproject = '[tool.bandit]\nskips = ["B602", "B404"]\nexclude_dirs = ["./vendor"]\n'
    _commit(repo, {"pyproject.toml": pyproject, "run.py": SHELL, "vendor/lib.py": PICKLE})
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "pass", p.result.summary
    assert p.result.metrics["findings"] == 0 and p.result.metrics["files_scanned"] == 1
    assert "file:pyproject.toml" in p.inputs
    assert p.details["excluded"] == 1
    own = _bandit_itself(repo, "-c", "pyproject.toml")
    assert dict(p.result.metrics) == _counts(own)


def test_dot_bandit_ini_exclusions_match_bandit_r(repo: Path) -> None:
    _commit(repo, {".bandit": "[bandit]\nexclude = ./tests\n", "app.py": CLEAN})
    _commit(repo, {"tests/test_app.py": "def test():\n    assert 1\n"})
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "pass"
    assert p.result.metrics["files_scanned"] == 1
    assert dict(p.result.metrics) == _counts(_bandit_itself(repo))


def test_baseline_is_honoured(repo: Path) -> None:
    _commit(repo, {"run.py": SHELL})
    baseline = _bandit_itself(repo)
    _commit(repo, {"bandit-baseline.json": json.dumps(baseline)})
    _configure(repo, 'baseline = "bandit-baseline.json"')
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "pass", p.result.summary
    assert p.result.metrics["findings"] == 0
    assert "file:bandit-baseline.json" in p.inputs
    _commit(repo, {"more.py": SHELL.replace("run(", "again(")})
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "fail"
    assert p.result.metrics["high"] == 1


PASSWORD = 'password = "hunter2"\n'  # B105: LOW severity, MEDIUM confidence


@pytest.mark.parametrize(
    ("files", "section", "status"),
    [
        ({"store.py": PICKLE}, 'severity_threshold = "medium"', "fail"),
        ({"store.py": PICKLE}, 'severity_threshold = "medium"\nconfidence = "high"', "fail"),
        ({"store.py": PICKLE}, 'severity_threshold = "low"\nexclude = ["store.py"]', "pass"),
        ({"lib/store.py": PICKLE}, 'severity_threshold = "low"\nexclude = ["lib"]', "pass"),
        ({"conf.py": PASSWORD}, 'severity_threshold = "low"', "fail"),
        ({"conf.py": PASSWORD}, 'severity_threshold = "low"\nconfidence = "high"', "pass"),
    ],
)
def test_thresholds_and_exclude(
    repo: Path, files: dict[str, str], section: str, status: str
) -> None:
    _commit(repo, {**files, "ok.py": CLEAN})
    _configure(repo, section)
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == status, p.result.summary
    excluded = "exclude" in section
    assert p.result.metrics["files_scanned"] == (1 if excluded else 2)
    assert p.details["excluded"] == (1 if excluded else 0)


def test_paths_limit_the_scan_and_the_inputs(repo: Path) -> None:
    _commit(repo, {"src/a.py": CLEAN, "scripts/run.py": SHELL})
    _configure(repo, 'paths = ["src"]')
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "pass"
    assert p.covers == ("src",)
    assert p.inputs["tree:src"] == git(repo, "rev-parse", "HEAD:src")
    # A change outside the covered paths does not re-run bandit.
    _commit(repo, {"scripts/other.py": SHELL})
    assert _collect(repo) == 0
    assert "reaffirms" in _last(repo).predicate.details


def test_unchanged_tree_is_reaffirmed_and_force_reruns(repo: Path) -> None:
    _commit(repo, {"run.py": SHELL})
    assert _collect(repo) == 0
    first = _statements(repo)
    assert _collect(repo) == 0
    again = _last(repo)
    assert again.predicate.details["reaffirms"] == len(first)
    assert again.predicate.result.summary.startswith("reaffirmed: ")
    assert again.artifacts == first[-1].artifacts
    assert dict(again.predicate.result.metrics) == dict(first[-1].predicate.result.metrics)
    assert _collect(repo, "--force") == 0
    forced = _last(repo)
    assert "reaffirms" not in forced.predicate.details
    assert not forced.predicate.result.summary.startswith("reaffirmed")
    # A changed bandit configuration is a changed input: bandit runs again.
    _configure(repo, 'severity_threshold = "low"')
    assert _collect(repo) == 0
    assert "reaffirms" not in _last(repo).predicate.details


def test_uncommitted_changes_are_incomplete(repo: Path) -> None:
    _commit(repo, {"run.py": CLEAN})
    (repo / "run.py").write_text(SHELL)
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "incomplete"
    assert "run.py differ from HEAD: commit or stash them" in p.result.summary


def test_missing_bandit_is_incomplete_with_the_install_hint(repo: Path) -> None:
    _commit(repo, {"run.py": CLEAN})
    _configure(repo, 'bandit = "no-such-bandit-here"')
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "incomplete"
    assert "`no-such-bandit-here` was not found" in p.result.summary
    assert "`pip install bandit`" in p.result.summary


def test_bandit_configuration_error_is_incomplete(repo: Path) -> None:
    _commit(repo, {"run.py": CLEAN, "bandit.yaml": "tests: [B999]\n"})
    _configure(repo, 'config = "bandit.yaml"')
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "incomplete"
    assert p.result.summary.startswith("bandit exited 2: ")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"README.txt": "no python\n"}, "no tracked Python files to scan under ."),
        ({"a.py": CLEAN}, "b.py not in HEAD: fix [collectors.sast] paths"),
    ],
)
def test_nothing_to_scan_is_incomplete(repo: Path, files: dict[str, str], expected: str) -> None:
    _commit(repo, files)
    if "a.py" in files:
        _configure(repo, 'paths = ["a.py", "b.py"]')
    (repo / "untracked.py").write_text(SHELL)
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "incomplete"
    assert expected in p.result.summary


def test_bandit_json_report_is_ingested(repo: Path, tmp_path: Path) -> None:
    _commit(repo, {"run.py": SHELL})
    report = tmp_path / "made-elsewhere.json"
    report.write_text(json.dumps(_bandit_itself(repo)))
    assert _collect(repo, "--from-report", str(report)) == 0
    st = _last(repo)
    p = st.predicate
    assert p.result.status.value == "fail"
    assert dict(p.result.metrics) == _counts(json.loads(report.read_text()))
    assert p.tool.name == "bandit" and p.tool.version[0].isdigit()
    assert sorted(a.name for a in st.artifacts) == ["bandit.json", "bandit.sarif"]
    assert _artifact(repo, st, "bandit.json") == report.read_bytes()
    assert p.details["source"] == "report made-elsewhere.json"


SEMGREP = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "Semgrep OSS",
                    "semanticVersion": "1.90.0",
                    "rules": [
                        {
                            "id": "python.lang.security.audit.eval-detected",
                            "defaultConfiguration": {"level": "warning"},
                            "properties": {"security-severity": "7.5", "precision": "high"},
                        },
                        {"id": "python.flask.debug", "defaultConfiguration": {"level": "note"}},
                        {"id": "python.style.naming", "defaultConfiguration": {"level": "none"}},
                    ],
                }
            },
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
            "results": [
                {
                    "ruleId": "python.lang.security.audit.eval-detected",
                    "ruleIndex": 0,
                    "message": {"text": "eval() on user input"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "app/views.py"},
                                "region": {"startLine": 12},
                            }
                        }
                    ],
                },
                {
                    "ruleId": "python.flask.debug",
                    "message": {"text": "debug mode"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "app/main.py"},
                                "region": {"startLine": 3},
                            }
                        }
                    ],
                },
                {
                    "ruleId": "python.flask.debug",
                    "level": "error",
                    "message": {"text": "reviewed and accepted"},
                    "suppressions": [{"kind": "inSource"}],
                },
                {"ruleId": "python.style.naming", "message": {"text": "style only"}},
                {
                    "ruleId": "custom.medium",
                    "level": "warning",
                    "message": {"text": "medium"},
                    "locations": [
                        {"physicalLocation": {"artifactLocation": {"uri": "app/views.py"}}}
                    ],
                },
            ],
        }
    ],
}


def test_sarif_report_from_another_tool_is_ingested(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "semgrep.sarif"
    report.write_text(json.dumps(SEMGREP))
    assert _collect(repo, "--from-report", str(report)) == 0
    st = _last(repo)
    p = st.predicate
    assert p.tool.name == "Semgrep OSS" and p.tool.version == "1.90.0"
    assert dict(p.result.metrics) == {
        "findings": 3,
        "high": 1,
        "medium": 1,
        "low": 1,
        "files_scanned": 2,
        "errors": 0,
    }
    assert p.result.status.value == "fail"
    assert "app/views.py:12 python.lang.security.audit.eval-detected" in p.result.summary
    assert [a.name for a in st.artifacts] == ["semgrep.sarif"]
    assert p.details["format"] == "sarif"


@pytest.mark.parametrize(
    ("invocation", "results", "shown"),
    [
        (
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": "Syntax error"},
                        "locations": [
                            {"physicalLocation": {"artifactLocation": {"uri": "app/bad.py"}}}
                        ],
                    }
                ],
            },
            [],
            "could not scan app/bad.py",
        ),
        (
            {
                "executionSuccessful": True,
                "toolConfigurationNotifications": [
                    {"level": "error", "message": {"text": "rule pack p/python not found"}}
                ],
            },
            [],
            "Semgrep OSS reported: rule pack p/python not found",
        ),
        ({"executionSuccessful": False}, [], "reports its execution was not successful"),
        ({"executionSuccessful": True}, None, "run 0 has no results (the tool did not run)"),
    ],
)
def test_sarif_run_that_failed_is_incomplete(
    repo: Path, tmp_path: Path, invocation: dict[str, Any], results: Any, shown: str
) -> None:
    doc = json.loads(json.dumps(SEMGREP))
    doc["runs"][0]["invocations"] = [invocation]
    doc["runs"][0]["results"] = results
    report = tmp_path / "codeql.sarif"
    report.write_text(json.dumps(doc))
    assert _collect(repo, "--from-report", str(report)) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "incomplete"
    assert shown in p.result.summary
    assert p.result.metrics["errors"] == 1


def _bad_sarif() -> dict[str, Any]:
    doc = json.loads(json.dumps(SEMGREP))
    doc["runs"][0]["results"][3]["level"] = "fatal"
    return doc


def _bad_bandit() -> dict[str, Any]:
    return {
        "errors": [],
        "metrics": {},
        "results": [
            {"filename": "./a.py", "line_number": 1, "test_id": "B101", "issue_severity": "SEVERE"}
        ],
    }


@pytest.mark.parametrize(
    ("name", "content", "place"),
    [
        ("bad.sarif", json.dumps(_bad_sarif()), "runs[0].results[3].level: expected one of"),
        ("bad.json", json.dumps(_bad_bandit()), "results[0].issue_severity: expected one of"),
        ("trunc.json", '{"results": [', "line 1 column 14: not valid JSON"),
        ("v1.sarif", json.dumps({**SEMGREP, "version": "1.0.0"}), 'version: expected "2.1.0"'),
        ("other.json", "[1, 2]", "expected a bandit JSON report"),
        (
            "sev.sarif",
            json.dumps(SEMGREP).replace('"7.5"', '"high"'),
            "runs[0].tool.driver.rules[0].properties.security-severity",
        ),
    ],
)
def test_malformed_report_exits_2_and_appends_nothing(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    place: str,
) -> None:
    report = tmp_path / name
    report.write_text(content)
    before = git(repo, "rev-parse", "sdl-ledger")
    assert _collect(repo, "--from-report", str(report)) == 2
    err = capsys.readouterr().err
    assert f"error: {report}: " in err and place in err
    assert git(repo, "rev-parse", "sdl-ledger") == before


def test_bad_configuration_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"a.py": CLEAN})
    _configure(repo, 'severity_threshold = "critical"')
    assert _collect(repo) == 2
    assert "[collectors.sast] severity_threshold: expected one of low, medium, high" in (
        capsys.readouterr().err
    )


def test_our_sarif_reads_back_as_the_same_findings(repo: Path, tmp_path: Path) -> None:
    _commit(repo, {"run.py": SHELL, "store.py": PICKLE, "broken.py": "def f(:\n"})
    assert _collect(repo) == 0
    scanned = _last(repo)
    report = tmp_path / "bandit.sarif"
    report.write_bytes(_artifact(repo, scanned, "bandit.sarif"))
    assert _collect(repo, "--from-report", str(report)) == 0
    ingested = _last(repo).predicate
    assert ingested.tool == scanned.predicate.tool
    assert ingested.result.status == scanned.predicate.result.status
    for name in ("findings", "high", "medium", "low", "errors"):
        assert ingested.result.metrics[name] == scanned.predicate.result.metrics[name], name


def test_high_finding_waived_by_rule_id_end_to_end(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sast lists its findings in details.findings, so `waive B602` turns SI-2's sast part
    from failing into waived (the finding stays in the report)."""
    keys = ssh_keys(git_repo.parent / "keys")
    commit_roster(git_repo, roster_text(keys))
    assert main(["init", "--repo", str(git_repo)]) == 0
    (git_repo / "run.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    subprocess.run(["git", "-C", str(git_repo), "add", "run.py"], check=True)
    subprocess.run(["git", "-C", str(git_repo), "commit", "-qm", "runner"], check=True)
    assert main(["collect", "--only", "sast", "--repo", str(git_repo)]) == 0
    capsys.readouterr()

    def sast_part() -> str:
        assert main(["explain", "SI-2", "--repo", str(git_repo), "--format", "json"]) in (0, 1)
        return capsys.readouterr().out

    before = json.loads(sast_part())
    assert "B602" in json.dumps(before)
    assert (
        main(
            [
                "waive",
                "B602",
                "--reason",
                "inputs are constant",
                "--expires",
                (datetime.now(timezone.utc) + timedelta(days=60)).date().isoformat(),
                "--approver",
                "Grace Hopper <grace@example.com>",
                "--key",
                str(keys["ada"]),
                "--repo",
                str(git_repo),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert "waived findings: B602" not in json.dumps(json.loads(sast_part()))  # pending
    assert main(["approve", "2", "--key", str(keys["grace"]), "--repo", str(git_repo)]) == 0
    capsys.readouterr()
    after = json.dumps(json.loads(sast_part()))
    assert "waived findings: B602" in after


_PYPROJECT_FIND = """[project]
name = "widget"
version = "1.0"

[tool.setuptools.packages.find]
where = ["src"]
"""


def test_by_default_only_the_shipped_packages_count(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A HIGH finding in tests/ (or examples/) is left out and said to be; one in the package
    the build ships fails the evidence; `explain` shows what was covered."""
    _commit(
        repo,
        {
            "pyproject.toml": _PYPROJECT_FIND,
            "src/widget/__init__.py": CLEAN,
            "tests/test_widget.py": SHELL,
            "examples/demo.py": SHELL,
            "docs/conf.py": "project = 'widget'\n",
        },
    )
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "pass"
    assert p.result.metrics["files_scanned"] == 1 and p.result.metrics["high"] == 0
    how = "the shipped packages, from pyproject.toml [tool.setuptools.packages.find]"
    assert p.result.summary == (
        f"bandit: 0 findings in 1 files; scanned src/widget ({how}); "
        "left out: docs, examples, tests"
    )
    assert p.details["scope"] == {
        "paths": ["src/widget"],
        "how": how,
        "left_out": ["docs", "examples", "tests"],
    }
    assert p.covers == ("src/widget",)
    capsys.readouterr()
    assert main(["explain", "SI-2", "--repo", str(repo)]) in (0, 1)
    shown = capsys.readouterr()
    assert f"scanned src/widget ({how}); left out: docs, examples, tests" in shown.out + shown.err

    _commit(repo, {"src/widget/run.py": SHELL})
    assert _collect(repo) == 0
    p = _last(repo).predicate
    assert p.result.status.value == "fail"
    assert p.result.metrics["high"] == 1 and p.result.metrics["files_scanned"] == 2
    assert "first src/widget/run.py:5 B602" in p.result.summary
    assert [f["path"] for f in p.details["findings"] if f["severity"] == "high"] == [
        "src/widget/run.py"
    ]


def test_configured_paths_win_and_what_they_leave_out_is_said(repo: Path) -> None:
    _commit(repo, {"widget/__init__.py": CLEAN, "tests/test_widget.py": SHELL})
    _configure(repo, 'paths = ["widget", "tests"]')
    git(repo, "add", ".sdl-tracker.toml")
    git(repo, "commit", "-q", "-m", "scan the tests too")
    assert _collect(repo) == 0
    assert _last(repo).predicate.result.status.value == "fail"  # tests/ asked for: it counts
    p = _last(repo).predicate
    assert p.details["scope"] == {
        "paths": ["widget", "tests"],
        "how": "[collectors.sast] paths",
        "left_out": [],
    }
