"""Indicative maturity levels ML1–ML4 per practice, computed from the ledger's history (pure).

Indicative: the tool shows the evidence behind each level; the assessor decides. The rules
(docs/concepts/maturity.md, and `sdl-tracker explain`):
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sdl_tracker.conformance.model import PracticeResult, RequirementResult, Status
from sdl_tracker.conformance.verdicts import ReleaseVerdict
from sdl_tracker.policy.model import Policy

RULES = (
    "ML1: some evidence for the practice: at least one ledger entry with result pass or info "
    "of a kind the practice's rules use, or naming one of its requirements",
    "ML2: ML1, and a current process document (one of the requirement's `process` kinds) for "
    "every applicable requirement of the practice, plus current roles "
    "(document:roles_responsibilities) and training (training_record) attestations",
    "ML3: ML2, and execution records meeting the policy at each of the last N releases "
    "(default 3): every applicable requirement of the practice satisfied or not applicable in "
    "the gate verdict of each of those releases (waivers do not count)",
    "ML4: ML3, and improvement tracked: the requirements for improvement and periodic review "
    "(SM-13, DM-6) satisfied now, and improvement metrics (metrics_report naming a requirement "
    "of the practice) recorded in at least 2 of those N releases, so that a trend can be read",
)
NOTE = "indicative: the tool shows the evidence, the assessor decides"
_MET = (Status.SATISFIED, Status.NOT_APPLICABLE)


@dataclass(frozen=True)
class Inputs:
    """What the levels are computed from, gathered by `evaluate()`."""

    process: Mapping[str, tuple[bool, str]]
    """Per applicable requirement: is a process document current, and why (not)."""
    roles: tuple[bool, str]
    training: tuple[bool, str]
    touched: Mapping[str, int]
    """Per practice: entries (pass or info) relevant to it in the whole ledger."""
    releases: tuple[ReleaseVerdict, ...]
    """The most recent releases' verdicts, oldest first (this gate run's included)."""
    improvement: Mapping[str, int]
    """Per practice: how many of those releases have improvement metrics recorded."""


def assess(
    policy: Policy, results: Sequence[RequirementResult], inputs: Inputs
) -> tuple[PracticeResult, ...]:
    return tuple(
        _practice(policy, p.id, p.name, [r for r in results if r.practice == p.id], results, inputs)
        for p in policy.catalog.practices
    )


def _practice(
    policy: Policy,
    pid: str,
    name: str,
    own: list[RequirementResult],
    results: Sequence[RequirementResult],
    inputs: Inputs,
) -> PracticeResult:
    applicable = [r.requirement_id for r in own if r.status is not Status.NOT_APPLICABLE]
    checks = (
        _ml1(inputs.touched.get(pid, 0)),
        _ml2(applicable, inputs),
        _ml3(applicable, inputs.releases, policy.maturity.releases),
        _ml4(policy, pid, results, inputs),
    )
    level = 0
    for met, _ in checks:
        if not met:
            break
        level += 1
    levels = tuple(
        f"ML{n}: {'yes' if met else 'no'} - {why}" for n, (met, why) in enumerate(checks, 1)
    )
    counts = Counter(r.status.value for r in own)
    return PracticeResult(
        practice=pid,
        name=name,
        maturity=level,
        levels=levels,
        counts={s.value: counts.get(s.value, 0) for s in Status},
        target=policy.maturity.target(pid),
    )


def _ml1(touched: int) -> tuple[bool, str]:
    if touched:
        return True, f"{touched} ledger entries of evidence for the practice"
    return False, "no evidence recorded for any requirement of the practice"


def _ml2(applicable: list[str], inputs: Inputs) -> tuple[bool, str]:
    gaps = [f"{rid} ({inputs.process[rid][1]})" for rid in applicable if not inputs.process[rid][0]]
    problems = []
    if gaps:
        more = f"; and {len(gaps) - 3} more" if len(gaps) > 3 else ""
        problems.append(f"no current process document for {'; '.join(gaps[:3])}{more}")
    for label, (ok, why) in (("roles", inputs.roles), ("training", inputs.training)):
        if not ok:
            problems.append(f"{label} not attested ({why})")
    if problems:
        return False, "; ".join(problems)
    return True, (
        f"process documents for all {len(applicable)} applicable requirements; "
        "roles and training attested"
    )


def _ml3(
    applicable: list[str], releases: tuple[ReleaseVerdict, ...], wanted: int
) -> tuple[bool, str]:
    if len(releases) < wanted:
        return False, f"only {len(releases)} of the last {wanted} releases have a gate verdict"
    recent = releases[-wanted:]
    for v in recent:
        for rid in applicable:
            status = v.statuses.get(rid)
            if status not in _MET:
                found = status.value if status else "not evaluated"
                return False, f"{rid} was {found} at release {v.release}"
    names = ", ".join(str(v.release) for v in recent)
    return True, f"every applicable requirement met at releases {names}"


def _ml4(
    policy: Policy, pid: str, results: Sequence[RequirementResult], inputs: Inputs
) -> tuple[bool, str]:
    by_id = {r.requirement_id: r for r in results}
    for rid in policy.maturity.reviews:
        result = by_id.get(rid)
        if result is None or result.status not in _MET:
            found = result.status.value if result else "not evaluated"
            return False, f"{rid} is {found}"
    windows = inputs.improvement.get(pid, 0)
    if windows < 2:
        kinds = ", ".join(policy.maturity.improvement)
        return False, (
            f"improvement metrics ({kinds}) recorded in {windows} of the last "
            f"{len(inputs.releases)} releases (need 2)"
        )
    reviews = ", ".join(policy.maturity.reviews)
    return True, f"{reviews} met; improvement metrics recorded in {windows} releases"
