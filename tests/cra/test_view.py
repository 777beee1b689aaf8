"""The one rule every view applies to the stored Article 14 cases (`cra.view.judge`): a stage
closes only by a submission a product-security-lead signed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from evidence_factory import stmt

from sdl_tracker.cra import clock, view
from sdl_tracker.models import JSON, ResultStatus

UTC = timezone.utc
T = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
LEAD = "Grace Hopper <grace@example.com>"


class Rec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.id = "SEC-1"
        self.cra = clock.parse(Path("security-issues/SEC-1.yaml"), data)


def _stored(data: dict[str, Any]) -> list[dict[str, JSON]]:
    return [c.to_json() for c in clock.cases([Rec(data)], T)]


EXPLOITED = {"kind": "vulnerability", "actively_exploited": True, "aware_at": T}
SIGNED: dict[tuple[str, str], dict[str, JSON]] = {
    ("SEC-1", "early_warning"): {
        "submitted_at": "2026-11-03T08:00:00Z",
        "reference": "SRP-9",
        "signed_by": LEAD,
        "entry": 7,
    }
}


def test_a_stage_closes_only_by_a_signed_submission() -> None:
    later = T + timedelta(hours=25)
    (case,) = view.judge(_stored(EXPLOITED), later, {})
    assert case["overdue"] == ["early_warning"]
    (case,) = view.judge(_stored(EXPLOITED), later, SIGNED)
    assert case["overdue"] == []
    early = clock.stages_of(case)[0]
    assert (early["state"], early["signed_by"], early["entry"]) == ("on_time", LEAD, 7)


def test_evidence_that_counted_a_declared_submission_is_judged_again() -> None:
    # evidence collected when the record's own cra.submissions still closed a stage
    (legacy,) = _stored(EXPLOITED)
    stages = clock.stages_of(legacy)
    stages[0].update({"submitted_at": "2026-11-03T08:00:00Z", "reference": "SRP-1"})
    legacy["stages"] = list[JSON](stages)
    for closing in ({}, None):
        (case,) = view.judge([legacy], T + timedelta(hours=25), closing)
        early = clock.stages_of(case)[0]
        assert case["overdue"] == ["early_warning"], closing
        assert (early["submitted_at"], early["declared_at"]) == (None, "2026-11-03T08:00:00Z")


def test_without_the_roster_the_collectors_verified_closings_count() -> None:
    """`org status` has no roster: a closing the issues collector stored with its signer counts,
    an unsigned one never does."""
    (stored,) = [c.to_json() for c in clock.cases([Rec(EXPLOITED)], T, clock.signed(SIGNED))]
    (case,) = view.judge([stored], T + timedelta(hours=25), None)
    assert case["overdue"] == []


def test_incident_final_report_follows_the_signed_notification() -> None:
    aware = datetime(2027, 1, 28, 10, 0, tzinfo=UTC)
    stored = [
        c.to_json()
        for c in clock.cases([Rec({"kind": "incident", "severe": True, "aware_at": aware})], aware)
    ]
    signed: dict[tuple[str, str], dict[str, JSON]] = {
        ("SEC-1", "notification"): {
            "submitted_at": "2027-01-29T08:00:00Z",
            "reference": "R",
            "signed_by": LEAD,
            "entry": 3,
        }
    }
    (case,) = view.judge(stored, aware, {})
    assert clock.stages_of(case)[2]["due"] == "2027-02-28T10:00:00Z"  # the notification's deadline
    (case,) = view.judge(stored, aware, signed)
    assert clock.stages_of(case)[2]["due"] == "2027-02-28T08:00:00Z"
    # an early warning does not move it
    early = {("SEC-1", "early_warning"): {**signed[("SEC-1", "notification")]}}
    (case,) = view.judge(stored, aware, early)
    assert clock.stages_of(case)[2]["due"] == "2027-02-28T10:00:00Z"


def test_users_not_informed_is_flagged_and_counted() -> None:
    (case,) = view.judge(_stored(EXPLOITED), T, {})
    assert case["users_informed"] is False
    informed = {**EXPLOITED, "users_informed_at": "2026-11-02T12:00:00Z"}
    (case,) = view.judge(_stored(informed), T, {})
    assert case["users_informed"] is True


def test_rejudged_evidence_passes_once_signed_and_fails_when_not() -> None:
    stored = _stored({**EXPLOITED, "users_informed_at": "2026-11-02T12:00:00Z"})
    collected = stmt(
        "issue_tracker_record",
        status=ResultStatus.FAIL,
        summary="1 CRA Article 14 report(s) overdue: SEC-1 early_warning",
        metrics={"issues": 1, "cra_overdue": 1, "cra_late": 0, "cra_users_not_informed": 0},
        details={
            "cra_cases": list[JSON](stored),
            "without_cra": {"status": "pass", "summary": "1 security issue(s), all assessed"},
        },
    )
    collected = replace(collected, predicate=replace(collected.predicate, collector="issues"))
    later = T + timedelta(hours=25)
    judged = view.rejudged(collected, later, SIGNED).predicate.result
    assert (judged.status, judged.summary) == (
        ResultStatus.PASS,
        "1 security issue(s), all assessed",
    )
    judged = view.rejudged(collected, later, {}).predicate.result
    assert judged.status == ResultStatus.FAIL and judged.metrics["cra_overdue"] == 1
    assert "overdue" in judged.summary and "SEC-1 early_warning" in judged.summary


def test_a_malformed_submission_entry_closes_nothing_and_is_named() -> None:
    from sdl_tracker.conformance.evidence import Record
    from sdl_tracker.conformance.signatures import Signer

    bad = stmt(
        "cra_submission",
        details={"issue": "SEC-1", "stage": "early_warning", "submitted_at": "soon"},
    )
    lead = Signer(identity=LEAD, roles=("product-security-lead",))
    closing, ignored = view.signed_submissions(
        [Record(seq=4, hash="h", statement=bad)], {4: (lead,)}
    )
    assert closing == {}
    assert ignored == [
        "entry 4 (SEC-1 early_warning) is not counted: its stage or submitted_at is not what "
        "`record cra_submission` writes"
    ]
