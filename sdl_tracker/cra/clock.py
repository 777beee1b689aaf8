"""The Article 14 reporting clock: the `cra:` block of a security-issue record and its deadlines.

An actively exploited vulnerability, or a severe incident, starts three stages when the
manufacturer becomes aware of it (`aware_at`): the early warning is due 24 hours later, the
notification 72 hours later, and the final report 14 days after a corrective or mitigating measure
is available (vulnerability) or one calendar month after the notification was submitted (incident;
its due time while it has not been). The duty applies from 11 September 2026. All times are UTC.

Pure: records in, cases out; `now` is always passed in.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from sdl_tracker.errors import InputError
from sdl_tracker.models import JSON

APPLIES_FROM = datetime(2026, 9, 11, tzinfo=timezone.utc)
STAGES = ("early_warning", "notification", "final_report")
KINDS = ("vulnerability", "incident")
EARLY_WARNING = timedelta(hours=24)
NOTIFICATION = timedelta(hours=72)
VULNERABILITY_FINAL = timedelta(days=14)

#: What the stage reports say in words (each optional; `cra report` names the empty ones).
TEXTS = {
    "description": "what the vulnerability or incident is",
    "exploit": "the general nature of the exploit, or of the incident",
    "impact": "its severity and impact",
    "mitigations": "measures users can take to mitigate it",
    "corrective_measure": "corrective or mitigating measures taken (the security update)",
    "root_cause": "type of threat or root cause",
    "malicious_actor": "the malicious actor, where known",
}
_FIELDS = {
    *TEXTS,
    "kind",
    "actively_exploited",
    "severe",
    "aware_at",
    "measure_available_at",
    "member_states",
    "submissions",
    "users_informed_at",
}
_SUBMISSION_FIELDS = {
    "submitted_at",
    "reference",
    "file",
    "sensitivity",
    "malicious_act_suspected",
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# A stage's state at a given moment.
ON_TIME = "on_time"
LATE = "late"
OVERDUE = "overdue"
OPEN = "open"
NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Submission:
    """One stage as sent through the single reporting platform."""

    submitted_at: datetime
    reference: str
    """The platform's reference for the report."""
    file: str | None = None
    """What was sent, kept in the repository (path relative to its root)."""
    sensitivity: str | None = None
    malicious_act_suspected: bool | None = None
    signed_by: str | None = None
    """The product-security-lead whose signature over a `record cra_submission` entry makes this
    submission count (None: declared in the issue record only, which closes nothing)."""
    entry: int | None = None
    """That ledger entry."""

    def to_json(self) -> dict[str, JSON]:
        return {
            "submitted_at": utc_text(self.submitted_at),
            "reference": self.reference,
            "file": self.file,
            "sensitivity": self.sensitivity,
            "malicious_act_suspected": self.malicious_act_suspected,
        }


@dataclass(frozen=True)
class Reporting:
    """The `cra:` block of one security-issue record."""

    kind: str
    reportable: bool
    """`actively_exploited` (vulnerability) or `severe` (incident)."""
    aware_at: datetime | None
    measure_available_at: datetime | None = None
    member_states: tuple[str, ...] = ()
    submissions: Mapping[str, Submission] = field(default_factory=dict)
    intermediate: tuple[Submission, ...] = ()
    users_informed_at: datetime | None = None
    texts: Mapping[str, str] = field(default_factory=dict)
    """The filled ones of `TEXTS`."""


class HasReporting(Protocol):
    """A security issue as the clock needs it (collectors/issues/records.Issue)."""

    @property
    def id(self) -> str: ...

    @property
    def cra(self) -> Reporting | None: ...


@dataclass(frozen=True)
class Stage:
    name: str
    due: datetime | None
    """None while the final report's clock has not started (no measure available yet)."""
    submission: Submission | None
    """The signed submission that closes the stage (see `case`)."""
    state: str
    """on_time, late, overdue, open or not_started, as of the `now` the case was computed at."""
    declared: Submission | None = None
    """What the issue record's `cra.submissions` says was sent: shown, never closing."""

    def to_json(self) -> dict[str, JSON]:
        sent = self.submission
        return {
            "stage": self.name,
            "due": utc_text(self.due) if self.due else None,
            "submitted_at": utc_text(sent.submitted_at) if sent else None,
            "reference": sent.reference if sent else None,
            "file": sent.file if sent else None,
            "signed_by": sent.signed_by if sent else None,
            "entry": sent.entry if sent else None,
            "declared_at": utc_text(self.declared.submitted_at) if self.declared else None,
            "declared_reference": self.declared.reference if self.declared else None,
            "state": self.state,
        }


@dataclass(frozen=True)
class Case:
    """One reportable issue and its stages, judged at `now`."""

    id: str
    kind: str
    aware_at: datetime
    applicable: bool
    """False when awareness predates 11 September 2026: Article 14 did not apply yet."""
    stages: tuple[Stage, ...]
    member_states: tuple[str, ...] = ()
    users_informed_at: datetime | None = None

    @property
    def overdue(self) -> tuple[str, ...]:
        """Stages past their deadline and not submitted."""
        return tuple(s.name for s in self.stages if s.state == OVERDUE)

    @property
    def late(self) -> tuple[str, ...]:
        """Stages submitted after their deadline."""
        return tuple(s.name for s in self.stages if s.state == LATE)

    @property
    def is_open(self) -> bool:
        """Some stage has not been submitted yet."""
        return self.applicable and any(s.submission is None for s in self.stages)

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "kind": self.kind,
            "aware_at": utc_text(self.aware_at),
            "applicable": self.applicable,
            "member_states": list(self.member_states),
            "users_informed_at": utc_text(self.users_informed_at)
            if self.users_informed_at
            else None,
            "stages": [s.to_json() for s in self.stages],
            "overdue": list(self.overdue),
            "late": list(self.late),
        }


def utc_text(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def when(path: Path | str, where: str, value: Any) -> datetime | None:
    """A timezone-aware time in UTC; a bare date or a time without a zone is refused."""
    example = "e.g. 2026-11-02T09:15:00Z"
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"{path}: {where}: expected a time with a time zone ({example}), got {value!r}"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise InputError(
            f"{path}: {where}: {value.isoformat()} is a date without a time: the reporting "
            f"deadlines run in hours, write the time and its zone ({example})"
        )
    if not isinstance(value, datetime):
        raise InputError(f"{path}: {where}: expected a time ({example}), got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{path}: {where}: {value.isoformat()} has no time zone: write Z for UTC or an "
            f"offset such as +02:00 ({example})"
        )
    return value.astimezone(timezone.utc)


def parse(path: Path | str, data: Any) -> Reporting:
    """The `cra:` block of a record; InputError naming the file and field when malformed."""
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: cra: expected a mapping with kind, aware_at and submissions "
            "(see docs/collectors/issues.md)"
        )
    _closed(path, "cra", data, _FIELDS)
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"{path}: cra.kind: expected vulnerability or incident, got {kind!r}")
    flag = "actively_exploited" if kind == "vulnerability" else "severe"
    other = "severe" if kind == "vulnerability" else "actively_exploited"
    if other in data:
        raise InputError(f"{path}: cra.{other}: not a field of a {kind}; use cra.{flag}")
    reportable = data.get(flag, False)
    if not isinstance(reportable, bool):
        raise InputError(f"{path}: cra.{flag}: expected true or false, got {reportable!r}")
    aware = when(path, "cra.aware_at", data.get("aware_at"))
    if reportable and aware is None:
        raise InputError(
            f"{path}: cra.aware_at: required when cra.{flag} is true (when you became aware, "
            "e.g. 2026-11-02T09:15:00Z): the reporting deadlines run from it"
        )
    states = data.get("member_states") or []
    if not isinstance(states, list) or not all(
        isinstance(s, str) and _COUNTRY.match(s) for s in states
    ):
        raise InputError(
            f"{path}: cra.member_states: expected a list of ISO 3166 two-letter codes such as "
            f"[DE, NL], got {states!r}"
        )
    subs, intermediate = _submissions(path, data.get("submissions"))
    return Reporting(
        kind=kind,
        reportable=reportable,
        aware_at=aware,
        measure_available_at=when(
            path, "cra.measure_available_at", data.get("measure_available_at")
        ),
        member_states=tuple(states),
        submissions=subs,
        intermediate=intermediate,
        users_informed_at=when(path, "cra.users_informed_at", data.get("users_informed_at")),
        texts=_texts(path, data),
    )


def _texts(path: Path | str, data: dict[str, Any]) -> dict[str, str]:
    found = {}
    for name in TEXTS:
        value = data.get(name)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(f"- {v}" for v in value)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{path}: cra.{name}: expected text (or a list of texts)")
        if value and value.strip():
            found[name] = value.strip()
    return found


def _closed(path: Path | str, where: str, data: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise InputError(
            f"{path}: {where}.{unknown[0]}: unknown field (known: {', '.join(sorted(known))})"
        )


def _submissions(
    path: Path | str, data: Any
) -> tuple[dict[str, Submission], tuple[Submission, ...]]:
    if data is None:
        return {}, ()
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: cra.submissions: expected a mapping of stages ({', '.join(STAGES)}, "
            "intermediate)"
        )
    _closed(path, "cra.submissions", data, {*STAGES, "intermediate"})
    found = {
        name: _submission(path, f"cra.submissions.{name}", data[name])
        for name in STAGES
        if data.get(name) is not None
    }
    extra = data.get("intermediate") or []
    if not isinstance(extra, list):
        raise InputError(f"{path}: cra.submissions.intermediate: expected a list of submissions")
    return found, tuple(
        _submission(path, f"cra.submissions.intermediate[{n}]", item)
        for n, item in enumerate(extra)
    )


def _submission(path: Path | str, where: str, data: Any) -> Submission:
    if not isinstance(data, dict):
        raise InputError(f"{path}: {where}: expected a mapping with submitted_at and reference")
    _closed(path, where, data, _SUBMISSION_FIELDS)
    at = when(path, f"{where}.submitted_at", data.get("submitted_at"))
    if at is None:
        raise InputError(f"{path}: {where}.submitted_at: required (when it was sent)")
    reference = data.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        raise InputError(
            f"{path}: {where}.reference: required (the reference the reporting platform gave)"
        )
    file = data.get("file")
    if file is not None and not isinstance(file, str):
        raise InputError(f"{path}: {where}.file: expected a path, got {file!r}")
    suspected = data.get("malicious_act_suspected")
    if suspected is not None and not isinstance(suspected, bool):
        raise InputError(f"{path}: {where}.malicious_act_suspected: expected true or false")
    sensitivity = data.get("sensitivity")
    return Submission(
        submitted_at=at,
        reference=reference.strip(),
        file=file,
        sensitivity=str(sensitivity) if sensitivity is not None else None,
        malicious_act_suspected=suspected,
    )


def add_month(t: datetime) -> datetime:
    """One calendar month later (the day clamped to the month's length)."""
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def state(due: datetime | None, submitted: datetime | None, now: datetime) -> str:
    """A stage's state at `now`."""
    if submitted is not None:
        return ON_TIME if due is None or submitted <= due else LATE
    if due is None:
        return NOT_STARTED
    return OVERDUE if now > due else OPEN


def case(
    ident: str,
    report: Reporting,
    now: datetime,
    closing: Mapping[str, Submission] | None = None,
) -> Case | None:
    """The case of one record at `now`, or None when it is not reportable.

    Only `closing` (stage → a submission signed by a product-security-lead, see
    `cra.view.signed_submissions`) closes a stage; the record's own `cra.submissions` are
    declarations anyone could commit: kept as `declared`, they close nothing. The incident's
    final report is due one month after the notification as submitted (signed), else after the
    notification's deadline; the vulnerability's depends on the measure only, never on the
    earlier stages.
    """
    if not report.reportable or report.aware_at is None:
        return None
    aware = report.aware_at
    subs = closing or {}
    due: dict[str, datetime | None] = {
        "early_warning": aware + EARLY_WARNING,
        "notification": aware + NOTIFICATION,
    }
    if report.kind == "vulnerability":
        measure = report.measure_available_at
        due["final_report"] = measure + VULNERABILITY_FINAL if measure else None
    else:
        sent = subs.get("notification")
        due["final_report"] = final_due_of_incident(aware, sent.submitted_at if sent else None)
    applicable = aware >= APPLIES_FROM
    stages = tuple(
        Stage(
            name=name,
            due=due[name],
            submission=subs.get(name),
            state=state(due[name], s.submitted_at if (s := subs.get(name)) else None, now)
            if applicable
            else NOT_STARTED,
            declared=report.submissions.get(name),
        )
        for name in STAGES
    )
    return Case(
        id=ident,
        kind=report.kind,
        aware_at=aware,
        applicable=applicable,
        stages=stages,
        member_states=report.member_states,
        users_informed_at=report.users_informed_at,
    )


def signed(
    closing: Mapping[tuple[str, str], Mapping[str, JSON]],
) -> dict[tuple[str, str], Submission]:
    """Signed closings ((issue, stage) → submitted_at, reference, signed_by, entry, as
    `cra.view.signed_submissions` finds them) as submissions for `cases`."""
    found = {}
    for (ident, stage), sent in closing.items():
        at = when("ledger", f"{ident} {stage}", sent.get("submitted_at"))
        entry = sent.get("entry")
        if at is None or not sent.get("signed_by"):
            continue
        found[(ident, stage)] = Submission(
            submitted_at=at,
            reference=str(sent.get("reference")),
            signed_by=str(sent.get("signed_by")),
            entry=entry if isinstance(entry, int) else None,
        )
    return found


def final_due_of_incident(aware: datetime, notified: datetime | None) -> datetime:
    """One calendar month after the incident notification; while it has not been submitted,
    after its deadline."""
    return add_month(notified if notified is not None else aware + NOTIFICATION)


def cases(
    records: Iterable[HasReporting],
    now: datetime,
    closing: Mapping[tuple[str, str], Submission] | None = None,
) -> list[Case]:
    """Every reportable case among `records`, judged at `now` (timezone-aware); `closing`
    ((issue, stage) → signed submission) closes stages."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    signed = closing or {}
    found = []
    for r in records:
        if r.cra is None:
            continue
        mine = {stage: sub for (ident, stage), sub in signed.items() if ident == r.id}
        if (c := case(r.id, r.cra, now, mine)) is not None:
            found.append(c)
    return found


def rejudge(stored: Iterable[Mapping[str, JSON]], now: datetime) -> list[dict[str, JSON]]:
    """Stored cases (`Case.to_json`, e.g. from the ledger) with each stage's state at `now`."""
    result: list[dict[str, JSON]] = []
    for c in stored:
        stages: list[dict[str, JSON]] = []
        for s in stages_of(c):
            due = _stored_time(s.get("due"))
            sent = _stored_time(s.get("submitted_at"))
            fresh = state(due, sent, now) if c.get("applicable") else NOT_STARTED
            stages.append({**s, "state": fresh})
        overdue: list[JSON] = [s["stage"] for s in stages if s["state"] == OVERDUE]
        late: list[JSON] = [s["stage"] for s in stages if s["state"] == LATE]
        result.append({**c, "stages": list[JSON](stages), "overdue": overdue, "late": late})
    return result


def stages_of(case: Mapping[str, JSON]) -> list[dict[str, JSON]]:
    """The stored stages of a stored case (ignoring anything that is not one)."""
    stages = case.get("stages")
    return [s for s in stages if isinstance(s, dict)] if isinstance(stages, list) else []


def _stored_time(value: JSON) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def describe(stage: Mapping[str, JSON], now: datetime) -> str:
    """One stage in words, e.g. `early_warning due 2026-11-03T09:15Z: OVERDUE by 1:00:00`."""
    name, st = stage.get("stage"), stage.get("state")
    due = _stored_time(stage.get("due"))
    sent = _stored_time(stage.get("submitted_at"))
    if due is None:
        return f"{name}: not started (no corrective or mitigating measure available yet)"
    head = f"{name} due {utc_text(due)}"
    if st == OVERDUE:
        return f"{head}: OVERDUE by {_span(now - due)}, not submitted"
    if st == OPEN:
        return f"{head}: open, {_span(due - now)} left"
    if st == LATE and sent is not None:
        return f"{head}: submitted {utc_text(sent)}, LATE by {_span(sent - due)}"
    if st == ON_TIME and sent is not None:
        by = f", signed by {stage['signed_by']}" if stage.get("signed_by") else ""
        return f"{head}: submitted {utc_text(sent)} ({stage.get('reference')}{by})"
    return f"{head}: not yet applicable"


def _span(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return (f"{days} d " if days else "") + f"{hours} h {mins:02d} min"
