from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sdl_tracker.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    report = git_repo.parent / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 external pentest by Acme Labs\n")
    for status in ("fail", "pass"):
        argv = ["record", "pentest_report", str(report), "--status", status, "-C", str(git_repo)]
        assert run(argv, capsys)[0] == 0
    return git_repo


def test_explain_shows_rule_entries_and_artifacts(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["explain", "svv-4", "-C", str(repo)], capsys)
    assert code == 0 and out == ""
    digest = hashlib.sha256(b"%PDF-1.4 external pentest by Acme Labs\n").hexdigest()
    assert "SVV-4  Penetration testing" in err and "Partial" in err
    assert "entry 2 is attested (a person's unsigned statement)" in err
    assert "SVV-4 needs pentest_report signed" in err
    assert "rule:      pentest_report" in err
    assert "expects:   attestation" in err
    assert "entry 1     pentest_report         [attested, unsigned] result fail" in err
    assert "superseded by entry 2" in err
    assert "entry 2     pentest_report         [attested, unsigned] result pass" in err
    assert "not counted" in err
    assert f"artifact pentest.pdf sha256:{digest}" in err
    assert "maturity of SVV: ML1" in err
    assert (
        "assessor:  when satisfied, an assessor will still ask for: the testers' "
        "qualification and the report's scope" in err
    )
    assert "product:" not in err
    assert "ML3: ML2, and the practice performed at each of the last N distinct releases" in err


def test_explain_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "SVV-4", "--format", "json", "-C", str(repo)], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["requirement"]["status"] == "partial"
    evidence = data["requirement"]["evidence"]
    assert [(e["counted"], e["provenance"]) for e in evidence] == [(False, "attested")] * 2
    assert data["requirement"]["rests_on"] == dict.fromkeys(
        ("verified", "ingested", "attested", "signed"), 0
    )
    assert data["policy"]["requires"]["kind"] == "pentest_report"
    assert len(data["maturity_rules"]) == 4
    assert data["assessor_will_ask"] == "the testers' qualification and the report's scope"
    assert "product_assessment" not in data


def test_unknown_requirement(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["explain", "SVV-9", "-C", str(repo)], capsys)
    assert code == 2 and "unknown requirement 'SVV-9'" in err


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("SVV4", "did you mean SVV-4?"),
        ("svv_4", "did you mean SVV-4?"),
        ("sum1", "did you mean SUM-1?"),
        ("SM-1O", "did you mean SM-1 or"),
    ],
)
def test_an_unknown_requirement_suggests_the_id(
    repo: Path, capsys: pytest.CaptureFixture[str], given: str, meant: str
) -> None:
    code, _, err = run(["explain", given, "-C", str(repo)], capsys)
    assert code == 2 and f"unknown requirement {given!r}: " in err and meant in err
