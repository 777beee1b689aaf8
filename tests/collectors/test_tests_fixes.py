"""SUM-1: every security issue fixed in the release traces to a passing test.

Real pytest runs (the plugin's `fixes` marker written to JUnit), real issue records and release
tags in a real repository, judged by `status` with the shipped rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evidence_factory import only, policy_file
from helpers import git, run_pytest

from sdl_tracker.cli.main import main

HEADER = "import pytest\n\n"
FIX_1 = '@pytest.mark.fixes("SEC-1")\ndef test_sec1():\n    pass\n\n'
FIX_2_ALIAS = '@pytest.mark.fixes("CVE-2026-0002")\ndef test_sec2():\n    assert {ok}\n\n'
FIX_3 = '@pytest.mark.fixes("SEC-3")\n{skip}def test_sec3():\n    pass\n\n'
OLD_FIX = '@pytest.mark.fixes("SEC-0")\ndef test_regression_of_an_older_fix():\n    pass\n\n'
UNKNOWN = '@pytest.mark.fixes("SEC-99")\ndef test_names_no_issue():\n    pass\n\n'
SKIP = '@pytest.mark.skip(reason="needs the pump")\n'

SUITES = {
    # SEC-2 has no test, SEC-3's test was skipped: 1 of 3 fixes verified.
    "partial": HEADER + FIX_1 + FIX_3.format(skip=SKIP) + OLD_FIX,
    # SEC-2's test (naming its CVE alias) fails: a failing test verifies nothing.
    "failing": HEADER + FIX_1 + FIX_2_ALIAS.format(ok=False) + FIX_3.format(skip="") + OLD_FIX,
    "full": HEADER + FIX_1 + FIX_2_ALIAS.format(ok=True) + FIX_3.format(skip="") + UNKNOWN,
}

RECORDS = {
    # fixed in the previous release: outside the population
    "SEC-0": "fixed_in: v1.0\nreceived: 2026-01-02\nfixed: 2026-01-05\nstatus: fixed\n",
    "SEC-1": "fixed_in: 1.1.0\nreceived: 2026-01-20\nfixed: 2026-02-01\nstatus: fixed\n",
    # no fixed_in: its fix date falls between the two release commits
    "SEC-2": "aliases: [CVE-2026-0002]\nreceived: 2026-01-20\nfixed: 2026-02-02\nstatus: fixed\n",
    "SEC-3": "fixed_in: v1.1.0\nreceived: 2026-01-21\nfixed: 2026-02-03\nstatus: disclosed\n",
    # open: not fixed in any release
    "SEC-4": "received: 2026-02-10\nstatus: triaged\n",
}


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        name: run_pytest(tmp_path_factory.mktemp(name), "test_fixes.py", s)
        for name, s in SUITES.items()
    }


def _commit(repo: Path, message: str, when: str | None = None) -> None:
    git(repo, "add", "-A")
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else None
    git(repo, "commit", "-q", "-m", message, env=env)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """v1.0 in January; the issue records and v1.1.0 today."""
    assert main(["init", "--repo", str(git_repo)]) == 0
    _commit(git_repo, "first release", "2026-01-10T12:00:00Z")
    git(git_repo, "tag", "v1.0")
    (git_repo / "security-issues").mkdir()
    for ident, text in RECORDS.items():
        head = f"id: {ident}\ntitle: issue {ident}\n"
        (git_repo / "security-issues" / f"{ident}.yaml").write_text(head + text)
    _commit(git_repo, "fixes", "2026-02-15T12:00:00Z")
    git(git_repo, "tag", "v1.1.0")
    return git_repo


def _matrix(repo: Path, report: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    args = ["collect", "--only", "tests", "--repo", str(repo), "--format", "json"]
    assert main([*args, "--from-report", str(report)]) == 0, capsys.readouterr().err
    found = {e["statement"]["predicate"]["kind"]: e for e in json.loads(capsys.readouterr().out)}
    return found["traceability_matrix"]["statement"]["predicate"]  # type: ignore[no-any-return]


def _sum1(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    policy = policy_file(repo.parent, "extends: iec62443-4-1\n" + only("SUM-1"), "sum1.yaml")
    capsys.readouterr()
    main(["status", "--repo", str(repo), "--policy", str(policy), "--format", "json"])
    found = json.loads(capsys.readouterr().out)["requirements"]
    return next(r for r in found if r["id"] == "SUM-1")  # type: ignore[no-any-return]


def test_untested_and_skipped_fixes_leave_sum1_partial_naming_them(
    repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = _matrix(repo, junit["partial"], capsys)
    m = matrix["result"]["metrics"]
    assert (m["security_fixes"], m["security_fixes_verified"], m["security_fixes_unverified"]) == (
        3,
        1,
        2,
    )
    assert matrix["details"]["security_fixes"] == ["SEC-1", "SEC-2", "SEC-3"]
    assert (
        "3 security issue(s) fixed in v1.1.0 (since v1.0), 1 verified by passing tests; "
        "fixes no passing test verifies: SEC-2, SEC-3"
    ) in matrix["result"]["summary"]
    found = _sum1(repo, capsys)
    assert found["status"] == "partial", found["reason"]
    assert "security_fixes_unverified = 2, expected" in found["reason"]
    assert "not waived: SEC-2, SEC-3" in found["reason"]


def test_a_failing_fix_test_verifies_nothing(
    repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = _matrix(repo, junit["failing"], capsys)
    assert matrix["details"]["unverified_fixes"] == ["SEC-2"]
    found = _sum1(repo, capsys)
    assert found["status"] == "failing", found  # the test run itself failed
    assert "not waived: SEC-2" in found["reason"]


def test_every_fix_verified_satisfies_sum1(
    repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = _matrix(repo, junit["full"], capsys)
    assert matrix["result"]["metrics"]["security_fixes_unverified"] == 0
    # A test naming an issue no record holds is a broken link of the matrix (SVV-1 sees it) ...
    assert matrix["result"]["status"] == "fail"
    assert (
        "tests naming unknown security issues: test_fixes::test_names_no_issue -> SEC-99"
        in (matrix["result"]["summary"])
    )
    # ... but SUM-1 judges only the fixes of the release.
    found = _sum1(repo, capsys)
    assert found["status"] == "satisfied", found


def test_a_release_without_fixes_is_not_demonstrated(
    git_repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    _commit(git_repo, "init")
    git(git_repo, "tag", "v2.0")
    matrix = _matrix(git_repo, junit["full"], capsys)
    assert matrix["result"]["metrics"]["security_fixes"] == 0
    assert "security issue(s) fixed" not in matrix["result"]["summary"]
    found = _sum1(git_repo, capsys)
    assert found["status"] == "not_demonstrated", found
    assert "counts 0 security fixes" in found["reason"]
    assert '@pytest.mark.fixes("SEC-…")' in found["action"]


def test_an_impossible_fix_date_is_exit_2_naming_the_record(
    repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    record = repo / "security-issues" / "SEC-1.yaml"
    record.write_text(record.read_text().replace("fixed: 2026-02-01", "fixed: 2999-02-01"))
    capsys.readouterr()
    args = ["collect", "--only", "tests", "--repo", str(repo), "--from-report"]
    assert main([*args, str(junit["full"])]) == 2
    err = capsys.readouterr().err
    assert "SEC-1.yaml: fixed: 2999-02-01 is in the future" in err
