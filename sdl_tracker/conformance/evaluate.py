"""`evaluate()`: policy × ledger entries × commit facts × now → a verdict per requirement (pure).

No I/O of any kind: git facts come in a `CommitFacts` gathered beforehand (`facts.gather`), the
time comes in as `now`. Statuses and how they combine are documented in
docs/concepts/statuses.md and docs/concepts/when-evidence-counts.md.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime

from sdl_tracker.conformance import maturity, verdicts
from sdl_tracker.conformance import waivers as waivers_mod
from sdl_tracker.conformance.evidence import Record, records
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.judge import Judge, Outcome
from sdl_tracker.conformance.model import Conformance, EvidenceRef, RequirementResult, Status
from sdl_tracker.conformance.selection import Index
from sdl_tracker.conformance.signatures import Signer
from sdl_tracker.formats.roster import Roster
from sdl_tracker.ledger.chain import Entry
from sdl_tracker.models import ResultStatus, Statement
from sdl_tracker.policy.model import (
    AllOf,
    AnyOf,
    Leaf,
    Policy,
    RequirementPolicy,
    Rule,
    leaves,
    part_of,
)
from sdl_tracker.policy.model import describe as describe_rule

#: all_of: the first status found among the parts decides (after "all satisfied").
_ALL_OF = (Status.FAILING, Status.INCOMPLETE, Status.STALE)
#: any_of without a satisfied part: the part closest to satisfied decides.
_ANY_OF = (
    Status.SATISFIED,
    Status.WAIVED,
    Status.PARTIAL,
    Status.NOT_DEMONSTRATED,
    Status.STALE,
    Status.INCOMPLETE,
    Status.FAILING,
    Status.MISSING,
)
_USEFUL = (ResultStatus.PASS, ResultStatus.INFO)


def evaluate(
    policy: Policy,
    items: Iterable[Entry | Record | Statement],
    facts: CommitFacts,
    now: datetime,
    release: str | None = None,
    *,
    gating: bool = False,
    signed: frozenset[int] = frozenset(),
    approvals: Mapping[int, waivers_mod.Approval] | None = None,
    signers: Mapping[int, tuple[Signer, ...]] | None = None,
    roster: Roster | None = None,
) -> Conformance:
    """Every requirement's status for `facts.commit` at `now`, and each practice's maturity.

    `gating` is set by the gate: the verdict it appends after this evaluation joins the release
    history that maturity reads (it is never evidence for a requirement: the judge ignores this
    release's own verdicts either way). `signed` holds the seqs of attestations whose
    signatures verified against the roster, `approvals` the verdict on each waiver's
    approval signature (both checked at the edge, `conformance.trust`).
    """
    # Another framework's gate verdicts are neither evidence nor release history here.
    recs = tuple(r for r in records(items) if not verdicts.foreign(r, policy.catalog.id))
    found_waivers = waivers_mod.collect(recs, now, approvals, policy.approvals.waiver_max_days)
    judge = Judge(
        index=Index(recs, facts),
        facts=facts,
        now=now,
        waivers=found_waivers,
        critical_paths=policy.critical_paths,
        release=release,
        accepts=policy.accepts,
        signed=signed | frozenset(signers or {}),
        signers=signers or {},
        signer_rule=policy.provenance.signer,
        documents=policy.catalog.documents,
    )
    results = _judge_all(judge, policy)
    inputs = _maturity_inputs(policy, judge, results, release, gating, roster)
    return Conformance(
        commit=facts.commit,
        evaluated_at=now,
        policy=policy.name,
        policy_digest=policy.digest,
        requirements=results,
        practices=maturity.assess(policy, results, inputs),
        waivers=found_waivers,
        release=release,
        catalog=policy.catalog.id,
    )


def combine(judge: Judge, rule: Rule, rid: str, max_age_days: int) -> Outcome:
    """The outcome of a rule: leaves judged, then all_of / any_of combined."""
    if isinstance(rule, Leaf):
        return judge.leaf(rule, rid, max_age_days)
    parts = [combine(judge, r, rid, max_age_days) for r in rule.rules]
    refs = tuple(ref for p in parts for ref in p.refs)
    waived = tuple(w for p in parts for w in p.waivers)
    if isinstance(rule, AnyOf):
        best = min(parts, key=lambda p: _ANY_OF.index(p.status))
        if best.status is Status.SATISFIED:
            return Outcome(best.status, best.reason, "", refs, best.waivers)
        reason = "one of [" + " | ".join(p.reason for p in parts) + "]"
        return Outcome(best.status, reason, best.action, refs, waived)
    statuses = {p.status for p in parts}
    if statuses <= {Status.SATISFIED}:
        return Outcome(Status.SATISFIED, "; ".join(p.reason for p in parts), "", refs)
    status = next((s for s in _ALL_OF if s in statuses), None)
    if status is None:
        if statuses <= {Status.SATISFIED, Status.WAIVED, Status.NOT_DEMONSTRATED}:
            status = (
                Status.NOT_DEMONSTRATED if Status.NOT_DEMONSTRATED in statuses else Status.WAIVED
            )
        elif statuses & {Status.SATISFIED, Status.WAIVED, Status.PARTIAL}:
            status = Status.PARTIAL
        else:
            status = Status.MISSING
    unmet = [p for p in parts if p.status is not Status.SATISFIED]
    met = [p.reason for p in parts if p.status is Status.SATISFIED]
    reason = "; ".join(p.reason for p in unmet) + (f" (met: {'; '.join(met)})" if met else "")
    actions = list(dict.fromkeys(p.action for p in unmet if p.action))
    return Outcome(status, reason, "; ".join(actions), refs, waived)


def _judge_all(judge: Judge, policy: Policy) -> tuple[RequirementResult, ...]:
    """Every requirement; those judged on gate verdicts last, knowing the others' verdicts."""
    selfish = {rp.id for rp in policy.requirements if _on_verdicts(rp) or _tracks(rp)}
    found = {rp.id: _requirement(judge, rp) for rp in policy.requirements if rp.id not in selfish}
    unmet = tuple(rid for rid, r in found.items() if not r.status.passes)
    knowing = dataclasses.replace(
        judge, unmet={rid: r.status for rid, r in found.items() if not r.status.passes}
    )
    for rp in policy.requirements:
        if rp.id in selfish:
            found[rp.id] = _requirement(knowing, rp, unmet)
    return tuple(found[rp.id] for rp in policy.requirements)


def _on_verdicts(rp: RequirementPolicy) -> bool:
    return any(leaf.kind == verdicts.KIND for leaf in leaves(rp.rule))


def _tracks(rp: RequirementPolicy) -> bool:
    return any(leaf.tracks_findings for leaf in leaves(rp.rule))


def _not_itself(out: Outcome, unmet: tuple[str, ...]) -> Outcome:
    """A requirement judged on gate verdicts is not met while this verdict fails: the verdict
    being made is never evidence for itself."""
    if not unmet or out.status is not Status.SATISFIED:
        return out
    more = f" and {len(unmet) - 8} more" if len(unmet) > 8 else ""
    return Outcome(
        Status.FAILING,
        f"this evaluation fails: {len(unmet)} other requirement(s) not met and not waived "
        f"({', '.join(unmet[:8])}{more}) (met: {out.reason})",
        "meet, tailor or waive the requirements named (each with an assessed issue record "
        "or a waiver); this one follows",
        out.refs,
        out.waivers,
    )


def _requirement(
    judge: Judge, rp: RequirementPolicy, unmet: tuple[str, ...] = ()
) -> RequirementResult:
    base = RequirementResult(
        requirement_id=rp.id,
        title=rp.title,
        practice=rp.practice,
        status=Status.NOT_APPLICABLE,
        reason=f"not applicable: {rp.not_applicable}",
        rule=_rule_words(rp),
        justification=rp.not_applicable,
    )
    if rp.not_applicable is not None:
        return base
    out = _applicable(judge, rp)
    if _on_verdicts(rp):
        out = _not_itself(out, unmet)
    status, reason, action = out.status, out.reason, out.action
    waiver = out.waivers[0] if out.waivers else None
    if not status.passes:
        active = waivers_mod.active(judge.waivers, rp.id)
        old = waivers_mod.expired(judge.waivers, rp.id)
        waiting = waivers_mod.pending(judge.waivers, rp.id)
        if active is None and waiting is not None:
            reason = f"{reason}; the waiver (entry {waiting.seq}) does not count: {waiting.pending}"
            waiver = waiting
        elif active is not None:
            reason = (
                f"waived until {active.expires:%Y-%m-%d} by {active.approved_by} (entry "
                f"{active.seq}): {active.reason}. Without the waiver: {status.value}: {reason}"
            )
            status, waiver = Status.WAIVED, active
            action = f"before {active.expires:%Y-%m-%d}: {action}" if action else ""
        elif old is not None:
            reason = f"{reason}; the waiver (entry {old.seq}) expired on {old.expires:%Y-%m-%d}"
            waiver = old
    shown = {w.seq: w for w in (*out.waivers, *([waiver] if waiver else []))}
    return RequirementResult(
        requirement_id=rp.id,
        title=rp.title,
        practice=rp.practice,
        status=status,
        reason=reason,
        rule=base.rule,
        evidence=_merge_refs(out.refs),
        waiver=waiver,
        waivers=tuple(shown.values()),
        action=action,
    )


def _applicable(judge: Judge, rp: RequirementPolicy) -> Outcome:
    """The rule without the parts the project declared not applicable, whose justifications
    the reason names (part by part)."""
    if not rp.not_applicable_parts or not isinstance(rp.rule, AllOf):
        return combine(judge, rp.rule, rp.id, rp.max_age_days)
    dropped = {part_of(rp.rule, kind): (kind, why) for kind, why in rp.not_applicable_parts}
    kept = tuple(r for i, r in enumerate(rp.rule.rules) if i not in dropped)
    out = combine(judge, AllOf(kept), rp.id, rp.max_age_days)
    notes = "; ".join(
        f"not applicable: {_part_words(rp.rule.rules[i])} ({why})"
        for i, (_, why) in sorted((i, v) for i, v in dropped.items() if i is not None)
    )
    return dataclasses.replace(out, reason=f"{out.reason}; {notes}")


def _part_words(rule: Rule) -> str:
    return describe_rule(rule) if isinstance(rule, Leaf) else f"[{describe_rule(rule)}]"


def _rule_words(rp: RequirementPolicy) -> str:
    """The rule in words, each part declared not applicable marked so."""
    if not rp.not_applicable_parts or not isinstance(rp.rule, AllOf):
        return describe_rule(rp.rule)
    dropped = {part_of(rp.rule, kind) for kind, _ in rp.not_applicable_parts}
    words = [
        _part_words(r) + (" — not applicable" if i in dropped else "")
        for i, r in enumerate(rp.rule.rules)
    ]
    return "all of: " + ", ".join(words)


def _merge_refs(refs: tuple[EvidenceRef, ...]) -> tuple[EvidenceRef, ...]:
    merged: dict[int, EvidenceRef] = {}
    for ref in refs:
        if ref.seq in merged and merged[ref.seq].counted:
            continue
        merged[ref.seq] = ref
    return tuple(sorted(merged.values(), key=lambda r: r.seq))


def _maturity_inputs(
    policy: Policy,
    judge: Judge,
    results: tuple[RequirementResult, ...],
    release: str | None,
    gating: bool,
    roster: Roster | None,
) -> maturity.Inputs:
    applicable = [rp for rp in policy.requirements if rp.not_applicable is None]
    by_seq = {r.seq: r for r in judge.index.records}
    process = {
        rp.id: _procedure(judge, by_seq, rp.process, rp.id, rp.max_age_days) for rp in applicable
    }
    age = policy.maturity.max_age_days
    history = list(verdicts.releases(judge.index.records, policy.catalog.id))
    if gating and release:
        history = [v for v in history if v.release != release]
        history.append(
            verdicts.ReleaseVerdict(
                release=release,
                commit=judge.facts.commit,
                seq=sys.maxsize,
                passed=all(r.status.passes for r in results),
                statuses={r.requirement_id: r.status for r in results},
                at=judge.now,
                practices=verdicts.practice_outcomes(results),
            )
        )
    return maturity.Inputs(
        process=process,
        roles=_holds(judge, policy.maturity.roles, "SM-2", age),
        training=_trained(judge, policy.maturity.training, age, roster),
        touched=_touched(policy, judge.index.records),
        releases=tuple(history),
        release_dates=judge.facts.dates,
        actions=_actions(policy, judge.index.records),
        records=judge.index.records,
    )


def _procedure(
    judge: Judge, by_seq: Mapping[int, Record], kinds: tuple[str, ...], rid: str, age: int
) -> tuple[bool, str]:
    """Whether a current, reviewed process document has a section naming `rid`, and why (not)."""
    whys = []
    for kind in kinds:
        out = judge.leaf(Leaf(kind=kind), rid, age)
        if out.status is not Status.SATISFIED:
            whys.append(out.reason)
            continue
        for ref in out.refs:
            record = by_seq.get(ref.seq)
            named = record.statement.predicate.details.get("procedures") if record else None
            if ref.counted and isinstance(named, list) and rid in named:
                return True, f"{kind} (entry {ref.seq}) has a section naming {rid}"
        whys.append(f"{kind}: no section naming {rid} (a heading such as `## {rid} …`)")
    return False, " | ".join(whys)


def _trained(
    judge: Judge, kinds: tuple[str, ...], age: int, roster: Roster | None
) -> tuple[bool, str]:
    """Training current: for every role holder of the roster when there is one, else attested."""
    if roster is None:
        return _holds(judge, kinds, "SM-4", age)
    holders = [p for p in roster.people if p.roles]
    if not holders:
        return False, f"{roster.source} assigns no roles"
    today = judge.now.date()
    lapsed = [f"{p.name} ({', '.join(p.roles)})" for p in holders if not p.trained(today)]
    if lapsed:
        return False, f"no current training in {roster.source} for {'; '.join(lapsed)}"
    return True, f"current training for all {len(holders)} role holders in {roster.source}"


def _holds(judge: Judge, kinds: tuple[str, ...], rid: str, age: int) -> tuple[bool, str]:
    """Whether current evidence of one of `kinds` exists, and the short why (not)."""
    parts = [judge.leaf(Leaf(kind=k), rid, age) for k in kinds]
    for part in parts:
        if part.status is Status.SATISFIED:
            return True, part.reason
    return False, " | ".join(p.reason for p in parts)


def _practice_of(policy: Policy) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Requirement id → practice, and practice → evidence kinds its rules use (process
    documents alone do not show that a practice is performed)."""
    owner = {rp.id: rp.practice for rp in policy.requirements}
    kinds: dict[str, set[str]] = {}
    for rp in policy.requirements:
        if rp.not_applicable is None:
            kinds.setdefault(rp.practice, set()).update(leaf.kind for leaf in leaves(rp.rule))
    return owner, kinds


def _touched(policy: Policy, recs: tuple[Record, ...]) -> dict[str, int]:
    owner, kinds = _practice_of(policy)
    counts: dict[str, int] = {}
    for r in recs:
        p = r.statement.predicate
        if p.kind == waivers_mod.KIND or p.result.status not in _USEFUL:
            continue
        hit = {owner[rid] for rid in p.requirements if rid in owner}
        hit |= {pid for pid, used in kinds.items() if p.kind in used}
        for pid in hit:
            counts[pid] = counts.get(pid, 0) + 1
    return counts


def _actions(policy: Policy, recs: tuple[Record, ...]) -> tuple[tuple[int, str], ...]:
    """Entries of the policy's `maturity.improvement` kinds, with their summary and note."""
    return tuple(
        (r.seq, f"{p.result.summary} {p.note}")
        for r in recs
        if (p := r.statement.predicate).kind in policy.maturity.improvement
        and p.result.status in _USEFUL
    )
