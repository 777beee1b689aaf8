from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git, run_pytest

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

DATA = Path(__file__).resolve().parents[1] / "data" / "threatmodel"
MODEL = (DATA / "threat-model.yaml").read_text()
REQS = (DATA / "security-requirements.yaml").read_text()

SUITE = """
import pytest

@pytest.mark.security_requirement("SR-3.1")
@pytest.mark.mitigates("T-001")
def test_rejects_unsigned_image():
    pass

def test_rejects_unknown_server():
    assert {ok}

@pytest.mark.skip(reason="needs the pump hardware")
def test_on_device():
    pass
"""


def _run_pytest(directory: Path, ok: bool) -> bytes:
    """A real pytest run (with the sdl-tracker plugin from its entry point) -> JUnit XML."""
    return run_pytest(directory, "tests/test_agent.py", SUITE.format(ok=ok)).read_bytes()


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return {
        "pass": _run_pytest(tmp_path_factory.mktemp("pass"), ok=True),
        "fail": _run_pytest(tmp_path_factory.mktemp("fail"), ok=False),
    }


def _commit(repo: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    when = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    git(
        repo,
        "commit",
        "-q",
        "-m",
        message,
        env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
    )


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    _commit(git_repo, {"threat-model.yaml": MODEL, "security-requirements.yaml": REQS}, "model")
    return git_repo


def _collect(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, dict]:
    capsys.readouterr()
    args = ["collect", "--only", "tests", "--repo", str(repo), "--format", "json", *extra]
    assert main(args) == 0, capsys.readouterr().err
    statements = [e["statement"] for e in json.loads(capsys.readouterr().out)]
    return {st["predicate"]["kind"]: st for st in statements}


def _report(repo: Path, xml: bytes, name: str = "reports/junit.xml") -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_bytes(xml)


def test_passing_run_traces_every_threat_to_a_passing_test(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    _report(repo, junit["pass"])
    found = _collect(repo, capsys)
    report = found["test_report"]["predicate"]
    assert report["requirements"] == ["SVV-1", "SVV-2", "SVV-3", "SUM-1"]
    assert report["result"]["status"] == "pass", report["result"]["summary"]
    assert report["result"]["metrics"] == {
        "tests": 3,
        "failed": 0,
        "skipped": 1,
        "requirements": 2,
        "requirements_tested": 2,
        "requirements_untested": 0,
        "unknown_requirement_refs": 0,
    }
    assert report["result"]["summary"] == (
        "3 tests in reports/junit.xml: 2 passed, 0 failed, 1 skipped"
    )
    assert report["details"]["by_requirement"] == {
        "SR-3.1": {"passed": 1, "failed": 0, "error": 0, "skipped": 0}
    }
    matrix = found["traceability_matrix"]["predicate"]
    assert matrix["result"]["status"] == "pass", matrix["result"]["summary"]
    assert matrix["result"]["metrics"]["threats"] == 3
    assert matrix["result"]["metrics"]["threats_verified"] == 2  # T-003 is an accepted risk
    assert matrix["result"]["summary"] == (
        "2/2 security requirements tested; 3 threats in 1 model(s), 2 verified by passing tests"
    )
    subjects = {
        s["name"]: s["digest"].get("sha256") for s in found["traceability_matrix"]["subject"]
    }
    trace = json.loads(GitStore(repo).read_object(subjects["traceability.json"]) or b"")
    assert trace["chains"][1] == {
        "model": "threat-model.yaml",
        "threat": "T-002",
        "threat_status": "mitigated",
        "mitigation": "M-002",
        "requirements": ["SR-1.2"],
        "test": "tests.test_agent::test_rejects_unknown_server",
        "result": "passed",
    }
    stored = {s["name"]: s["digest"].get("sha256") for s in found["test_report"]["subject"]}
    assert GitStore(repo).read_object(stored["reports/junit.xml"]) == junit["pass"]


def test_a_failing_linked_test_fails_both_records(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    _report(repo, junit["fail"])
    found = _collect(repo, capsys)
    report = found["test_report"]["predicate"]["result"]
    assert report["status"] == "fail"
    assert report["metrics"]["failed"] == 1
    assert "failed: tests.test_agent::test_rejects_unknown_server" in report["summary"]
    matrix = found["traceability_matrix"]["predicate"]["result"]
    assert matrix["status"] == "fail"
    assert "linked tests failed: tests.test_agent::test_rejects_unknown_server" in matrix["summary"]


def test_unknown_and_untested_requirements_fail_the_matrix(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    _report(repo, junit["pass"].replace(b'value="SR-3.1"', b'value="SR-9"'))
    model = MODEL.replace("    requirements: [SR-3.1]\n", "")
    _commit(repo, {"threat-model.yaml": model}, "unlink SR-3.1")
    found = _collect(repo, capsys)
    assert found["test_report"]["predicate"]["result"]["status"] == "pass"
    matrix = found["traceability_matrix"]["predicate"]["result"]
    assert matrix["status"] == "fail"
    assert matrix["metrics"]["requirements_untested"] == 1
    assert matrix["metrics"]["unknown_requirement_refs"] == 1
    assert "untested requirements: SR-3.1" in matrix["summary"]
    assert (
        "tests naming unknown requirements: tests.test_agent::test_rejects_unsigned_image -> SR-9"
    ) in matrix["summary"]


def test_missing_junit_is_incomplete(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _collect(repo, capsys)
    report = found["test_report"]["predicate"]["result"]
    assert report["status"] == "incomplete"
    assert "no JUnit XML report at junit.xml, reports/junit.xml" in report["summary"]
    assert "pytest --junitxml=reports/junit.xml" in report["summary"]
    matrix = found["traceability_matrix"]["predicate"]["result"]
    assert matrix["status"] == "incomplete"
    assert "no test results" in matrix["summary"]


def test_the_gate_s_own_junit_is_never_read_back_as_test_results(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["gate", "--repo", str(repo), "--junit", str(repo / "junit.xml")])
    assert b'<property name="generator" value="sdl-tracker ' in (repo / "junit.xml").read_bytes()
    alone = _collect(repo, capsys)["test_report"]["predicate"]
    assert alone["result"]["status"] == "incomplete"
    assert alone["result"]["metrics"]["tests"] == 0
    assert "ignored junit.xml: sdl-tracker's own gate report" in alone["result"]["summary"]
    assert alone["details"]["ignored_reports"] == ["junit.xml"]
    assert "junit.xml" not in {s["name"] for s in _collect(repo, capsys)["test_report"]["subject"]}
    _report(repo, junit["pass"])
    beside = _collect(repo, capsys)["test_report"]["predicate"]
    assert beside["result"]["status"] == "pass", beside["result"]["summary"]
    assert beside["result"]["summary"].startswith("3 tests in reports/junit.xml: 2 passed")
    capsys.readouterr()
    args = ["collect", "--only", "tests", "--repo", str(repo), "--from-report"]
    assert main([*args, str(repo / "junit.xml")]) == 2
    assert "sdl-tracker's own gate report (`gate --junit`)" in capsys.readouterr().err


def test_configured_report_missing_is_incomplete(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write('\n[collectors.tests]\njunit = ["out/unit.xml", "out/integration.xml"]\n')
    _report(repo, junit["pass"], "out/unit.xml")
    found = _collect(repo, capsys)
    report = found["test_report"]["predicate"]["result"]
    assert report["status"] == "incomplete"
    assert "missing report(s) out/integration.xml" in report["summary"]


def test_no_requirements_file_leaves_svv1_not_demonstrated(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without requirements there is nothing to trace for SVV-1 (0 requirements: not
    demonstrated, saying what to write); the threats the matrix traces still count."""
    from evidence_factory import only, policy_file

    git(repo, "rm", "-q", "security-requirements.yaml")
    git(repo, "commit", "-q", "-m", "drop requirements")
    _report(repo, junit["pass"])
    found = _collect(repo, capsys)
    matrix = found["traceability_matrix"]["predicate"]["result"]
    assert matrix["status"] == "pass", matrix["summary"]
    assert "no security requirements file security-requirements.yaml" in matrix["summary"]
    assert matrix["metrics"]["unknown_requirement_refs"] == 1  # every named id is unknown
    assert matrix["metrics"]["requirements"] == 0
    policy = policy_file(repo.parent, "extends: iec62443-4-1\n" + only("SVV-1"), "svv1.yaml")
    capsys.readouterr()
    main(["status", "--repo", str(repo), "--policy", str(policy), "--format", "json"])
    svv1 = next(
        r for r in json.loads(capsys.readouterr().out)["requirements"] if r["id"] == "SVV-1"
    )
    assert svv1["status"] == "not_demonstrated", svv1["reason"]
    assert "write the security requirements file" in svv1["action"]


def test_from_report_outside_the_repository(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "ci-junit.xml"
    report.write_bytes(junit["pass"])
    found = _collect(repo, capsys, "--from-report", str(report))
    assert found["test_report"]["predicate"]["result"]["summary"].startswith(
        "3 tests in ci-junit.xml"
    )


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            b"<testsuites>\n<testsuite>\n<testcase name='a'>\n</testsuites>",
            "junit.xml:4:2: not well-formed",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<testsuite>&x;</testsuite>",
            "junit.xml:2: the report has a DTD",
        ),
    ],
)
def test_malformed_junit_appends_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, xml: bytes, expected: str
) -> None:
    report = tmp_path / "junit.xml"
    report.write_bytes(xml)
    before = len(list(ledger.entries(GitStore(repo))))
    capsys.readouterr()
    args = ["collect", "--only", "tests", "--repo", str(repo), "--from-report", str(report)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"error: {expected}" in err and "Traceback" not in err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_bad_configuration_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write('\n[collectors.tests]\njunit = "junit.xml"\n')
    capsys.readouterr()
    assert main(["collect", "--only", "tests", "--repo", str(repo)]) == 2
    assert "[collectors.tests] junit: expected a list" in capsys.readouterr().err


def _svv2(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    from evidence_factory import only, policy_file

    policy = policy_file(repo.parent, "extends: iec62443-4-1\n" + only("SVV-2"), "svv2.yaml")
    capsys.readouterr()
    main(["status", "--repo", str(repo), "--policy", str(policy), "--format", "json"])
    found = json.loads(capsys.readouterr().out)["requirements"]
    return next(r for r in found if r["id"] == "SVV-2")  # type: ignore[no-any-return]


def test_every_mitigated_threat_needs_a_passing_test(
    repo: Path, junit: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    """SVV-2: one passing test is not enough; each mitigated threat is verified by one, and the
    reason names those that are not."""
    capsys.readouterr()
    assert main(["collect", "--only", "threat-model", "--repo", str(repo)]) == 0
    _report(repo, junit["fail"])
    matrix = _collect(repo, capsys)["traceability_matrix"]["predicate"]
    m = matrix["result"]["metrics"]
    assert (m["mitigated_threats"], m["mitigated_threats_unverified"]) == (2, 1)
    assert "mitigated threats no passing test verifies: T-002" in matrix["result"]["summary"]
    found = _svv2(repo, capsys)
    assert found["status"] == "partial", found  # T-001 is verified, T-002 is not
    assert "mitigated_threats_unverified = 1, expected" in found["reason"]
    assert "not waived: T-002" in found["reason"]
    _report(repo, junit["pass"])
    _collect(repo, capsys)
    found = _svv2(repo, capsys)
    assert found["status"] == "satisfied", found
