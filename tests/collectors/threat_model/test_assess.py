from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from sdl_tracker.collectors.threat_model.assess import assess
from sdl_tracker.collectors.threat_model.history import History
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.model import AcceptedRisk, Mitigation, ThreatStatus
from sdl_tracker.formats.threatmodel.requirements import read
from sdl_tracker.models import ResultStatus

DATA = Path(__file__).resolve().parents[2] / "data" / "threatmodel"


def counts(metrics: dict) -> dict:  # type: ignore[type-arg]
    """The threat counts among the metrics."""
    return {k: metrics[k] for k in ("threats", "mitigated", "accepted", "open")}


NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
MODEL = load("threat-model.yaml", (DATA / "threat-model.yaml").read_bytes())
REQS = read(DATA, "security-requirements.yaml")
CURRENT = History("a" * 40, datetime(2024, 5, 1, tzinfo=timezone.utc), dirty=False)


def test_a_complete_current_model_passes() -> None:
    a = assess(MODEL, CURRENT, REQS, now=NOW, requirements_file="security-requirements.yaml")
    assert a.status is ResultStatus.PASS
    assert counts(a.metrics) == {"threats": 3, "mitigated": 2, "accepted": 1, "open": 0}
    assert a.summary == (
        "threat-model.yaml (native): 3 threats, 2 mitigated, 1 accepted, 0 open; every "
        "mitigation names a test; current (last changed 31 days ago, no owned file changed since)"
    )
    assert a.details["age_days"] == 31 and a.details["model_commit"] == "a" * 40


def test_open_threats_untested_mitigations_and_unknown_requirements_fail() -> None:
    threats = (replace(MODEL.threats[0], status=ThreatStatus.OPEN), *MODEL.threats[1:])
    mitigations = (
        Mitigation("M-001", "x", ("T-001",), ("SR-9",), ()),
        MODEL.mitigations[1],
    )
    model = replace(MODEL, threats=threats, mitigations=mitigations)
    a = assess(model, CURRENT, REQS, now=NOW, requirements_file="security-requirements.yaml")
    assert a.status is ResultStatus.FAIL
    assert counts(a.metrics) == {"threats": 3, "mitigated": 1, "accepted": 1, "open": 1}
    assert "1 open: T-001" in a.summary
    assert "1 mitigation(s) name no test: M-001" in a.summary
    assert "unknown requirement ids (not in security-requirements.yaml): M-001 -> SR-9" in a.summary
    assert a.details["untested_mitigations"] == ["M-001"]


def test_an_expired_acceptance_counts_as_open() -> None:
    risk = replace(MODEL.accepted_risks[0], expires=date(2024, 5, 31))
    a = assess(replace(MODEL, accepted_risks=(risk,)), CURRENT, REQS, now=NOW)
    assert a.status is ResultStatus.FAIL
    assert counts(a.metrics) == {"threats": 3, "mitigated": 2, "accepted": 0, "open": 1}
    assert "acceptance expired for T-003" in a.summary


def test_changed_owned_files_make_the_model_stale() -> None:
    files = tuple(f"src/agent/f{i}.py" for i in range(7))
    a = assess(MODEL, replace(CURRENT, changed=files), REQS, now=NOW)
    assert a.status is ResultStatus.FAIL
    assert (
        "stale: 7 owned file(s) changed after the model's last commit aaaaaaaaaaaa: "
        "src/agent/f0.py, src/agent/f1.py, src/agent/f2.py, src/agent/f3.py, src/agent/f4.py "
        "(+2 more)"
    ) in a.summary
    assert a.details["stale_files"] == list(files)


@pytest.mark.parametrize(("max_age", "stale"), [(30, True), (31, False), (365, False)])
def test_maximum_age(max_age: int, stale: bool) -> None:
    a = assess(MODEL, CURRENT, REQS, now=NOW, max_age_days=max_age)
    assert (a.status is ResultStatus.FAIL) is stale
    if stale:
        assert "stale: last changed 2024-05-01, 31 days ago (maximum 30)" in a.summary


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (None, "outside the repository"),
        (History(None, None, dirty=True), "the file is not committed: commit it"),
        (replace(CURRENT, dirty=True), "the file has uncommitted changes"),
    ],
)
def test_unknown_history_is_incomplete(history: History | None, expected: str) -> None:
    a = assess(MODEL, history, REQS, now=NOW)
    assert a.status is ResultStatus.INCOMPLETE
    assert expected in a.summary


def test_a_model_without_threats_is_incomplete_and_failures_win() -> None:
    empty = replace(MODEL, threats=(), mitigations=(), accepted_risks=())
    a = assess(empty, CURRENT, REQS, now=NOW)
    assert a.status is ResultStatus.INCOMPLETE
    assert "the model lists no threats" in a.summary
    assert counts(a.metrics) == {"threats": 0, "mitigated": 0, "accepted": 0, "open": 0}
    untested = replace(empty, mitigations=(Mitigation("M-1", "x", ("T-1",)),))
    assert assess(untested, None, REQS, now=NOW).status is ResultStatus.FAIL


def test_requirement_ids_are_not_checked_without_a_requirements_file() -> None:
    risk = AcceptedRisk("T-003", "r", "a", date(2024, 1, 1))
    model = replace(MODEL, accepted_risks=(risk,))
    a = assess(model, CURRENT, None, now=NOW)
    assert a.status is ResultStatus.PASS
    assert a.details["requirements_file"] is None


@pytest.mark.parametrize(
    ("expires", "accepted"),
    [(date(2024, 6, 1), True), (date(2024, 5, 31), False), (date(2024, 6, 2), True)],
)
def test_an_acceptance_counts_through_its_last_day(expires: date, accepted: bool) -> None:
    """NOW is 2024-06-01 00:00 UTC: an acceptance expiring that day still counts, one
    expiring the day before does not (the boundary, pinned both ways)."""
    risk = replace(MODEL.accepted_risks[0], expires=expires)
    a = assess(replace(MODEL, accepted_risks=(risk,)), CURRENT, REQS, now=NOW)
    assert a.metrics["accepted"] == (1 if accepted else 0)
    assert (a.status is ResultStatus.PASS) is accepted
