"""SVV-3's fuzzing and resource-exhaustion parts from tests marked so: a real pytest run (a
hypothesis test marked `fuzz`), read back by the tests collector and judged by `status`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evidence_factory import only, policy_file
from helpers import run_pytest

from sdl_tracker.cli.main import main

SUITE = """
import pytest
from hypothesis import given, settings, strategies as st

@pytest.mark.fuzz("config parser")
@settings(max_examples=25, deadline=None)
@given(st.text())
def test_parser_never_crashes(text):
    assert isinstance(text.encode("utf-8", "surrogatepass"), bytes)

@pytest.mark.fuzz("cli")
@pytest.mark.skip(reason="runs nightly")
def test_cli_fuzz():
    pass

@pytest.mark.resource_exhaustion("upload endpoint")
def test_upload_limit():
    assert {ok}

@pytest.mark.resource_exhaustion("journal")
@pytest.mark.skip(reason="needs a full disk")
def test_journal_full():
    pass

def test_unmarked():
    pass
"""

ONLY_SKIPPED = """
import pytest

@pytest.mark.fuzz("config parser")
@pytest.mark.skip(reason="runs nightly")
def test_parser_fuzz():
    pass

def test_unmarked():
    pass
"""


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    suites = {"failing": SUITE.format(ok=False), "skipped": ONLY_SKIPPED}
    return {
        name: run_pytest(tmp_path_factory.mktemp(name), "test_marked.py", s)
        for name, s in suites.items()
    }


def _collect(repo: Path, report: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    args = ["collect", "--only", "tests", "--repo", str(repo), "--format", "json"]
    assert main([*args, "--from-report", str(report)]) == 0, capsys.readouterr().err
    entries = json.loads(capsys.readouterr().out)
    return {e["statement"]["predicate"]["kind"]: e["statement"]["predicate"] for e in entries}


def test_marked_tests_that_ran_make_fuzzing_and_dynamic_analysis(
    git_repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    found = _collect(git_repo, junit["failing"], capsys)
    fuzz = found["fuzzing"]
    assert fuzz["requirements"] == ["SVV-3"]
    assert fuzz["result"]["status"] == "pass", fuzz["result"]["summary"]
    assert fuzz["result"]["metrics"] == {
        "tests": 2,
        "passed": 1,
        "failed": 0,
        "skipped": 1,
        "interfaces": 2,
        "interfaces_exercised": 1,
    }
    assert fuzz["result"]["summary"] == (
        "2 fuzz test(s) (`@pytest.mark.fuzz`): 1 passed, 0 failed, 1 skipped; interfaces a "
        "passing test exercised: config parser; interfaces no passing fuzz test exercised: cli"
    )
    exhaustion = found["dynamic_analysis"]
    assert exhaustion["result"]["status"] == "fail"
    assert "failed: test_marked::test_upload_limit" in exhaustion["result"]["summary"]
    assert exhaustion["details"]["findings"] == [
        {"id": "test_marked::test_upload_limit", "severity": "failed"}
    ]
    # Judged by SVV-3: the fuzz tests meet their part (a tool read them: verified), the failing
    # resource-exhaustion test fails its part.
    text = "extends: iec62443-4-1\n" + only("SVV-3").replace(
        "[attested, signed]", "[signed, verified, ingested]"
    )
    policy = policy_file(git_repo.parent, text, "svv3.yaml")
    capsys.readouterr()
    main(["status", "--repo", str(git_repo), "--policy", str(policy), "--format", "json"])
    reqs = json.loads(capsys.readouterr().out)["requirements"]
    svv3 = next(r for r in reqs if r["id"] == "SVV-3")
    assert svv3["status"] == "failing", svv3["reason"]
    assert "dynamic_analysis: entry" in svv3["reason"]
    assert "failed: test_marked::test_upload_limit" in svv3["reason"]
    assert "fuzzing: entry" in svv3["reason"].split("(met: ")[1]


def test_marked_tests_that_were_all_skipped_count_for_nothing(
    git_repo: Path, junit: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    found = _collect(git_repo, junit["skipped"], capsys)
    fuzz = found["fuzzing"]["result"]
    assert fuzz["status"] == "incomplete"
    assert "no fuzz test passed (skipped ones never count)" in fuzz["summary"]
    assert "dynamic_analysis" not in found  # no test is marked so: nothing to claim
