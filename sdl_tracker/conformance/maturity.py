"""Indicative maturity levels ML1–ML4 per practice, computed from the ledger's history (pure).

Indicative: the tool shows the evidence behind each level; the assessor decides. The rules
(docs/concepts/maturity.md, and `sdl-tracker explain`):
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sdl_tracker.conformance import metrics
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import PracticeResult, RequirementResult, Status
from sdl_tracker.conformance.verdicts import ReleaseVerdict
from sdl_tracker.policy.model import Policy

RULES = (
    "ML1: some evidence for the practice: at least one ledger entry with result pass or info "
    "of a kind the practice's rules use, or naming one of its requirements",
    "ML2: ML1, and a procedure for every applicable requirement of the practice: a section of a "
    "current, reviewed process document (one of the requirement's `process` kinds, read by the "
    "documents collector) whose heading names the requirement id; roles assigned "
    "(document:roles_responsibilities); and training current for every role holder of the "
    "roster (sdl-roster.yaml) when there is one, else a training_record attestation",
    "ML3: ML2, and the practice performed at each of the last N distinct releases (default 3): "
    "distinct commits (a second tag on a commit is no new release), each with a gate verdict "
    "that passed for the practice (its recorded per-practice result; the other practices may "
    "have failed) and in which every applicable requirement of the practice was satisfied or "
    "not applicable (waivers do not count), their commits dated at least "
    "`release_spacing_days` (default 30) apart; a release whose gate failed for the practice, "
    "whose verdict records no per-practice result (an older version's), or whose commit is "
    "dated after its gate ran, ends the count",
    "ML4: ML3, and improvement managed by measurement: the requirements for improvement and "
    "periodic review (SM-13, DM-6) satisfied now; metrics the tool derives from the ledger at "
    "each of those N releases (findings, review_ratio, median_days_to_triage, "
    "median_days_to_fix: one of them at every release, so that a trend can be read; gate "
    "results are shown beside them); and an improvement action (a retrospective_record or "
    "root_cause_analysis recorded since the oldest of those releases) naming one of those "
    "metrics in its summary or note. A metrics_report file never counts",
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
    """Every release's newest verdict, oldest first (this gate run's included)."""
    actions: tuple[tuple[int, str], ...] = ()
    """Improvement actions (`maturity.improvement` kinds): (entry seq, its summary and note)."""
    records: tuple[Record, ...] = ()
    """The ledger, for the metrics derived per release."""
    release_dates: Mapping[str, datetime] = field(default_factory=dict)
    """Committer date of each release commit this repository has."""


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
        _ml3(
            pid, applicable, inputs, policy.maturity.releases, policy.maturity.release_spacing_days
        ),
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
        per_requirement=_per_requirement(policy, pid, own, inputs),
    )


def _per_requirement(
    policy: Policy, pid: str, own: list[RequirementResult], inputs: Inputs
) -> dict[str, tuple[str, ...]]:
    """For each requirement: its procedure (ML2) and its status at the counted releases (ML3)."""
    m = policy.maturity
    counted = distinct_releases(
        inputs.releases, inputs.release_dates, m.releases, m.release_spacing_days, pid
    )
    found: dict[str, tuple[str, ...]] = {}
    for r in own:
        rid = r.requirement_id
        if r.status is Status.NOT_APPLICABLE:
            found[rid] = ("not applicable: needs no procedure and no releases",)
            continue
        met, why = inputs.process.get(rid, (False, "not evaluated"))
        ml2 = f"ML2 procedure: {'yes' if met else 'no'} - {why}"
        if isinstance(counted, str):
            ml3 = f"ML3 releases: no - {counted}"
        elif not counted:
            ml3 = "ML3 releases: none counted yet"
        else:
            at = [
                f"{v.release} {(v.statuses.get(rid) or Status.MISSING).value}"
                for v in reversed(counted)
            ]
            ok = all(v.statuses.get(rid) in _MET for v in counted) and len(counted) >= m.releases
            ml3 = (
                f"ML3 releases: {'yes' if ok else 'no'} - {', '.join(at)} "
                f"({len(counted)} of {m.releases} counted)"
            )
        found[rid] = (ml2, ml3)
    return found


def _ml1(touched: int) -> tuple[bool, str]:
    if touched:
        return True, f"{touched} ledger entries of evidence for the practice"
    return False, "no evidence recorded for any requirement of the practice"


def _ml2(applicable: list[str], inputs: Inputs) -> tuple[bool, str]:
    gaps = [f"{rid} ({inputs.process[rid][1]})" for rid in applicable if not inputs.process[rid][0]]
    problems = []
    if gaps:
        more = f"; and {len(gaps) - 3} more" if len(gaps) > 3 else ""
        problems.append(f"no procedure for {'; '.join(gaps[:3])}{more}")
    for label, (ok, why) in (("roles", inputs.roles), ("training", inputs.training)):
        if not ok:
            problems.append(f"{label} not current ({why})")
    if problems:
        return False, "; ".join(problems)
    return True, (
        f"procedures for all {len(applicable)} applicable requirements; roles assigned "
        f"({inputs.roles[1]}); training current ({inputs.training[1]})"
    )


def _ml3(
    pid: str, applicable: list[str], inputs: Inputs, wanted: int, spacing: int
) -> tuple[bool, str]:
    counted = distinct_releases(inputs.releases, inputs.release_dates, wanted, spacing, pid)
    if isinstance(counted, str):
        return False, counted
    for v in counted:
        for rid in applicable:
            status = v.statuses.get(rid)
            if status not in _MET:
                found = status.value if status else "not evaluated"
                return False, f"{rid} was {found} at release {v.release}"
    if len(counted) < wanted:
        return False, (
            f"{len(counted)} distinct releases at least {spacing} days apart whose gate passed "
            f"for {pid} (need {wanted})"
        )
    names = ", ".join(str(v.release) for v in reversed(counted))
    return True, (
        f"every applicable requirement met at releases {names} (distinct commits, gates "
        f"passed for {pid}, at least {spacing} days apart)"
    )


def distinct_releases(
    history: Sequence[ReleaseVerdict],
    dates: Mapping[str, datetime],
    wanted: int,
    spacing: int,
    practice: str,
) -> list[ReleaseVerdict] | str:
    """The newest `wanted` releases that count for ML3 of `practice`, newest first, or why the
    count ends.

    Newest first: a verdict on a commit already counted is skipped (a second tag is no new
    release), as is one dated less than `spacing` days before the last counted release (a
    hotfix); a gate that failed for the practice (whatever the other practices did), a verdict
    without per-practice results (recorded by an older version: it cannot show the practice
    passed), an unknown commit or a commit dated after its gate ran ends it.
    """
    counted: list[ReleaseVerdict] = []
    seen: set[str] = set()
    for v in reversed(history):
        if len(counted) == wanted:
            break
        if v.commit is None or v.commit in seen:
            continue
        seen.add(v.commit)
        when = dates.get(v.commit)
        if v.practices is None:
            return (
                f"release {v.release}: its gate verdict (entry {v.seq}) records no per-practice "
                "result (made by an older version), so neither it nor any earlier release is "
                "counted; releases gated from now on count"
            )
        outcome = v.practices.get(practice)
        if outcome is None:
            return (
                f"release {v.release}: its gate verdict (entry {v.seq}) has no result for "
                f"{practice}"
            )
        if not outcome:
            return f"the gate failed for {practice} at release {v.release}"
        if when is None:
            return f"release {v.release}: its commit {v.commit[:10]} is not in this repository"
        if v.at is not None and when > v.at + timedelta(minutes=5):
            return (
                f"release {v.release}: its commit is dated {when:%Y-%m-%d %H:%M}, after its gate "
                f"ran ({v.at:%Y-%m-%d %H:%M})"
            )
        if counted:
            last = dates[str(counted[-1].commit)]
            if last - when < timedelta(days=spacing):
                continue
        counted.append(v)
    return counted


def _ml4(
    policy: Policy, pid: str, results: Sequence[RequirementResult], inputs: Inputs
) -> tuple[bool, str]:
    by_id = {r.requirement_id: r for r in results}
    for rid in policy.maturity.reviews:
        result = by_id.get(rid)
        if result is None or result.status not in _MET:
            found = result.status.value if result else "not evaluated"
            return False, f"{rid} is {found}"
    wanted = policy.maturity.releases
    counted = distinct_releases(
        inputs.releases, inputs.release_dates, wanted, policy.maturity.release_spacing_days, pid
    )
    if isinstance(counted, str) or len(counted) < wanted:
        return False, "no trend without the releases of ML3"
    derived = metrics.derive(reversed(counted), inputs.records)
    own = [r.requirement_id for r in results if r.practice == pid]
    gates = ", ".join(
        f"{v.release}: {sum(v.statuses.get(rid) in _MET for rid in own)}/{len(own)} met"
        for v in reversed(counted)
    )
    table = "; ".join(
        f"{m.release}: " + (", ".join(f"{k} {_num(x)}" for k, x in m.values.items()) or "none")
        for m in derived
    )
    trend = [n for n in metrics.NAMES if all(n in m.values for m in derived)]
    if not trend:
        return False, (
            f"no metric derived at all {wanted} releases ({table}); collect sast, deps, review "
            f"and issues on each release commit before its gate (gate results: {gates})"
        )
    oldest = counted[-1].seq
    acting = [
        (seq, mentioned)
        for seq, text in inputs.actions
        if seq > oldest and (mentioned := metrics.named(text))
    ]
    if not acting:
        kinds = ", ".join(policy.maturity.improvement)
        return False, (
            f"trend of {', '.join(trend)} over {wanted} releases ({table}), but no improvement "
            f"action ({kinds} recorded since release {counted[-1].release}) names one of "
            f"{', '.join(metrics.NAMES)}"
        )
    seq, names = acting[-1]
    return True, (
        f"trend of {', '.join(trend)} over {wanted} releases ({table}; gate results: {gates}); "
        f"improvement action entry {seq} names {', '.join(names)}"
    )


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.3g}"
