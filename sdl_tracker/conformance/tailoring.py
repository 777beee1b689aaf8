"""Tailoring counts for the gate only when a product-security-lead approved it (pure).

Tailoring is what a project policy changes from the shipped one: a requirement declared not
applicable, a rule, threshold or evidence age changed, which provenance counts, who must sign,
how long a waiver may last. The gate reads the project policy as committed at the evaluated
commit (the edge, `assessment`), and counts its tailoring only when a signed `policy_approval`
entry names the blob of every project policy file and its signer holds the
product-security-lead role in the roster of that commit (`sdl-tracker approve --policy`).
Otherwise the requirements it tailors are evaluated by the shipped policy, and their reason says
so and what to do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import Conformance, TailoringNote
from sdl_tracker.conformance.signatures import Signer
from sdl_tracker.models import JSON
from sdl_tracker.policy.model import Policy, RequirementPolicy

KIND = "policy_approval"
ROLE = "product-security-lead"
ACTION = "a product-security-lead approves the committed policy: `sdl-tracker approve --policy`"
#: What the gate does with the requirements whose tailoring does not count.
SHIPPED = "the gate judges these requirements by the shipped policy instead"


@dataclass(frozen=True)
class PolicyFile:
    """One project policy file as committed: its path in the repository and its blob id."""

    path: str
    blob: str

    def to_json(self) -> dict[str, JSON]:
        return {"path": self.path, "blob": self.blob}

    @classmethod
    def from_json(cls, data: object) -> PolicyFile | None:
        if not isinstance(data, dict):
            return None
        path, blob = data.get("path"), data.get("blob")
        if not isinstance(path, str) or not isinstance(blob, str):
            return None
        return cls(path, blob)


@dataclass(frozen=True)
class Tailoring:
    """The project policy files behind an evaluation and whether their tailoring counts."""

    files: tuple[PolicyFile, ...]
    approved_by: str | None = None
    """The product-security-lead whose signed approval names every file's blob."""
    entry: int | None = None
    """The approval's ledger entry."""
    why: str = ""
    """Why the tailoring does not count (empty when it does)."""
    reverted: tuple[str, ...] = ()
    """Requirements evaluated by the shipped policy because their tailoring does not count."""

    @property
    def counts(self) -> bool:
        return self.approved_by is not None

    def describe(self) -> str:
        names = ", ".join(f"{f.path} (blob {f.blob[:10]})" for f in self.files)
        if self.counts:
            return f"{names}: tailoring approved by {self.approved_by} (entry {self.entry})"
        return f"{names}: tailoring does not count ({self.why})"


def approval(
    files: tuple[PolicyFile, ...],
    recs: Iterable[Record],
    signers: Mapping[int, tuple[Signer, ...]],
) -> Tailoring:
    """Whether a product-security-lead's signed approval names the blob of every file."""
    needed = {f.blob for f in files}
    whys: list[str] = []
    for r in reversed(tuple(recs)):
        p = r.statement.predicate
        if p.kind != KIND:
            continue
        named = _files(p.details.get("policy"))
        if not needed <= {f.blob for f in named}:
            continue
        good = signers.get(r.seq, ())
        lead = next((s for s in good if ROLE in s.roles), None)
        if lead is not None:
            return Tailoring(files, approved_by=lead.identity, entry=r.seq)
        if good:
            who = ", ".join(s.identity for s in good)
            whys.append(f"entry {r.seq} is signed by {who}, not by a {ROLE}")
        else:
            whys.append(f"entry {r.seq} approves it but carries no signature that verifies")
    blobs = ", ".join(f"{f.path} blob {f.blob[:10]}" for f in files)
    why = "; ".join(whys) or f"no signed approval in the ledger names {blobs}"
    return Tailoring(files, why=why)


def note(tailoring: Tailoring) -> TailoringNote | None:
    """The note a report carries when the gate undid the tailoring of some requirements."""
    if not tailoring.reverted:
        return None
    return TailoringNote(tailoring.reverted, why=tailoring.why, gate=SHIPPED, action=ACTION)


def untailored(policy: Policy, shipped: Policy) -> tuple[Policy, tuple[str, ...]]:
    """`policy` with its tailoring undone: each requirement it changes from `shipped` takes the
    shipped entry back, and so do provenance and approval settings; with the ids reverted."""
    base = {rp.id: rp for rp in shipped.requirements}
    kinds_changed = (
        policy.provenance.kinds != shipped.provenance.kinds
        or policy.provenance.tool_kinds != shipped.provenance.tool_kinds
        or policy.approvals != shipped.approvals
    )
    reverted = tuple(
        rp.id
        for rp in policy.requirements
        if kinds_changed or _changed(rp, base[rp.id], policy, shipped)
    )
    requirements = tuple(base[rp.id] if rp.id in reverted else rp for rp in policy.requirements)
    effective = dataclasses.replace(
        policy,
        requirements=requirements,
        provenance=shipped.provenance,
        approvals=shipped.approvals,
    )
    return effective, reverted


def annotate(conf: Conformance, tailoring: Tailoring, policy: Policy) -> Conformance:
    """Each reverted requirement's reason says its tailoring did not count, and what to do."""
    tailored = {rp.id: rp for rp in policy.requirements}
    results = []
    for r in conf.requirements:
        if r.requirement_id not in tailoring.reverted:
            results.append(r)
            continue
        rp = tailored[r.requirement_id]
        parts = ", ".join(f"{kind} ({why})" for kind, why in rp.not_applicable_parts)
        what = (
            f"not applicable ({rp.not_applicable})"
            if rp.not_applicable
            else f"partly not applicable: {parts}"
            if parts
            else "tailored"
        )
        said = (
            f"the project policy declares {r.requirement_id} {what}, which does not count: "
            f"{tailoring.why}; evaluated by the shipped policy"
        )
        action = f"{r.action}; {ACTION}" if r.action else ACTION
        results.append(dataclasses.replace(r, reason=f"{r.reason}; {said}", action=action))
    return dataclasses.replace(conf, requirements=tuple(results), tailoring_note=note(tailoring))


def _changed(
    rp: RequirementPolicy, base: RequirementPolicy, policy: Policy, shipped: Policy
) -> bool:
    if rp != base:
        return True
    p, s = policy.provenance, shipped.provenance
    return dict(p.requirements).get(rp.id) != dict(s.requirements).get(rp.id) or p.signer(
        rp.id
    ) != s.signer(rp.id)


def _files(data: object) -> tuple[PolicyFile, ...]:
    if not isinstance(data, list):
        return ()
    found = (PolicyFile.from_json(d) for d in data)
    return tuple(f for f in found if f is not None)
