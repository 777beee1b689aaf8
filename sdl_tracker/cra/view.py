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


Closing = Mapping[tuple[str, str], dict[str, JSON]]
"""(issue, stage) → the signed submission that closes it (`signed_submissions`)."""


def newest(
    statements: Iterable[Statement],
    commit: str | None,
    now: datetime,
    signed: tuple[Closing, list[str]] | None = None,
) -> Found | None:
    """The cases of the newest issues evidence for `commit` (else the newest of any commit),
    judged by `judge` with `signed` (from `signed_submissions`; None where the roster cannot be
    read, e.g. `org status`: then the closings the collector verified count)."""
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
    closing, not_counted = signed if signed is not None else (None, [])
    cases = judge([c for c in stored if isinstance(c, Mapping)], now, closing)
    return Found(
        cases=cases,
        commit=chosen.commit,
        recorded_at=chosen.predicate.recorded_at,
        not_counted=list(not_counted),
    )


def judge(
    stored: Iterable[Mapping[str, JSON]], now: datetime, closing: Closing | None
) -> list[dict[str, JSON]]:
    """The one rule every view applies to the stored cases: a stage is closed only by a
    `record cra_submission` entry signed by a product-security-lead of the roster.

    With `closing` (the signed submissions now in the ledger), exactly those close stages; with
    None (a view without the roster), only the closings the issues collector verified when it
    ran. A submission declared in the issue record (`cra.submissions`, or an older collection
    that counted it) is kept as `declared_at`, and closes nothing. The incident's final report is
    due one month after the closing notification; each stage's state is judged at `now`.
    """
    result = []
    for c in stored:
        ident = str(c.get("id"))
        stages: list[dict[str, JSON]] = []
        for s in clock.stages_of(c):
            name = str(s.get("stage"))
            stage = _declared_only(s)
            if closing is not None:
                if (sent := closing.get((ident, name))) is not None:
                    stage.update(sent)
            elif s.get("submitted_at") and s.get("signed_by"):
                stage.update({k: s.get(k) for k in _CLOSING})
            stages.append(stage)
        if c.get("kind") == "incident" and isinstance(c.get("aware_at"), str):
            notified = next(
                (x.get("submitted_at") for x in stages if x.get("stage") == "notification"), None
            )
            aware = datetime.fromisoformat(str(c["aware_at"]).replace("Z", "+00:00"))
            sent_at = (
                datetime.fromisoformat(notified.replace("Z", "+00:00"))
                if isinstance(notified, str)
                else None
            )
            due = clock.utc_text(clock.final_due_of_incident(aware, sent_at))
            stages = [{**x, "due": due} if x.get("stage") == "final_report" else x for x in stages]
        informed = bool(c.get("users_informed_at")) or not c.get("applicable")
        result.append({**c, "stages": list[JSON](stages), "users_informed": informed})
    return clock.rejudge(result, now)


_CLOSING = ("submitted_at", "reference", "signed_by", "entry")


def _declared_only(s: Mapping[str, JSON]) -> dict[str, JSON]:
    """A stored stage with no closing submission: what an unsigned one said is kept as
    declared."""
    stage = dict(s)
    if stage.get("submitted_at") and not stage.get("signed_by") and not stage.get("declared_at"):
        stage["declared_at"] = stage.get("submitted_at")
        stage["declared_reference"] = stage.get("reference")
    stage.update(dict.fromkeys(_CLOSING))
    return stage


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
        if not _is_time(d.get("submitted_at")) or key[1] not in clock.STAGES:
            ignored.append(
                f"entry {r.seq} ({key[0]} {key[1]}) is not counted: its stage or submitted_at is "
                "not what `record cra_submission` writes"
            )
            continue
        if not leads:
            who = ", ".join(x.identity for x in signers.get(r.seq, ())) or "nobody"
            ignored.append(
                f"entry {r.seq} ({key[0]} {key[1]}) is not counted: signed by {who}, not by a "
                f"{ROLE} of the roster (sign it: record --sign with a {ROLE}'s key)"
            )
            continue
        sent: dict[str, JSON] = {
            "submitted_at": d.get("submitted_at"),
            "reference": d.get("reference"),
            "signed_by": leads[0],
            "entry": r.seq,
        }
        earlier = closing.get(key)
        if earlier is None or str(sent["submitted_at"]) < str(earlier["submitted_at"]):
            closing[key] = sent
    return closing, ignored


def _is_time(value: JSON) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


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
        if done and not c.get("late") and c.get("users_informed"):
            continue
        shown += 1
        flag = " OVERDUE" if c.get("overdue") else (" late" if c.get("late") else "")
        out.append(f"  {c['id']} ({c['kind']}, aware {c['aware_at']}){flag}")
        out.extend(f"    {clock.describe(s, now)}" for s in stages)
        out.extend(
            f"    {s['stage']}: declared in the record as sent {s['declared_at']} "
            f"({s.get('declared_reference')}), not counted: {UNSIGNED}"
            for s in stages
            if s.get("declared_at") and not s.get("submitted_at")
        )
        if not c.get("users_informed"):
            out.append(f"    users: {NOT_INFORMED}")
    if shown == 0:
        out.append("  no open case: every stage of every reportable case was submitted on time")
    out.extend(f"  {n}" for n in found.not_counted)
    return out


UNSIGNED = (
    f"only a `record cra_submission` entry signed by a {ROLE} closes a stage "
    "(sdl-tracker record cra_submission FILE --issue ID --stage STAGE --submitted-at TIME "
    "--reference REF --sign)"
)
NOT_INFORMED = (
    "no cra.users_informed_at: Article 14(8) asks the manufacturer to inform "
    "the impacted users (and the mitigations they can apply); record when you did"
)


def rejudged(statement: Statement, now: datetime, closing: Closing | None = None) -> Statement:
    """The issues collector's evidence with its Article 14 counts as they stand at `now`, its
    stages closed by `judge` (the signed submissions `closing`).

    A stage whose deadline passed after the collection is overdue now, and a stage closed since
    by a signed submission is closed: the gate and status must not believe the count taken when
    the evidence was collected. Anything else is returned as is.
    """
    p = statement.predicate
    stored = p.details.get("cra_cases")
    if p.kind != KIND or p.collector != COLLECTOR or not isinstance(stored, list) or not stored:
        return statement
    cases = judge([c for c in stored if isinstance(c, Mapping)], now, closing)
    overdue = sum(len(_names(c.get("overdue"))) for c in cases)
    late = sum(len(_names(c.get("late"))) for c in cases)
    uninformed = sum(1 for c in cases if not c.get("users_informed"))
    metrics = {
        **p.result.metrics,
        "cra_overdue": overdue,
        "cra_late": late,
        "cra_users_not_informed": uninformed,
    }
    if metrics == dict(p.result.metrics):
        return statement
    base = p.details.get("without_cra")
    known = {s.value for s in ResultStatus}
    if isinstance(base, Mapping) and base.get("status") in known:
        # The collector's verdict on everything but the clock, and the clock judged now.
        status = ResultStatus(str(base["status"]))
        summary = str(base.get("summary", p.result.summary))
        problems = cra_problems(cases, now)
        if problems and status in (ResultStatus.PASS, ResultStatus.INFO):
            status, summary = ResultStatus.FAIL, "; ".join(problems)
        elif problems:
            status = ResultStatus.FAIL if status != ResultStatus.INCOMPLETE else status
            summary = "; ".join([summary, *problems])
    else:  # evidence collected before the collector kept its verdict without the clock
        status = ResultStatus.FAIL if overdue or late else p.result.status
        summary = p.result.summary
        if overdue and "overdue" not in summary:
            summary += f"; {overdue} Article 14 stage(s) overdue as of {clock.utc_text(now)}"
    result = replace(p.result, status=status, summary=summary, metrics=metrics)
    return replace(statement, predicate=replace(p, result=result))


def cra_problems(cases: Iterable[Mapping[str, JSON]], now: datetime) -> list[str]:
    """The judged cases' overdue and late stages, in words."""
    listed = list(cases)
    overdue = [f"{c['id']} {s}" for c in listed for s in _names(c.get("overdue"))]
    late = [f"{c['id']} {s}" for c in listed for s in _names(c.get("late"))]
    problems = []
    if overdue:
        problems.append(
            f"{len(overdue)} CRA Article 14 report(s) overdue as of {clock.utc_text(now)}: "
            f"{', '.join(overdue[:5])} (submit them, then `sdl-tracker record cra_submission "
            f"… --sign` as a {ROLE})"
        )
    if late:
        problems.append(f"{len(late)} CRA Article 14 report(s) sent late: {', '.join(late[:5])}")
    return problems
