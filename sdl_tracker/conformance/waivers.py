"""Waivers: approved, time-limited exceptions for a requirement or a finding, kept in the ledger.

A waiver is a ledger entry of kind `waiver` (collector `waive`) whose `predicate.details` holds
`target`, `reason`, `approver`, `requested_by` and `expires`. The requester signs the request and
the approver, someone other than the requester, signs the approval (both checked against the roster
in `trust.approvals`); a waiver stops counting when it expires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sdl_tracker import __version__
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import Waiver
from sdl_tracker.cra.csaf import FLAG_LABELS
from sdl_tracker.errors import InputError
from sdl_tracker.models import (
    Predicate,
    Provenance,
    Result,
    ResultStatus,
    Statement,
    Tool,
    format_time,
)

KIND = "waiver"
COLLECTOR = "waive"
REQUIREMENT_ID = re.compile(r"^((SM|SR|SD|SI|SVV|DM|SUM|SG)-\d+|CRA-(I|II|\d+)(-[0-9a-m]+)?)$")
"""A requirement of IEC 62443-4-1 (SVV-3) or an item of the CRA catalogue (CRA-I-2a, CRA-14)."""
JUSTIFICATIONS = FLAG_LABELS
"""Why a product is not affected by a finding: the VEX justification labels (CSAF 2.0 flags,
OpenVEX), which make a finding waiver a `not_affected` statement."""
FINDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]*$")
_EMAIL = re.compile(r"<([^<>@\s]+@[^<>\s]+)>\s*$")


def email(identity: str) -> str | None:
    """The e-mail address of `Name <email>`, lower-cased, or None."""
    match = _EMAIL.search(identity.strip())
    return match.group(1).lower() if match else None


def same_person(a: str, b: str) -> bool:
    """Whether two git identities are one person (e-mail addresses, case-insensitively)."""
    ea, eb = email(a), email(b)
    return ea is not None and ea == eb


def parse_expiry(text: str) -> datetime:
    """`YYYY-MM-DD` (valid through the end of that day, UTC) or an RFC 3339 time."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise InputError(
            f"--expires {text!r}: expected a date YYYY-MM-DD (or an RFC 3339 time)"
        ) from e
    if moment.tzinfo is None:
        raise InputError(f"--expires {text!r}: give a time zone (e.g. Z) or a plain date")
    return moment.astimezone(timezone.utc)


def statement(
    *,
    target: str,
    reason: str,
    approver: str,
    requested_by: str,
    expires: datetime,
    commit: str | None,
    now: datetime,
    justification: str | None = None,
) -> Statement:
    """The ledger statement recording one waiver (`justification`: a finding waiver that says
    the product is not affected, and why)."""
    is_requirement = bool(REQUIREMENT_ID.match(target))
    return Statement(
        commit=commit,
        artifacts=(),
        predicate=Predicate(
            kind=KIND,
            collector=COLLECTOR,
            tool=Tool(name="sdl-tracker", version=__version__),
            requirements=(target,) if is_requirement else (),
            result=Result(
                status=ResultStatus.INFO,
                summary=f"waiver for {target} until {expires:%Y-%m-%d}, approved by {approver}",
            ),
            note=reason,
            details={
                "target": target,
                "target_type": "requirement" if is_requirement else "finding",
                "reason": reason,
                "approver": approver,
                "requested_by": requested_by,
                "expires": format_time(expires),
                **({"justification": justification} if justification else {}),
            },
            recorded_by=requested_by,
            recorded_at=now,
            provenance=Provenance.ATTESTED,
        ),
    )


@dataclass(frozen=True)
class Approval:
    """The verdict on a waiver's approval: who signed it (a roster approver), or why not."""

    approver: str | None
    why: str = ""
    step: str = ""
    """What to do next when it is pending (default: the approver runs `approve`)."""


NOT_SIGNED = "no approval signature"


def collect(
    records: Iterable[Record],
    now: datetime,
    approvals: Mapping[int, Approval] | None = None,
    max_days: int | None = None,
) -> tuple[Waiver, ...]:
    """Every well-formed waiver in the ledger, marked expired, pending or counting at `now`.

    A waiver counts only with an approval (`approvals`, checked at the edge against the roster)
    and when it lasts at most `max_days` from its request. Entries that are malformed or name
    their own requester as approver are not waivers (fail closed).
    """
    approvals = approvals or {}
    found = []
    for r in records:
        p = r.statement.predicate
        if p.kind != KIND:
            continue
        d = p.details
        fields = [d.get(k) for k in ("target", "reason", "approver", "requested_by", "expires")]
        if not all(isinstance(f, str) and f for f in fields):
            continue
        target, reason, approver, requested_by, expires_text = (str(f) for f in fields)
        if same_person(approver, requested_by) or email(approver) is None:
            continue
        try:
            expires = parse_expiry(expires_text)
        except InputError:
            continue
        approval = approvals.get(r.seq, Approval(None, NOT_SIGNED))
        pending = "" if approval.approver else _pending(r.seq, approval)
        days = (expires - p.recorded_at).days
        if max_days is not None and days > max_days:
            pending = f"it lasts {days} days; the policy allows at most {max_days}"
        found.append(
            Waiver(
                target=target,
                reason=reason,
                approver=approver,
                requested_by=requested_by,
                expires=expires,
                seq=r.seq,
                expired=expires <= now,
                pending=pending,
                approved_by=approval.approver or "",
                justification=_justification(d.get("justification"), target),
            )
        )
    return tuple(found)


def _justification(value: object, target: str) -> str:
    """A known label on a finding waiver; anything else is no justification (the waiver stays a
    plain risk acceptance, never a `not_affected` statement)."""
    if isinstance(value, str) and value in JUSTIFICATIONS and not REQUIREMENT_ID.match(target):
        return value
    return ""


def _pending(seq: int, approval: Approval) -> str:
    step = approval.step or (
        f"the approver (approver role in sdl-roster.yaml, not the requester) runs "
        f"`sdl-tracker approve {seq}`"
    )
    return f"pending approval: {approval.why}; {step}"


def active(waivers: Iterable[Waiver], target: str) -> Waiver | None:
    """The counting (approved, unexpired) waiver for `target` that lasts longest, if any."""
    live = [w for w in waivers if w.target == target and w.counts]
    return max(live, key=lambda w: (w.expires, w.seq)) if live else None


def pending(waivers: Iterable[Waiver], target: str) -> Waiver | None:
    """The newest unexpired waiver for `target` that does not count (yet), if any."""
    found = [w for w in waivers if w.target == target and not w.expired and w.pending]
    return max(found, key=lambda w: w.seq) if found else None


def expired(waivers: Iterable[Waiver], target: str) -> Waiver | None:
    """The most recently expired waiver for `target`, if any."""
    old = [w for w in waivers if w.target == target and w.expired]
    return max(old, key=lambda w: (w.expires, w.seq)) if old else None
