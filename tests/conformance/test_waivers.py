from __future__ import annotations

from datetime import datetime, timezone

import pytest
from evidence_factory import NOW, C

from sdl_tracker.conformance import waivers
from sdl_tracker.conformance.evidence import records
from sdl_tracker.errors import InputError


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ada <ada@example.com>", "Ada Lovelace <ADA@EXAMPLE.COM>", True),
        ("Ada <ada@example.com>", "Grace <grace@example.com>", False),
        ("Ada", "Ada", False),  # no e-mail: cannot prove anything
    ],
)
def test_same_person_compares_emails(a: str, b: str, same: bool) -> None:
    assert waivers.same_person(a, b) is same


def test_expiry_formats() -> None:
    assert waivers.parse_expiry("2026-12-31") == datetime(
        2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc
    )
    assert waivers.parse_expiry("2026-12-31T10:00:00+02:00") == datetime(
        2026, 12, 31, 8, tzinfo=timezone.utc
    )
    for bad in ("31.12.2026", "2026-12-31T10:00:00"):
        with pytest.raises(InputError):
            waivers.parse_expiry(bad)


def test_collect_marks_expiry_and_drops_invalid_waivers() -> None:
    def make(target: str, expires: str, approver: str) -> object:
        return waivers.statement(
            target=target,
            reason="r",
            approver=approver,
            requested_by="Ada <ada@example.com>",
            expires=waivers.parse_expiry(expires),
            commit=C,
            now=NOW,
        )

    recs = records(
        [
            make("SVV-3", "2026-05-01", "Grace <grace@example.com>"),
            make("SVV-3", "2026-07-01", "Grace <grace@example.com>"),
            make("SI-2", "2026-07-01", "Ada again <ada@example.com>"),
        ]
    )
    grace = waivers.Approval("Grace Hopper <grace@example.com>")
    found = waivers.collect(recs, NOW, {1: grace, 2: grace})
    assert [(w.seq, w.expired) for w in found] == [(1, True), (2, False)]
    assert waivers.active(found, "SVV-3").seq == 2  # type: ignore[union-attr]
    assert waivers.expired(found, "SVV-3").seq == 1  # type: ignore[union-attr]
    assert waivers.active(found, "SI-2") is None


def _one(expires: str) -> object:
    return records(
        [
            waivers.statement(
                target="SVV-3",
                reason="mirror down",
                approver="Grace <grace@example.com>",
                requested_by="Ada <ada@example.com>",
                expires=waivers.parse_expiry(expires),
                commit=C,
                now=NOW,
            )
        ]
    )


def test_a_waiver_without_an_approval_signature_is_pending_and_does_not_count() -> None:
    (w,) = waivers.collect(_one("2026-07-01"), NOW)  # type: ignore[arg-type]
    assert w.state == "pending" and not w.counts
    assert "no approval signature" in w.pending and "sdl-tracker approve 1" in w.pending
    assert waivers.active([w], "SVV-3") is None
    assert waivers.pending([w], "SVV-3") is w
    why = waivers.Approval(None, "Ada <ada@example.com> signed it but is the requester")
    (w,) = waivers.collect(_one("2026-07-01"), NOW, {1: why})  # type: ignore[arg-type]
    assert "is the requester" in w.pending


def test_a_waiver_longer_than_the_policy_allows_does_not_count_even_approved() -> None:
    grace = {1: waivers.Approval("Grace Hopper <grace@example.com>")}
    (w,) = waivers.collect(_one("2026-08-29"), NOW, grace, max_days=90)  # type: ignore[arg-type]
    assert w.counts and w.approved_by.startswith("Grace Hopper")
    (w,) = waivers.collect(_one("2026-09-30"), NOW, grace, max_days=90)  # type: ignore[arg-type]
    assert not w.counts and "lasts 121 days; the policy allows at most 90" in w.pending


_GRACE = {1: waivers.Approval("Grace <grace@example.com>")}


def _waiver(until: str, **changes: object) -> object:
    from dataclasses import replace

    st = waivers.statement(
        target="SVV-4",
        reason="pentest booked",
        approver="Grace <grace@example.com>",
        requested_by="Ada <ada@example.com>",
        expires=waivers.parse_expiry(until),
        commit=C,
        now=NOW,
    )
    details = {**st.predicate.details, **changes}
    details = {k: v for k, v in details.items() if v is not None}
    return replace(st, predicate=replace(st.predicate, details=details))


@pytest.mark.parametrize(
    ("now", "expired"),
    [
        (datetime(2026, 5, 1, 23, 59, 58, tzinfo=timezone.utc), False),
        (datetime(2026, 5, 1, 23, 59, 59, tzinfo=timezone.utc), True),
        (datetime(2026, 5, 2, 0, 0, 0, tzinfo=timezone.utc), True),
    ],
)
def test_a_waiver_counts_through_its_last_day_and_not_a_second_longer(
    now: datetime, expired: bool
) -> None:
    (found,) = waivers.collect(records([_waiver("2026-05-01")]), now, _GRACE)
    assert found.expired is expired
    assert (waivers.active([found], "SVV-4") is None) is expired


@pytest.mark.parametrize(
    "changes",
    [
        {"target": None},
        {"reason": None},
        {"approver": None},
        {"requested_by": None},
        {"expires": None},
        {"expires": ""},
        {"expires": "next week"},
        {"expires": "2026-07-01T10:00:00"},  # no time zone
        {"expires": 20260701},
        {"approver": "Grace"},  # no e-mail: independence cannot be shown
        {"approver": "Ada Again <ADA@example.com>"},  # the requester approving herself
        {"target": ["SVV-4"]},
    ],
)
def test_malformed_waiver_entries_waive_nothing(changes: dict[str, object]) -> None:
    recs = records([_waiver("2026-07-01", **changes)])
    assert waivers.collect(recs, NOW, _GRACE) == ()
