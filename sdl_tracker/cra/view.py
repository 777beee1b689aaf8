"""The Article 14 cases as the ledger holds them, judged again at the time they are looked at.

The issues collector stores each reportable case with its deadlines and submissions
(`details.cra_cases` of its `issue_tracker_record` evidence); a deadline that passed after the
collection is overdue now, so `status` and `org status` re-judge the stages with their own `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sdl_tracker.cra import clock
from sdl_tracker.models import JSON, ResultStatus, Statement

if TYPE_CHECKING:
    from sdl_tracker.conformance.evidence import Record
    from sdl_tracker.conformance.signatures import Signer

KIND = "issue_tracker_record"
COLLECTOR = "issues"
SUBMISSION = "cra_submission"
ROLE = "product-security-lead"


@dataclass(frozen=True)
class Found:
    """The cases of the newest issues evidence, re-judged at `now`."""

    cases: list[dict[str, JSON]]
    commit: str | None
    """The commit that evidence was collected for."""
    recorded_at: datetime
    not_counted: list[str] = field(default_factory=list)
    """`record cra_submission` entries that close nothing, and why."""

    @property
    def overdue(self) -> list[str]:
        return [f"{c['id']} {s}" for c in self.cases for s in _names(c.get("overdue"))]

    @property
    def late(self) -> list[str]:
        return [f"{c['id']} {s}" for c in self.cases for s in _names(c.get("late"))]


def _names(value: JSON) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def newest(
    statements: Iterable[Statement],
    commit: str | None,
    now: datetime,
    signed: tuple[Mapping[tuple[str, str], dict[str, JSON]], list[str]] | None = None,
) -> Found | None:
    """The cases of the newest issues evidence for `commit` (else the newest of any commit);
    `signed` (from `signed_submissions`) closes the stages the record does not show as sent."""
    mine: Statement | None = None
    any_commit: Statement | None = None
    for st in statements:
        # Only the collector's own evidence holds the cases; a person's statement of this kind
        # (no cases) must not hide them.
        if st.predicate.kind != KIND or st.predicate.collector != COLLECTOR:
            continue
        any_commit = st
        if commit is not None and st.commit == commit:
            mine = st
    chosen = mine or any_commit
    if chosen is None:
        return None
    stored = chosen.predicate.details.get("cra_cases")
    if not isinstance(stored, list) or not stored:
        return None
    closing, not_counted = signed or ({}, [])
    cases = clock.rejudge([_close(c, closing) for c in stored if isinstance(c, Mapping)], now)
    return Found(
        cases=cases,
        commit=chosen.commit,
        recorded_at=chosen.predicate.recorded_at,
        not_counted=list(not_counted),
    )


def _close(
    case: Mapping[str, JSON], closing: Mapping[tuple[str, str], dict[str, JSON]]
) -> dict[str, JSON]:
    stages: list[JSON] = []
    for s in clock.stages_of(case):
        sent = closing.get((str(case.get("id")), str(s.get("stage"))))
        stages.append({**s, **sent} if sent and not s.get("submitted_at") else s)
    return {**case, "stages": stages}


def signed_submissions(
    records: Iterable[Record], signers: Mapping[int, tuple[Signer, ...]]
) -> tuple[dict[tuple[str, str], dict[str, JSON]], list[str]]:
    """The stages closed by `record cra_submission` entries signed by a product-security-lead
    of the roster (the earliest per stage), and the entries that close nothing, with why."""
    closing: dict[tuple[str, str], dict[str, JSON]] = {}
    ignored = []
    for r in records:
        p = r.statement.predicate
        if p.kind != SUBMISSION:
            continue
        d = p.details
        key = (str(d.get("issue")), str(d.get("stage")))
        leads = [x.identity for x in signers.get(r.seq, ()) if ROLE in x.roles]
        if not leads:
            who = ", ".join(x.identity for x in signers.get(r.seq, ())) or "nobody"
            ignored.append(
                f"entry {r.seq} ({key[0]} {key[1]}) is not counted: signed by {who}, not by a "
                f"{ROLE} of the roster (sign it: record --sign with a {ROLE}'s key)"
            )
            continue
        sent = {
            "submitted_at": d.get("submitted_at"),
            "reference": d.get("reference"),
            "signed_by": leads[0],
            "entry": r.seq,
        }
        earlier = closing.get(key)
        if earlier is None or str(sent["submitted_at"]) < str(earlier["submitted_at"]):
            closing[key] = sent
    return closing, ignored


def lines(found: Found, now: datetime) -> list[str]:
    """Each case still open (or overdue or late) with its deadlines, for the terminal."""
    out = [f"CRA Article 14 reporting (as of {clock.utc_text(now)}):"]
    shown = 0
    for c in found.cases:
        stages = clock.stages_of(c)
        if not c.get("applicable"):
            out.append(f"  {c['id']} ({c['kind']}): aware before 2026-09-11, not yet applicable")
            continue
        done = all(s.get("submitted_at") for s in stages)
        if done and not c.get("late"):
            continue
        shown += 1
        flag = " OVERDUE" if c.get("overdue") else (" late" if c.get("late") else "")
        out.append(f"  {c['id']} ({c['kind']}, aware {c['aware_at']}){flag}")
        out.extend(f"    {clock.describe(s, now)}" for s in stages)
    if shown == 0:
        out.append("  no open case: every stage of every reportable case was submitted on time")
    out.extend(f"  {n}" for n in found.not_counted)
    return out


def rejudged(statement: Statement, now: datetime) -> Statement:
    """The issues collector's evidence with its Article 14 counts as they stand at `now`.

    A stage whose deadline passed after the collection is overdue now: the gate and status must
    not believe the count taken when the evidence was collected. Anything else is returned as is.
    """
    p = statement.predicate
    stored = p.details.get("cra_cases")
    if p.kind != KIND or p.collector != COLLECTOR or not isinstance(stored, list) or not stored:
        return statement
    cases = clock.rejudge([c for c in stored if isinstance(c, Mapping)], now)
    overdue = sum(len(_names(c.get("overdue"))) for c in cases)
    late = sum(len(_names(c.get("late"))) for c in cases)
    metrics = {**p.result.metrics, "cra_overdue": overdue, "cra_late": late}
    if metrics == dict(p.result.metrics):
        return statement
    status = ResultStatus.FAIL if overdue or late else p.result.status
    summary = p.result.summary
    if overdue and "overdue" not in summary:
        summary += f"; {overdue} Article 14 stage(s) overdue as of {clock.utc_text(now)}"
    result = replace(p.result, status=status, summary=summary, metrics=metrics)
    return replace(statement, predicate=replace(p, result=result))
