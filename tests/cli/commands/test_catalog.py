from __future__ import annotations

import json

import pytest

from sdl_tracker.cli.main import main


def test_text_groups_by_practice_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--color", "never"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "Practice 5 - Security verification and validation testing (SVV, 5)" in err
    assert "SG-7   Documentation review" in err
    assert err.rstrip().endswith("47 requirements in 8 practice(s)")


def test_json_for_one_practice_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--practice", "svv", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["catalog"] == "iec62443-4-1:2018"
    (practice,) = data["practices"]
    assert [r["id"] for r in practice["requirements"]] == [f"SVV-{n}" for n in range(1, 6)]
    assert "pentest_report" in practice["requirements"][3]["evidence"]
    assert practice["requirements"][3]["assessor_will_ask"].startswith("the testers'")


def test_json_of_the_cra_carries_the_62443_4_2_hints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--catalog", "cra:2024-2847", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    items = {r["id"]: r for p in data["practices"] for r in p["requirements"]}
    assert items["CRA-I-2h"]["product_assessment"]["requirements"] == [
        {"id": "FR 7", "title": "Resource availability"}
    ]
    assert "product_assessment" not in items["CRA-II-7"]
    assert all(r["assessor_will_ask"] for r in items.values())


def test_unknown_practice_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--practice", "XY"]) == 2
    assert (
        "unknown practice 'XY' (known: SM, SR, SD, SI, SVV, DM, SUM, SG)" in capsys.readouterr().err
    )
