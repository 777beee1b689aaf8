from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.cra import clock
from sdl_tracker.errors import InputError

UTC = timezone.utc
T = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)


class Rec:
    def __init__(self, ident: str, data: dict[str, Any]) -> None:
        self.id = ident
        self.cra = clock.parse(Path("security-issues/x.yaml"), data)


def _one(data: dict[str, Any], now: datetime) -> clock.Case:
    (case,) = clock.cases([Rec("SEC-1", data)], now)
    return case


EXPLOITED = {"kind": "vulnerability", "actively_exploited": True, "aware_at": T}


def test_deadlines_of_an_exploited_vulnerability() -> None:
    case = _one(EXPLOITED, T + timedelta(hours=23))
    assert case.stage("early_warning").due == T + timedelta(hours=24)
    assert case.stage("notification").due == T + timedelta(hours=72)
    assert case.stage("final_report").due is None
    assert [s.state for s in case.stages] == ["open", "open", "not_started"]
    assert case.overdue == () and case.late == ()


def test_early_warning_overdue_after_24_hours() -> None:
    assert _one(EXPLOITED, T + timedelta(hours=24)).overdue == ()
    case = _one(EXPLOITED, T + timedelta(hours=24, seconds=1))
    assert case.overdue == ("early_warning",)
    assert _one(EXPLOITED, T + timedelta(hours=73)).overdue == ("early_warning", "notification")


def _signed(**stages: tuple[datetime, str]) -> dict[tuple[str, str], clock.Submission]:
    """Closings as `view.signed_submissions` finds them, for SEC-1."""
    return {
        ("SEC-1", name): clock.Submission(at, "SRP-1", signed_by=who, entry=9)
        for name, (at, who) in stages.items()
    }


def _closed(data: dict[str, Any], now: datetime, closing: Any) -> clock.Case:
    (case,) = clock.cases([Rec("SEC-1", data)], now, closing)
    return case


def test_signed_submissions_close_stages_on_time_or_late() -> None:
    data = {**EXPLOITED, "measure_available_at": "2026-11-06T18:00:00+02:00"}
    lead = "Grace Hopper <grace@example.com>"
    closing = _signed(
        early_warning=(T + timedelta(hours=20), lead),
        notification=(T + timedelta(hours=75), lead),
    )
    case = _closed(data, datetime(2026, 11, 30, tzinfo=UTC), closing)
    assert case.stage("early_warning").state == "on_time"
    assert case.stage("early_warning").to_json()["signed_by"] == lead
    assert case.late == ("notification",)
    # 14 days after the measure (16:00 UTC), not after awareness, and not moved by the signed
    # early warning or notification
    assert case.stage("final_report").due == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert _one(data, T).stage("final_report").due == case.stage("final_report").due
    assert case.overdue == ("final_report",)


def test_submissions_the_record_declares_close_nothing() -> None:
    data = {
        **EXPLOITED,
        "submissions": {
            "early_warning": {"submitted_at": T + timedelta(hours=20), "reference": "SRP-1"},
        },
    }
    case = _one(data, T + timedelta(hours=25))
    assert case.overdue == ("early_warning",)
    shown = case.stage("early_warning").to_json()
    assert shown["submitted_at"] is None and shown["declared_at"] == "2026-11-03T05:15:00Z"


def test_incident_final_report_one_calendar_month_after_the_notification() -> None:
    aware = datetime(2027, 1, 28, 10, 0, tzinfo=UTC)
    data: dict[str, Any] = {"kind": "incident", "severe": True, "aware_at": aware}
    # not sent yet: from the notification's deadline (31 Jan) -> 28 Feb (clamped)
    case = _one(data, aware)
    assert case.stage("final_report").due == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
    # declared in the record only: the deadline does not move
    data["submissions"] = {
        "notification": {"submitted_at": "2027-01-29T08:00:00Z", "reference": "R"}
    }
    assert _one(data, aware).stage("final_report").due == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
    # signed by the lead: one month after the notification as submitted
    sent = datetime(2027, 1, 29, 8, 0, tzinfo=UTC)
    case = _closed(data, aware, _signed(notification=(sent, "Grace")))
    assert case.stage("final_report").due == datetime(2027, 2, 28, 8, 0, tzinfo=UTC)
    # a signed early warning does not move it
    case = _closed(data, aware, _signed(early_warning=(aware + timedelta(hours=2), "Grace")))
    assert case.stage("final_report").due == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
    assert clock.add_month(datetime(2027, 12, 31, tzinfo=UTC)) == datetime(2028, 1, 31, tzinfo=UTC)


def test_not_reportable_and_not_yet_applicable() -> None:
    assert clock.cases([Rec("A", {**EXPLOITED, "actively_exploited": False})], T) == []
    assert clock.cases([Rec("B", {"kind": "incident", "severe": False})], T) == []
    before = {**EXPLOITED, "aware_at": datetime(2026, 9, 10, 23, 59, tzinfo=UTC)}
    case = _one(before, T)
    assert not case.applicable and case.overdue == () and not case.is_open
    at = {**EXPLOITED, "aware_at": "2026-09-11T00:00:00Z"}
    assert _one(at, T).applicable and _one(at, T).overdue


def test_offsets_become_utc() -> None:
    case = _one({**EXPLOITED, "aware_at": "2026-11-02T11:15:00+02:00"}, T)
    assert case.aware_at == T
    assert case.to_json()["aware_at"] == "2026-11-02T09:15:00Z"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**EXPLOITED, "aware_at": date(2026, 11, 2)}, "cra.aware_at: 2026-11-02 is a date"),
        (
            {**EXPLOITED, "aware_at": datetime(2026, 11, 2, 9, 15)},
            "cra.aware_at: 2026-11-02T09:15:00 has no time zone",
        ),
        ({**EXPLOITED, "aware_at": "yesterday"}, "cra.aware_at: expected a time"),
        ({**EXPLOITED, "aware_at": None}, "cra.aware_at: required"),
        ({**EXPLOITED, "kind": "breach"}, "cra.kind: expected vulnerability or incident"),
        ({**EXPLOITED, "severe": True}, "cra.severe: not a field of a vulnerability"),
        ({**EXPLOITED, "actively_exploited": "yes"}, "cra.actively_exploited: expected true"),
        ({**EXPLOITED, "deadline": 1}, "cra.deadline: unknown field"),
        ({**EXPLOITED, "member_states": ["Germany"]}, "cra.member_states: expected a list"),
        (
            {**EXPLOITED, "submissions": {"early_warning": {"reference": "R"}}},
            "cra.submissions.early_warning.submitted_at: required",
        ),
        (
            {**EXPLOITED, "submissions": {"notification": {"submitted_at": T}}},
            "cra.submissions.notification.reference: required",
        ),
        (
            {**EXPLOITED, "submissions": {"final": {"submitted_at": T, "reference": "R"}}},
            "cra.submissions.final: unknown field",
        ),
        (
            {
                **EXPLOITED,
                "submissions": {
                    "intermediate": [{"submitted_at": "2026-11-03 10:00", "reference": "R"}]
                },
            },
            "cra.submissions.intermediate[0].submitted_at: 2026-11-03T10:00:00 has no time zone",
        ),
        ("vulnerability", "cra: expected a mapping"),
    ],
)
def test_malformed_block_names_file_and_field(data: Any, message: str) -> None:
    with pytest.raises(InputError, match="security-issues/x.yaml") as e:
        clock.parse(Path("security-issues/x.yaml"), data)
    assert message in str(e.value)


def test_rejudge_stored_cases_at_a_later_time() -> None:
    stored = [_one(EXPLOITED, T).to_json()]
    assert stored[0]["overdue"] == []
    (later,) = clock.rejudge(stored, T + timedelta(hours=25))
    assert later["overdue"] == ["early_warning"]
    assert "OVERDUE by 1 h 00 min" in clock.describe(later["stages"][0], T + timedelta(hours=25))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        clock.cases([], datetime(2026, 1, 1))
