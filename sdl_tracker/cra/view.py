"""The Article 14 cases as the ledger holds them, judged again at the time they are looked at.

The issues collector stores each reportable case with its deadlines and submissions
(`details.cra_cases` of its `issue_tracker_record` evidence); a deadline that passed after the
collection is overdue now, so `status` and `org status` re-judge the stages with their own `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sdl_tracker.cra import clock
from sdl_tracker.models import JSON, ResultStatus, Statement

KIND = "issue_tracker_record"
COLLECTOR = "issues"


@dataclass(frozen=True)
class Found:
    """The cases of the newest issues evidence, re-judged at `now`."""

    cases: list[dict[str, JSON]]
    commit: str | None
    """The commit that evidence was collected for."""
    recorded_at: datetime

    @property
    def overdue(self) -> list[str]:
        return [f"{c['id']} {s}" for c in self.cases for s in _names(c.get("overdue"))]

    @property
    def late(self) -> list[str]:
        return [f"{c['id']} {s}" for c in self.cases for s in _names(c.get("late"))]


def _names(value: JSON) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def newest(statements: Iterable[Statement], commit: str | None, now: datetime) -> Found | None:
    """The cases of the newest issues evidence for `commit` (else the newest of any commit)."""
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
    cases = clock.rejudge([c for c in stored if isinstance(c, Mapping)], now)
    return Found(cases=cases, commit=chosen.commit, recorded_at=chosen.predicate.recorded_at)


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
