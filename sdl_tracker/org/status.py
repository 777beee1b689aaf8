"""The organisation roll-up: one row per repository chain, from a few of its ledger entries (pure).

Per chain: the gate verdict of its latest release (its newest `release_gate_record` entry with a
release; else the newest of any commit), the indicative maturity level per practice and the
requirement statuses that verdict recorded (no verdict: nothing is claimed), the waivers that
stop counting within the window, and the time of the last entry. Only what the entries say:
no git checkout, no re-evaluation — `sdl-tracker status` in the repository does that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sdl_tracker.conformance import checkpoints, verdicts
from sdl_tracker.conformance import waivers as waivers_mod
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import Status
from sdl_tracker.cra import view as cra_view
from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger.chain import Entry
from sdl_tracker.models import JSON, format_time
from sdl_tracker.org.pgorg import ChainFacts
from sdl_tracker.org.signatures import FAILED, HOW, NOT_CHECKED, UNCHECKED, Signatures

NO_VERDICT = "no verdict"
DIVERGED = "diverged"
BAD_SIGNATURES = "bad signatures"
NOT_RECORDED = "not recorded in the verdict"
NOTE = (
    "from each chain's newest gate verdict (of a release when there is one); maturity levels "
    "are indicative: the tool shows the evidence, the assessor decides"
)


APPROVED = "approved"
PENDING = "pending"


@dataclass(frozen=True)
class Expiring:
    """A waiver that stops counting within the window (the longest-lasting one of its target)."""

    target: str
    expires: datetime
    seq: int
    approver: str
    """The approver the request names (a request, not an approval)."""
    reason: str
    days_left: int
    approval: str = NOT_CHECKED
    """approved | pending | not checked: whether an approval signature by a roster approver
    other than the requester approves it, against the chain's roster (`--roster`)."""
    approved_by: str = ""
    """The roster approver whose signature approves it ('' unless approved)."""
    why: str = ""
    """Why it is pending ('' unless pending)."""

    def text(self) -> str:
        """How far the waiver's approval is known here, in words."""
        if self.approval == APPROVED:
            return f"approved by {self.approved_by}"
        if self.approval == PENDING:
            return f"NOT APPROVED, so it does not count ({self.why}); requested of {self.approver}"
        return (
            f"requested of {self.approver}; its approval NOT CHECKED here, so whether it "
            f"counts is unknown ({HOW})"
        )

    def to_json(self) -> dict[str, JSON]:
        return {
            "target": self.target,
            "expires": format_time(self.expires),
            "days_left": self.days_left,
            "seq": self.seq,
            "approver": self.approver,
            "approval": self.approval,
            "approved_by": self.approved_by or None,
            "pending": self.why or None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class GateVerdict:
    """A chain's chosen gate verdict, as its entry recorded it."""

    entry: Entry
    release: str | None
    commit: str | None
    passed: bool
    recorded_at: datetime
    policy: str
    summary: str
    maturity: Mapping[str, int] | None
    """Practice id → level; None when the verdict predates recording it."""
    counts: Mapping[str, int]
    """Requirement status → how many requirements had it (every status, zeros included)."""

    def to_json(self) -> dict[str, JSON]:
        return {
            "seq": self.entry.seq,
            "hash": self.entry.hash,
            "release": self.release,
            "commit": self.commit,
            "passed": self.passed,
            "recorded_at": format_time(self.recorded_at),
            "policy": self.policy,
            "summary": self.summary,
            "statuses": dict(self.counts),
        }


@dataclass(frozen=True)
class Signed:
    """Checkpoint coverage as far as the organisation view can tell without the repository's
    roster: whether the verdict's own checkpoint follows it (placement and batch checked, the
    signature not: `sdl-tracker ledger verify` in the repository judges the signer)."""

    verdict_checkpoint: int | None
    """The checkpoint entry covering the verdict, or None when none follows it."""
    head_signed: bool
    """The chain's head is a checkpoint: nothing after CI's last signed batch."""
    why: str = ""
    """Why the entry after the verdict does not cover it ('' when it does or is no checkpoint)."""

    def text(self) -> str:
        if self.verdict_checkpoint is not None:
            return f"entry {self.verdict_checkpoint}"
        return "none"

    def to_json(self) -> dict[str, JSON]:
        return {
            "verdict_checkpoint": self.verdict_checkpoint,
            "verdict_covered": self.verdict_checkpoint is not None,
            "head_is_checkpoint": self.head_signed,
            "signature_checked": False,
            "problem": self.why or None,
        }


@dataclass(frozen=True)
class Row:
    """One repository chain in the organisation view."""

    repo: str
    entries: int
    head: str | None
    last_activity: datetime | None
    verdict: GateVerdict | None
    problem: str
    """Why the newest gate record could not be read ('' when it could, or there is none)."""
    expiring: tuple[Expiring, ...]
    refused: tuple[str, ...] = ()
    """One sentence per `ledger push`/`pull` refused because the histories diverge."""
    cra_overdue: tuple[str, ...] = ()
    """CRA Article 14 stages past their deadline at `now`, not submitted: "SEC-1 early_warning"."""
    checkpoint: Signed | None = None
    """Whether a checkpoint follows the verdict and the head (None: no verdict)."""
    signatures: Signatures = UNCHECKED
    """The chain's checkpoints and attestation signatures against its repository's roster."""

    @property
    def state(self) -> str:
        """diverged | bad signatures | unreadable | passed | failed | no verdict."""
        if self.refused:
            return DIVERGED
        if self.signatures.state == FAILED:
            return BAD_SIGNATURES
        if self.problem:
            return "unreadable"
        if self.verdict is None:
            return NO_VERDICT
        return "passed" if self.verdict.passed else "failed"

    def count(self, status: Status) -> int | None:
        return self.verdict.counts.get(status.value, 0) if self.verdict else None

    def to_json(self) -> dict[str, JSON]:
        v = self.verdict
        maturity: JSON = dict(v.maturity) if v and v.maturity is not None else None
        return {
            "repository": self.repo,
            "entries": self.entries,
            "head": self.head,
            "last_activity": format_time(self.last_activity) if self.last_activity else None,
            "gate": self.state,
            "verdict": v.to_json() if v else None,
            "problem": self.problem or None,
            "maturity": maturity,
            "maturity_note": None if maturity is not None else (NOT_RECORDED if v else NO_VERDICT),
            "stale": self.count(Status.STALE),
            "incomplete": self.count(Status.INCOMPLETE),
            "not_demonstrated": self.count(Status.NOT_DEMONSTRATED),
            "waivers_expiring": [w.to_json() for w in self.expiring],
            "refused_copies": list(self.refused),
            "cra_overdue": list(self.cra_overdue),
            "checkpoint": self.checkpoint.to_json() if self.checkpoint else None,
            "signatures": self.signatures.to_json(),
        }


@dataclass(frozen=True)
class OrgStatus:
    """Every chain's row at one moment."""

    ledger: str
    generated_at: datetime
    within_days: int
    practices: tuple[str, ...]
    """Practice ids in display order (the catalogue's, then any others the verdicts name)."""
    rows: tuple[Row, ...]

    def to_json(self) -> dict[str, JSON]:
        states = Counter(r.state for r in self.rows)
        return {
            "ledger": self.ledger,
            "generated_at": format_time(self.generated_at),
            "within_days": self.within_days,
            "note": NOTE,
            "totals": {
                "repositories": len(self.rows),
                "passed": states["passed"],
                "failed": states["failed"],
                "no_verdict": states[NO_VERDICT],
                "unreadable": states["unreadable"],
                "diverged": states[DIVERGED],
                "bad_signatures": states[BAD_SIGNATURES],
                "waivers_expiring": sum(len(r.expiring) for r in self.rows),
            },
            "practices": list(self.practices),
            "repositories": [r.to_json() for r in self.rows],
        }


def status(
    facts: Iterable[ChainFacts],
    *,
    ledger: str,
    now: datetime,
    within_days: int,
    practices: Sequence[str] = (),
    signatures: Mapping[str, Signatures] | None = None,
) -> OrgStatus:
    """The organisation view of `facts` at `now`; waivers expiring within `within_days`;
    `signatures`: per chain, what its signatures' check against its roster found."""
    until = now + timedelta(days=within_days)
    rows = tuple(
        _row(f, now, until, practices, (signatures or {}).get(f.repo, UNCHECKED))
        for f in sorted(facts, key=lambda f: f.repo)
    )
    named = {k for r in rows if r.verdict and r.verdict.maturity for k in r.verdict.maturity}
    order = tuple(practices) + tuple(sorted(named - set(practices)))
    return OrgStatus(
        ledger=ledger, generated_at=now, within_days=within_days, practices=order, rows=rows
    )


def _row(
    facts: ChainFacts,
    now: datetime,
    until: datetime,
    practices: Sequence[str],
    signatures: Signatures = UNCHECKED,
) -> Row:
    verdict, problem = _verdict(facts.verdict, practices) if facts.verdict else (None, "")
    last = None
    if facts.last is not None:
        try:
            last = facts.last.statement().predicate.recorded_at
        except LedgerError as e:
            problem = problem or f"the head entry cannot be read: {e}"
    return Row(
        repo=facts.repo,
        entries=facts.head.seq if facts.head else 0,
        head=facts.head.hash if facts.head else None,
        last_activity=last,
        verdict=verdict,
        problem=problem,
        expiring=_expiring(facts.waivers, now, until, signatures),
        refused=tuple(
            f"a ledger {r.direction} was refused on {format_time(r.at)} (by {r.by}): the "
            f"chain and {r.other} diverge at entry {r.seq}; find out which history is right "
            "before trusting either"
            for r in facts.refusals
        ),
        cra_overdue=_cra_overdue(facts.issues, now),
        checkpoint=_signed(facts) if facts.verdict is not None else None,
        signatures=signatures,
    )


def _signed(facts: ChainFacts) -> Signed:
    """Whether the entry after the verdict is its checkpoint (placement and batch only)."""
    head = facts.last is not None and checkpoints.is_checkpoint(facts.last)
    after = facts.after_verdict
    if after is None or not checkpoints.is_checkpoint(after):
        return Signed(None, head)
    checked = checkpoints.check(after, None, signature=False)
    if checked is None or checked.why:
        why = checked.why if checked is not None else "unreadable"
        return Signed(None, head, f"checkpoint entry {after.seq} is bad: {why}")
    return Signed(after.seq, head)


def _cra_overdue(entry: Entry | None, now: datetime) -> tuple[str, ...]:
    """The Article 14 stages overdue at `now`, from the chain's newest issues evidence."""
    if entry is None:
        return ()
    try:
        found = cra_view.newest([entry.statement()], None, now)
    except LedgerError:
        return ()
    return tuple(found.overdue) if found else ()


def _verdict(entry: Entry, practices: Sequence[str]) -> tuple[GateVerdict | None, str]:
    try:
        record = Record(seq=entry.seq, hash=entry.hash, statement=entry.statement())
    except LedgerError as e:
        return None, f"gate verdict entry {entry.seq} cannot be read: {e}"
    read = verdicts.read(record)
    if read is None:
        return None, (
            f"gate verdict entry {entry.seq} is malformed (details.statuses and details.release "
            "are not what `sdl-tracker gate` writes): run `sdl-tracker gate` again"
        )
    p = record.statement.predicate
    counts = Counter(s.value for s in read.statuses.values())
    policy = p.details.get("policy")
    return (
        GateVerdict(
            entry=entry,
            release=read.release,
            commit=read.commit,
            passed=read.passed,
            recorded_at=p.recorded_at,
            policy=policy if isinstance(policy, str) else "",
            summary=p.result.summary,
            maturity=_maturity(p.details.get("maturity"), practices),
            counts={s.value: counts.get(s.value, 0) for s in Status},
        ),
        "",
    )


def _maturity(value: JSON, practices: Sequence[str]) -> dict[str, int] | None:
    """Practice id → level in display order; None unless every value is a whole number."""
    if not isinstance(value, dict):
        return None
    order = [p for p in practices if p in value] + sorted(set(value) - set(practices))
    levels = {k: v for k in order if isinstance(v := value[k], int) and not isinstance(v, bool)}
    return levels if len(levels) == len(value) else None


def _expiring(
    entries: Sequence[Entry], now: datetime, until: datetime, signatures: Signatures
) -> tuple[Expiring, ...]:
    """Per target, the waiver that stops counting within the window: the counting one that
    lasts longest when the chain's roster shows one approved; else the longest-lasting request,
    marked pending (the roster shows no approval) or not checked (no roster named)."""
    records = []
    for e in entries:
        try:
            records.append(Record(seq=e.seq, hash=e.hash, statement=e.statement()))
        except LedgerError:
            continue  # not a waiver statement: it waives nothing (fail closed)
    checked = signatures.roster is not None
    judged = {
        seq: waivers_mod.Approval(approver or None, why or waivers_mod.NOT_SIGNED)
        for seq, approver, why in signatures.approvals
    }
    found = waivers_mod.collect(records, now, judged)
    result = []
    for target in sorted({w.target for w in found}):
        counting = waivers_mod.active(found, target) if checked else None
        live = [w for w in found if w.target == target and not w.expired]
        w = counting or (max(live, key=lambda w: (w.expires, w.seq)) if live else None)
        if w is not None and w.expires <= until:
            state = APPROVED if w.counts else PENDING if checked else NOT_CHECKED
            result.append(
                Expiring(
                    target=w.target,
                    expires=w.expires,
                    seq=w.seq,
                    approver=w.approver,
                    reason=w.reason,
                    days_left=(w.expires - now).days,
                    approval=state,
                    approved_by=w.approved_by if state == APPROVED else "",
                    why=w.pending if state == PENDING else "",
                )
            )
    return tuple(sorted(result, key=lambda x: (x.expires, x.target)))
