"""The validated policy: which evidence satisfies each requirement (frozen records, no I/O).

Built by `sdl_tracker.policy.load()`; read by `evaluate()`, `maturity`, `explain`.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Union

from sdl_tracker.errors import PolicyError
from sdl_tracker.models import JSON, Provenance
from sdl_tracker.policy.catalog import Catalog


class Expect(str, enum.Enum):
    """What an assessor expects for a requirement."""

    PROCESS = "process"
    """A process document (how the activity is done)."""
    EXECUTION = "execution"
    """Execution records (the activity was done, per release or per change)."""
    ATTESTATION = "attestation"
    """A manual attestation by a person (`sdl-tracker record`): a file, a signer, a date."""


@dataclass(frozen=True)
class Bound:
    """A threshold on one metric (`high`) or a ratio of two (`independently_reviewed/commits`)."""

    metric: str
    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{self.metric} ≥ {_num(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"{self.metric} ≤ {_num(self.maximum)}")
        return " and ".join(parts)

    def to_json(self) -> dict[str, JSON]:
        return {"metric": self.metric, "min": self.minimum, "max": self.maximum}


@dataclass(frozen=True)
class Leaf:
    """One evidence kind the rule needs, with its conditions."""

    kind: str
    thresholds: tuple[Bound, ...] = ()
    max_age_days: int | None = None
    """Overrides the requirement's maximum age for this kind."""
    named: bool = False
    """Only entries that list the requirement in `predicate.requirements` count."""
    cover_critical: bool = False
    """The evidence must cover every security-critical path of the project."""
    population: str | None = None
    """The metric counting what the evidence is about (`issues`): 0 means not demonstrated."""
    none_listed: str | None = None
    """A list in the entry's details (`without_level`) that must be empty: otherwise partial,
    naming what it lists."""
    tracks_findings: bool = False
    """Every unmet requirement and open finding of the evaluation must have an assessed issue
    record in this evidence, or a waiver (`conformance.tracking`)."""

    def describe(self) -> str:
        notes = [b.describe() for b in self.thresholds]
        if self.max_age_days is not None:
            notes.append(f"≤ {self.max_age_days} days old")
        if self.named:
            notes.append("naming the requirement")
        if self.cover_critical:
            notes.append("covering the security-critical paths")
        if self.population:
            notes.append(f"{self.population} > 0")
        if self.none_listed:
            notes.append(f"nothing {self.none_listed.replace('_', ' ')}")
        if self.tracks_findings:
            notes.append("an assessed issue record or waiver per unmet requirement and finding")
        return f"{self.kind} ({', '.join(notes)})" if notes else self.kind

    def to_json(self) -> dict[str, JSON]:
        return {
            "kind": self.kind,
            "thresholds": [b.to_json() for b in self.thresholds],
            "max_age_days": self.max_age_days,
            "named": self.named,
            "cover_critical": self.cover_critical,
            **({"population": self.population} if self.population else {}),
            **({"tracks_findings": True} if self.tracks_findings else {}),
            **({"none_listed": self.none_listed} if self.none_listed else {}),
        }


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]


Rule = Union[Leaf, AllOf, AnyOf]


def describe(rule: Rule) -> str:
    """The rule in words, e.g. `all of: sast (high ≤ 0), document:coding_standard`."""
    if isinstance(rule, Leaf):
        return rule.describe()
    word = "all of" if isinstance(rule, AllOf) else "any of"
    inner = ", ".join(
        describe(r) if isinstance(r, Leaf) else f"[{describe(r)}]" for r in rule.rules
    )
    return f"{word}: {inner}"


def part_of(rule: Rule, kind: str) -> int | None:
    """The index of the `all_of` part that names `kind`, or None."""
    if not isinstance(rule, AllOf):
        return None
    return next((i for i, r in enumerate(rule.rules) if kind in {x.kind for x in leaves(r)}), None)


def leaves(rule: Rule) -> tuple[Leaf, ...]:
    if isinstance(rule, Leaf):
        return (rule,)
    return tuple(leaf for r in rule.rules for leaf in leaves(r))


def rule_json(rule: Rule) -> JSON:
    if isinstance(rule, Leaf):
        return rule.to_json()
    key = "all_of" if isinstance(rule, AllOf) else "any_of"
    return {key: [rule_json(r) for r in rule.rules]}


@dataclass(frozen=True)
class RequirementPolicy:
    """The policy for one requirement."""

    id: str
    title: str
    practice: str
    rule: Rule
    expects: tuple[Expect, ...]
    process: tuple[str, ...]
    """Evidence kinds that document the process for it (maturity level 2)."""
    max_age_days: int
    not_applicable: str | None = None
    """The justification, when the project declared the requirement not applicable."""
    not_applicable_parts: tuple[tuple[str, str], ...] = ()
    """(evidence kind, justification): parts of the `all_of` rule declared not applicable, each
    the part that names the kind."""

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "expects": [e.value for e in self.expects],
            "process": list(self.process),
            "max_age_days": self.max_age_days,
            "requires": rule_json(self.rule),
            "not_applicable": self.not_applicable,
            **(
                {"not_applicable_parts": dict(self.not_applicable_parts)}
                if self.not_applicable_parts
                else {}
            ),
        }


@dataclass(frozen=True)
class Maturity:
    """Inputs of the indicative maturity levels (see `sdl_tracker.maturity`)."""

    releases: int = 3
    """ML3 looks at this many of the most recent releases."""
    release_spacing_days: int = 30
    """ML3 counts releases at least this many days apart (commit dates)."""
    roles: tuple[str, ...] = ("document:roles_responsibilities",)
    training: tuple[str, ...] = ("training_record",)
    improvement: tuple[str, ...] = ("retrospective_record", "root_cause_analysis")
    """Kinds of improvement actions (ML4: one must name a metric the tool derives)."""
    reviews: tuple[str, ...] = ("SM-13", "DM-6")
    """Requirements that must be satisfied for ML4 (improvement and periodic review)."""
    max_age_days: int = 365
    """How old the roles and training attestations may be."""
    targets: tuple[tuple[str, int], ...] = ()
    """Target level per practice, e.g. `(("SM", 2), ("SVV", 3))`."""

    def target(self, practice: str) -> int | None:
        return dict(self.targets).get(practice)

    def to_json(self) -> dict[str, JSON]:
        return {
            "releases": self.releases,
            "release_spacing_days": self.release_spacing_days,
            "roles": list(self.roles),
            "training": list(self.training),
            "improvement": list(self.improvement),
            "reviews": list(self.reviews),
            "max_age_days": self.max_age_days,
            "targets": dict(self.targets),
        }


ANY_PROVENANCE = frozenset(Provenance)
TOOL_PROVENANCE = frozenset({Provenance.VERIFIED, Provenance.INGESTED})


@dataclass(frozen=True)
class SignerRule:
    """Who must have signed an attestation for it to count as signed for a requirement."""

    roles: tuple[str, ...]
    """The signer holds one of these roster roles."""
    not_author: bool = False
    """The signer authored no commit of the release range (the tested code)."""

    def describe(self) -> str:
        who = " or ".join(self.roles)
        return f"{who} who authored no commit of the release" if self.not_author else who

    def to_json(self) -> dict[str, JSON]:
        return {"roles": list(self.roles), "not_author": self.not_author}


@dataclass(frozen=True)
class ProvenancePolicy:
    """Which provenance classes count, per requirement and per evidence kind.

    A kind the catalogue does not mark attestable counts only from a tool (`tool_kinds`, unless
    `kinds` names it); an attestable kind counts with the classes its requirement lists, else
    those its kind lists, else any class.
    """

    tool_kinds: frozenset[Provenance] = TOOL_PROVENANCE
    requirements: tuple[tuple[str, frozenset[Provenance]], ...] = ()
    kinds: tuple[tuple[str, frozenset[Provenance]], ...] = ()
    signers: tuple[tuple[str, SignerRule], ...] = ()
    """Per requirement: who must have signed its attestations."""

    def signer(self, rid: str) -> SignerRule | None:
        return dict(self.signers).get(rid)

    def accepts(self, rid: str, kind: str, attestable: bool) -> frozenset[Provenance]:
        by_kind = dict(self.kinds)
        if not attestable:
            return by_kind.get(kind, self.tool_kinds)
        return dict(self.requirements).get(rid) or by_kind.get(kind) or ANY_PROVENANCE

    def to_json(self) -> dict[str, JSON]:
        def names(classes: frozenset[Provenance]) -> JSON:
            return [c.value for c in sorted(classes)]

        return {
            "tool_kinds": names(self.tool_kinds),
            "requirements": {rid: names(c) for rid, c in self.requirements},
            "kinds": {kind: names(c) for kind, c in self.kinds},
            "signers": {rid: rule.to_json() for rid, rule in self.signers},
        }


@dataclass(frozen=True)
class Approvals:
    """How exceptions must be approved."""

    waiver_max_days: int = 90
    """The longest a waiver may last, from the day it is requested."""

    def to_json(self) -> dict[str, JSON]:
        return {"waiver_max_days": self.waiver_max_days}


@dataclass(frozen=True)
class Policy:
    """A resolved, validated policy covering every requirement of its catalogue."""

    name: str
    sources: tuple[str, ...]
    """The files it was built from, base first."""
    catalog: Catalog
    requirements: tuple[RequirementPolicy, ...]
    critical_paths: tuple[str, ...] = ()
    maturity: Maturity = Maturity()
    provenance: ProvenancePolicy = ProvenancePolicy()
    approvals: Approvals = Approvals()

    def accepts(self, rid: str, kind: str) -> frozenset[Provenance]:
        """The provenance classes an entry of `kind` needs to count for requirement `rid`."""
        return self.provenance.accepts(rid, kind, kind in self.catalog.attestable)

    def requirement(self, rid: str) -> RequirementPolicy:
        for r in self.requirements:
            if r.id == rid:
                return r
        raise PolicyError(
            f"policy {self.name}: unknown requirement {rid!r} "
            "(run `sdl-tracker catalog` for the list)"
        )

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "catalog": self.catalog.id,
            "critical_paths": list(self.critical_paths),
            "maturity": self.maturity.to_json(),
            "provenance": self.provenance.to_json(),
            "approvals": self.approvals.to_json(),
            "requirements": [r.to_json() for r in self.requirements],
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the resolved policy's canonical JSON: what a verdict was judged by."""
        data = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode()).hexdigest()


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"
