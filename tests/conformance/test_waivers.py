from __future__ import annotations

from datetime import datetime, timezone

import pytest
from evidence_factory import NOW, C

from sdl_tracker import __version__
from sdl_tracker.conformance import waivers
from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.model import Waiver
from sdl_tracker.errors import InputError
from sdl_tracker.models import Provenance, ResultStatus, Tool


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
    assert w.state == "pending" and not w.counts and w.approved_by == ""
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


def test_the_waiver_entry_records_every_field() -> None:
    """What `waive` appends: the gate, the HTML report and the auditor's export read these."""
    expires = waivers.parse_expiry("2026-07-01")
    st = waivers.statement(
        target="SVV-4",
        reason="pentest booked",
        approver="Grace <grace@example.com>",
        requested_by="Ada <ada@example.com>",
        expires=expires,
        commit=C,
        now=NOW,
    )
    p = st.predicate
    assert (st.commit, st.artifacts) == (C, ())
    assert (p.kind, p.collector, p.requirements) == ("waiver", "waive", ("SVV-4",))
    assert p.result.status is ResultStatus.INFO
    assert p.tool == Tool("sdl-tracker", __version__)
    assert (
        p.result.summary
        == "waiver for SVV-4 until 2026-07-01, approved by Grace <grace@example.com>"
    )
    assert p.note == "pentest booked"
    assert p.details == {
        "target": "SVV-4",
        "target_type": "requirement",
        "reason": "pentest booked",
        "approver": "Grace <grace@example.com>",
        "requested_by": "Ada <ada@example.com>",
        "expires": "2026-07-01T23:59:59Z",
    }
    assert (p.recorded_by, p.recorded_at, p.provenance) == (
        "Ada <ada@example.com>",
        NOW,
        Provenance.ATTESTED,
    )
    finding = waivers.statement(
        target="B105:src/app.py:12",
        reason="test key",
        approver="Grace <grace@example.com>",
        requested_by="Ada <ada@example.com>",
        expires=expires,
        commit=None,
        now=NOW,
    )
    assert finding.predicate.requirements == ()
    assert finding.predicate.details["target_type"] == "finding"


@pytest.mark.parametrize(
    ("identity", "address"),
    [
        ("Ada <Ada@Example.COM>", "ada@example.com"),
        ("  Ada <ada@example.com>  ", "ada@example.com"),
        ("ada@example.com", None),  # no angle brackets: not an identity
        ("Ada <ada@example.com> later", None),
        ("Ada <ada example.com>", None),
        ("Ada <>", None),
    ],
)
def test_email_of_an_identity(identity: str, address: str | None) -> None:
    assert waivers.email(identity) == address


def test_an_expiry_is_read_in_utc_with_surrounding_blanks_ignored() -> None:
    assert waivers.parse_expiry(" 2026-12-31\n") == datetime(
        2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc
    )
    moment = waivers.parse_expiry("2026-12-31T23:30:00-02:00")
    assert moment.tzinfo is timezone.utc and (moment.day, moment.hour) == (1, 1)
    assert waivers.parse_expiry("2026-12-31T10:00:00Z").tzinfo is timezone.utc


def test_a_waiver_of_exactly_the_longest_allowed_length_counts() -> None:
    """NOW is 2026-06-01 12:00: a waiver through 2026-08-30 lasts 90 days (and 12 hours)."""
    grace = {1: waivers.Approval("Grace Hopper <grace@example.com>")}
    (w,) = waivers.collect(_one("2026-08-30"), NOW, grace, max_days=90)  # type: ignore[arg-type]
    assert w.counts and w.pending == ""
    (w,) = waivers.collect(_one("2026-08-31"), NOW, grace, max_days=90)  # type: ignore[arg-type]
    assert not w.counts and "lasts 91 days; the policy allows at most 90" in w.pending


def _several(*untils: str) -> tuple[object, ...]:
    return records([_waiver(u) for u in untils])


def test_the_longest_counting_waiver_is_the_one_in_force() -> None:
    recs = _several("2026-07-01", "2026-09-01", "2026-08-01", "2026-09-01", "2026-05-01")
    approved = {seq: waivers.Approval("Grace <grace@example.com>") for seq in (1, 2, 3, 4, 5)}
    found = waivers.collect(recs, NOW, approved)  # type: ignore[arg-type]
    w = waivers.active(found, "SVV-4")
    assert w is not None and w.seq == 4  # the latest expiry, the newest of equals
    assert waivers.active(found, "SVV-3") is None
    old = waivers.expired(found, "SVV-4")
    assert old is not None and old.seq == 5
    assert waivers.pending(found, "SVV-4") is None


def test_the_newest_unexpired_pending_waiver_is_reported() -> None:
    recs = _several("2026-07-01", "2026-09-01", "2026-08-01", "2026-05-01")
    found = waivers.collect(recs, NOW, {2: waivers.Approval("Grace <grace@example.com>")})  # type: ignore[arg-type]
    w = waivers.pending(found, "SVV-4")
    assert w is not None and w.seq == 3  # 4 is pending too, but expired
    assert waivers.pending(found, "SVV-3") is None
    active = waivers.active(found, "SVV-4")
    assert active is not None and active.seq == 2


def test_expired_waivers_the_latest_expiry_first() -> None:
    recs = _several("2026-05-01", "2026-05-20", "2026-04-01", "2026-05-20")
    found = waivers.collect(recs, NOW, {})  # type: ignore[arg-type]
    old = waivers.expired(found, "SVV-4")
    assert old is not None and old.seq == 4
    assert waivers.expired(found, "SVV-3") is None


def test_entries_of_other_kinds_before_a_waiver_are_skipped() -> None:
    other = _waiver("2026-07-01")
    from dataclasses import replace

    sast = replace(other, predicate=replace(other.predicate, kind="sast"))  # type: ignore[attr-defined]
    recs = records([sast, _waiver("2026-07-01")])  # type: ignore[list-item]
    (w,) = waivers.collect(recs, NOW, {2: waivers.Approval("Grace <grace@example.com>")})
    assert w.seq == 2 and w.counts


@pytest.mark.parametrize(
    "changes",
    [
        {"reason": None},  # a field missing
        {"approver": "Ada Again <ADA@example.com>"},  # self-approved
        {"expires": "next week"},  # unreadable expiry
    ],
)
def test_a_malformed_waiver_does_not_hide_the_waivers_after_it(
    changes: dict[str, object],
) -> None:
    recs = records([_waiver("2026-07-01", **changes), _waiver("2026-07-01")])  # type: ignore[list-item]
    (w,) = waivers.collect(recs, NOW, {2: waivers.Approval("Grace <grace@example.com>")})
    assert w.seq == 2 and w.counts


def test_an_unreadable_expiry_says_what_is_expected() -> None:
    with pytest.raises(InputError, match=r"--expires '31\.12\.2026': expected a date YYYY-MM-DD"):
        waivers.parse_expiry("31.12.2026")
    with pytest.raises(InputError, match=r"'2026-12-31T10:00:00': give a time zone \(e\.g\. Z\)"):
        waivers.parse_expiry("2026-12-31T10:00:00")


def test_a_collected_waiver_carries_the_entrys_fields() -> None:
    (w,) = waivers.collect(records([_waiver("2026-07-01")]), NOW, _GRACE)
    assert w == Waiver(
        target="SVV-4",
        reason="pentest booked",
        approver="Grace <grace@example.com>",
        requested_by="Ada <ada@example.com>",
        expires=datetime(2026, 7, 1, 23, 59, 59, tzinfo=timezone.utc),
        seq=1,
        expired=False,
        pending="",
        approved_by="Grace <grace@example.com>",
    )
