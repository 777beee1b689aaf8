"""Verdicts: the status of each requirement for one commit, and the maturity of each practice.

Produced by `evaluate.evaluate()` (pure), read by status/explain/gate and by the exporters.
`Conformance.to_json()` is the public `conformance.json` form.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sdl_tracker.models import JSON, Artifact, Provenance, format_time

if TYPE_CHECKING:
    from sdl_tracker.conformance.coverage import Coverage


class Status(str, enum.Enum):
    """The status of one requirement."""

    SATISFIED = "satisfied"
    PARTIAL = "partial"
    MISSING = "missing"
    FAILING = "failing"
    STALE = "stale"
    NOT_DEMONSTRATED = "not_demonstrated"
    """The evidence is there, but it covers nothing: 0 issues, 0 releases, 0 reviews in range."""
    INCOMPLETE = "incomplete"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"

    @property
    def passes(self) -> bool:
        """Whether the gate accepts this status."""
        return self in (Status.SATISFIED, Status.WAIVED, Status.NOT_APPLICABLE)


#: Worst first: used to order statuses and to compare a release with the previous one.
SEVERITY = (
    Status.FAILING,
    Status.INCOMPLETE,
    Status.MISSING,
    Status.NOT_DEMONSTRATED,
    Status.STALE,
    Status.PARTIAL,
    Status.WAIVED,
    Status.NOT_APPLICABLE,
    Status.SATISFIED,
)


@dataclass(frozen=True)
class EvidenceRef:
    """One ledger entry considered for a requirement, and whether it counted."""

    seq: int
    hash: str
    kind: str
    result: str
    """The entry's own `predicate.result.status`."""
    counted: bool
    why: str
    """Why it counted or not, e.g. `collected on 3f2a9c1, 2 days old`."""
    commit: str | None
    recorded_at: datetime
    artifacts: tuple[Artifact, ...] = ()
    provenance: Provenance = Provenance.ATTESTED
    """How the entry entered the ledger (derived, see `conformance.provenance`)."""

    def to_json(self) -> dict[str, JSON]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "kind": self.kind,
            "provenance": self.provenance.value,
            "result": self.result,
            "counted": self.counted,
            "why": self.why,
            "commit": self.commit,
            "recorded_at": format_time(self.recorded_at),
            "artifacts": [{"name": a.name, "sha256": a.sha256} for a in self.artifacts],
        }


@dataclass(frozen=True)
class Waiver:
    """An accepted exception to a requirement or a finding, recorded in the ledger."""

    target: str
    """A requirement id (`SVV-3`) or a finding id (`B602`, `PYSEC-2018-28`)."""
    reason: str
    approver: str
    requested_by: str
    expires: datetime
    seq: int
    expired: bool
    pending: str = ""
    """Why it does not count yet (no valid approval signature, too long); empty when it counts."""
    approved_by: str = ""
    """The roster identity whose signature approved it."""
    justification: str = ""
    """For a finding waiver: why the product is not affected (a VEX justification label such as
    `vulnerable_code_not_in_execute_path`); empty for a plain risk acceptance."""

    @property
    def counts(self) -> bool:
        return not self.expired and not self.pending

    @property
    def state(self) -> str:
        """`active`, `pending` (no valid approval yet, or too long) or `expired`."""
        if self.expired:
            return "expired"
        return "pending" if self.pending else "active"

    def to_json(self) -> dict[str, JSON]:
        return {
            "target": self.target,
            "reason": self.reason,
            "approver": self.approver,
            "requested_by": self.requested_by,
            "expires": format_time(self.expires),
            "seq": self.seq,
            "expired": self.expired,
            "state": self.state,
            "pending": self.pending or None,
            "approved_by": self.approved_by or None,
            **({"justification": self.justification} if self.justification else {}),
        }


@dataclass(frozen=True)
class RequirementResult:
    """The verdict for one requirement."""

    requirement_id: str
    title: str
    practice: str
    status: Status
    reason: str
    """What was found and what was expected."""
    rule: str
    """The policy rule in words, e.g. `all of: sast (no HIGH), document:coding_standard`."""
    evidence: tuple[EvidenceRef, ...] = ()
    waiver: Waiver | None = None
    """The requirement's own waiver (in force, pending or expired), else its first part's."""
    waivers: tuple[Waiver, ...] = ()
    """Every waiver shown with the verdict: each part's finding waivers, then the requirement's
    own (an all_of with two waived parts rests on both)."""
    justification: str | None = None
    """Why the requirement does not apply (status not_applicable)."""
    action: str = ""
    """What to do to meet it, e.g. "run `sdl-tracker collect --only sast`"; empty when met."""

    def rests_on(self) -> dict[str, int]:
        """How many counted entries of each provenance class the verdict rests on."""
        found = {p.value: 0 for p in Provenance}
        for ref in self.evidence:
            if ref.counted:
                found[ref.provenance.value] += 1
        return found

    @property
    def unsigned_only(self) -> bool:
        """Met, but only on attestations nobody signed: a person's word and nothing else."""
        counts = self.rests_on()
        return (
            self.status is Status.SATISFIED
            and counts[Provenance.ATTESTED.value] > 0
            and sum(counts.values()) == counts[Provenance.ATTESTED.value]
        )

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.requirement_id,
            "title": self.title,
            "practice": self.practice,
            "status": self.status.value,
            "reason": self.reason,
            "rule": self.rule,
            "evidence": [e.to_json() for e in self.evidence],
            "rests_on": dict(self.rests_on()),
            "unsigned_only": self.unsigned_only,
            "waiver": self.waiver.to_json() if self.waiver else None,
            "waivers": [w.to_json() for w in self.waivers],
            "justification": self.justification,
            "action": self.action,
        }


@dataclass(frozen=True)
class PracticeResult:
    """Indicative maturity level of one practice, with the rule each level needs."""

    practice: str
    name: str
    maturity: int
    """0 (no evidence) to 4."""
    levels: tuple[str, ...]
    """For ML1..ML4, whether it is met and why, e.g. `ML2: no - SG-3 has no process document`."""
    counts: dict[str, int]
    """How many requirements of the practice have each status."""
    target: int | None = None
    """The project's target level for the practice, when its policy sets one."""
    per_requirement: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per requirement of the practice: what met or missed ML2 and ML3 for it."""

    def to_json(self) -> dict[str, JSON]:
        return {
            "practice": self.practice,
            "name": self.name,
            "maturity": self.maturity,
            "maturity_label": f"ML{self.maturity}" if self.maturity else "none",
            "levels": list(self.levels),
            "counts": dict(self.counts),
            "target": self.target,
            "per_requirement": {rid: list(why) for rid, why in self.per_requirement.items()},
        }


@dataclass(frozen=True)
class TailoringNote:
    """Tailoring in the project policy that these verdicts count but a release verdict would not
    (uncommitted, or not approved by a product-security-lead), or that the gate undid."""

    requirements: tuple[str, ...]
    """The requirements the tailoring changes from the shipped policy."""
    why: str
    """Why it does not count in the gate (uncommitted, no signed approval, ...)."""
    gate: str
    """What the gate does with those requirements."""
    action: str
    """What to do so that it counts."""

    def text(self) -> str:
        return (
            f"tailoring not counted by the gate: {self.why}; {self.gate}: "
            f"{', '.join(self.requirements)}"
        )

    def to_json(self) -> dict[str, JSON]:
        return {
            "requirements": list(self.requirements),
            "why": self.why,
            "gate": self.gate,
            "action": self.action,
        }


@dataclass(frozen=True)
class Conformance:
    """Every requirement's verdict for one commit at one moment, under one policy."""

    commit: str
    evaluated_at: datetime
    policy: str
    policy_digest: str
    requirements: tuple[RequirementResult, ...]
    practices: tuple[PracticeResult, ...]
    waivers: tuple[Waiver, ...] = ()
    release: str | None = None
    catalog: str = "iec62443-4-1:2018"
    """The catalogue the requirements come from (`--framework`)."""
    tailoring_note: TailoringNote | None = None
    """The project policy's tailoring that a release verdict does not count, when there is."""
    coverage: Coverage | None = None
    """Checkpoint coverage, when the roster names a ci key: uncovered tool evidence not counted."""

    @property
    def passed(self) -> bool:
        return all(r.status.passes for r in self.requirements)

    def rests_on(self, practice: str) -> tuple[int, int]:
        """(entries a tool made, entries a person stated) counted for a practice's verdicts."""
        classes: dict[int, Provenance] = {}
        for r in self.requirements:
            if r.practice == practice:
                classes.update({ref.seq: ref.provenance for ref in r.evidence if ref.counted})
        tools = sum(1 for c in classes.values() if c in (Provenance.VERIFIED, Provenance.INGESTED))
        return tools, len(classes) - tools

    def _rests_on_json(self, p: PracticeResult) -> dict[str, JSON]:
        tools, people = self.rests_on(p.practice)
        return {"rests_on": {"tools": tools, "people": people}}

    def result(self, requirement_id: str) -> RequirementResult:
        for r in self.requirements:
            if r.requirement_id == requirement_id:
                return r
        raise KeyError(requirement_id)

    def to_json(self) -> dict[str, JSON]:
        return {
            "commit": self.commit,
            "release": self.release,
            "evaluated_at": format_time(self.evaluated_at),
            "catalog": self.catalog,
            "policy": self.policy,
            "policy_digest": self.policy_digest,
            "passed": self.passed,
            "maturity_note": "indicative: the tool shows the evidence, the assessor decides",
            "practices": [
                {
                    **p.to_json(),
                    "rests_on": dict(zip(("tools", "people"), self.rests_on(p.practice))),
                }
                for p in self.practices
            ],
            "requirements": [r.to_json() for r in self.requirements],
            "waivers": [w.to_json() for w in self.waivers],
            **({"tailoring_note": self.tailoring_note.to_json()} if self.tailoring_note else {}),
            **({"coverage": self.coverage.to_json()} if self.coverage else {}),
        }
