"""Judge one evidence kind of a rule: which entries count for commit C at `now`, and why (pure).

The rules (documented in docs/concepts/when-evidence-counts.md):
- an entry counts for C when collected on C, or on an ancestor A of C with none of the paths it
  covers changed between A and C; entries that cover no paths (attestations, process records)
  count on any commit;
- it must be younger than the maximum age; reaffirmed entries (`details.reaffirms`) count like
  the entry they reaffirm: its result, metrics and artifacts, and its age;
- a later entry of the same kind supersedes earlier ones whose covered paths overlap its own;
- incomplete entries never satisfy anything; thresholds, when the policy sets them, decide on the
  metrics, otherwise the entry's own pass/fail does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sdl_tracker.conformance import documents, hints, tracking
from sdl_tracker.conformance.evidence import Record, covered
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.findings import Verdict, check, meets, value
from sdl_tracker.conformance.model import SEVERITY, EvidenceRef, Status, Waiver
from sdl_tracker.conformance.provenance import accepted_text, classify
from sdl_tracker.conformance.selection import Index, short
from sdl_tracker.conformance.signatures import Signer
from sdl_tracker.conformance.verdicts import KIND as GATE_KIND
from sdl_tracker.conformance.verdicts import read as read_verdict
from sdl_tracker.models import Provenance, ResultStatus
from sdl_tracker.policy.catalog import DocumentKind
from sdl_tracker.policy.model import ANY_PROVENANCE, Leaf, SignerRule


def _any(rid: str, kind: str) -> frozenset[Provenance]:
    return ANY_PROVENANCE


def _no_rule(rid: str) -> SignerRule | None:
    return None


@dataclass(frozen=True)
class Outcome:
    """The status of a rule (or part of one), why, and what to do."""

    status: Status
    reason: str
    action: str = ""
    refs: tuple[EvidenceRef, ...] = ()
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True)
class Judge:
    """Everything one evaluation judges against."""

    index: Index
    facts: CommitFacts
    now: datetime
    waivers: tuple[Waiver, ...]
    critical_paths: tuple[str, ...] = ()
    release: str | None = None
    """The release being judged: its own verdicts are never evidence for it."""
    accepts: Callable[[str, str], frozenset[Provenance]] = _any
    """The provenance classes that count for (requirement, kind): the policy's `provenance`."""
    signed: frozenset[int] = frozenset()
    """Seqs of attestations whose signatures verified against the roster."""
    signers: Mapping[int, tuple[Signer, ...]] = field(default_factory=dict)
    """Who signed each signed entry (roles, authorship of the release range)."""
    signer_rule: Callable[[str], SignerRule | None] = _no_rule
    """Who must have signed attestations for a requirement: the policy's `signers`."""
    documents: Mapping[str, DocumentKind] = field(default_factory=dict)
    """Per document kind: its sections and review cadence (the catalogue's `documents`)."""
    unmet: Mapping[str, Status] = field(default_factory=dict)
    """The other requirements this evaluation does not meet, for `tracks_findings` leaves
    (judged after the others)."""

    def leaf(self, leaf: Leaf, rid: str, max_age_days: int) -> Outcome:
        kind = leaf.kind
        if kind == GATE_KIND:
            return self._previous_verdict(leaf, rid, max_age_days)
        sel = self.index.selection(kind, rid if leaf.named else None)
        if not sel.candidates:
            naming = f" naming {rid}" if leaf.named else ""
            built = any(b.metric == hints.BUILT for b in leaf.thresholds)
            return Outcome(
                Status.MISSING,
                f"{kind}: no evidence{naming}",
                hints.built(kind, rid) if built else hints.action(Status.MISSING, kind, rid),
            )
        if not sel.winners:
            where = ", ".join(sorted({short(r.statement.commit) for r in sel.candidates}))
            return Outcome(
                Status.STALE,
                f"{kind}: collected only on commits outside the history of "
                f"{short(self.facts.commit)} ({where})",
                hints.action(Status.STALE, kind, rid),
                self._refs(sel.candidates, sel.notes, {}),
            )
        want = (self.accepts(rid, kind), self.signer_rule(rid))
        verdicts = {r.seq: self._assess(r, leaf, rid, max_age_days, want) for r in sel.winners}
        worst_seq = min(verdicts, key=lambda s: (SEVERITY.index(verdicts[s].status), -s))
        worst = verdicts[worst_seq]
        status, reason = worst.status, f"{kind}: {worst.why}"
        if status is Status.SATISFIED and len(verdicts) > 1:
            reason = f"{kind}: " + "; ".join(v.why for v in verdicts.values())
        if status in (Status.SATISFIED, Status.WAIVED) and leaf.cover_critical:
            uncovered = self._uncovered(sel.winners)
            if uncovered:
                status = Status.PARTIAL
                reason = f"{kind}: does not cover security-critical path(s) {', '.join(uncovered)}"
        notes = {seq: v.why for seq, v in verdicts.items()}
        counted = {seq: v.status is Status.SATISFIED for seq, v in verdicts.items()}
        waived = tuple(w for v in verdicts.values() for w in v.waivers)
        untracked = False
        if status is Status.SATISFIED and leaf.tracks_findings:
            used = [self.index.origin(r) for r in sel.winners if counted[r.seq]]
            status, reason = self._tracked([r for r in used if isinstance(r, Record)], reason)
            untracked = status in (Status.PARTIAL, Status.FAILING)
        action = hints.action(status, kind, rid, worst_seq)
        if untracked:
            action = _TRACK
        elif status is Status.FAILING and any(b.metric == hints.BUILT for b in leaf.thresholds):
            action = hints.built(kind, rid)
        elif (
            status is Status.PARTIAL
            and leaf.none_listed
            and f"{leaf.none_listed}" in reason.replace(" ", "_")
        ):
            action = hints.listed(leaf.none_listed, kind, rid)
        return Outcome(
            status=status,
            reason=reason,
            action=action,
            refs=self._refs(sel.candidates, {**sel.notes, **notes}, counted),
            waivers=waived,
        )

    def _assess(
        self,
        r: Record,
        leaf: Leaf,
        rid: str,
        max_age_days: int,
        want: tuple[frozenset[Provenance], SignerRule | None],
    ) -> Verdict:
        st = r.statement
        origin = self.index.origin(r)
        if isinstance(origin, str):
            return Verdict(Status.INCOMPLETE, f"entry {r.seq} {origin}")
        label = f"entry {r.seq}" if origin is r else f"entry {r.seq} (reaffirms {origin.seq})"
        op = origin.statement.predicate
        if ResultStatus.INCOMPLETE in (st.predicate.result.status, op.result.status):
            return Verdict(Status.INCOMPLETE, f"{label} is incomplete: {op.result.summary}")
        age = self.now - op.recorded_at
        doc = None
        if documents.is_document(op):
            kind = self.documents.get(leaf.kind)
            since = (
                self.facts.releases.get(st.commit or "", ())
                if st.commit != self.facts.commit
                else ()
            )
            doc = documents.judge(op, rid, kind, self.now, leaf.max_age_days, since)
            if isinstance(doc, Verdict):
                return Verdict(doc.status, f"{label}: {doc.why}")
            age = doc.age
        elif age > timedelta(days=(limit := leaf.max_age_days or max_age_days)):
            return Verdict(Status.STALE, f"{label} is {_age(age)} old (max {limit} days)")
        changed = self._changed(st.commit, st.predicate.covers)
        if changed:
            return Verdict(Status.STALE, f"{label}: {changed}")
        where = f"on {short(st.commit)}, " if st.commit else ""
        empty = _empty(leaf, op.result.metrics)
        if empty is not None:
            return Verdict(empty[0], f"{label} {where}{empty[1]}")
        found = check(leaf, op, self.waivers) if doc is None else None
        if (
            found is not None
            and found.status is Status.FAILING
            and _partly(leaf, op.result.metrics)
        ):
            found = Verdict(Status.PARTIAL, found.why, found.waivers)
        if found is not None and found.status is not Status.WAIVED:
            return Verdict(found.status, f"{label} {where}{found.why}", found.waivers)
        if leaf.none_listed:
            gap = _listed(leaf.none_listed, op.details.get(leaf.none_listed))
            if gap is not None:
                return Verdict(gap[0], f"{label} {where}{gap[1]}")
        accepted, rule = want
        got = classify(origin, self.signed)
        rule = rule if got is Provenance.SIGNED else None
        if rule is not None:
            problem = _signers_fail(rule, self.signers.get(origin.seq, ()))
            if problem:
                return Verdict(
                    Status.PARTIAL,
                    f"{label} is signed, but {problem}: {rid} needs it signed by {rule.describe()}",
                )
        if got not in accepted:
            return Verdict(
                Status.PARTIAL,
                f"{label} is {_class_words(got)}: {rid} needs "
                f"{leaf.kind} {accepted_text(accepted)}",
            )
        if found is not None:
            return Verdict(found.status, f"{label} {where}{found.why}", found.waivers)
        aged = "since its last change" if doc is not None else "old"
        return Verdict(Status.SATISFIED, f"{label} {where}{_age(age)} {aged}: {op.result.summary}")

    def _tracked(self, used: list[Record], reason: str) -> tuple[Status, str]:
        """Satisfied only when every unmet requirement and open finding has an assessed issue
        record in the counted entries, or a waiver; partial names the others, failing when none
        is addressed."""
        records: list[tracking.Tracker] = []
        for r in used:
            listed = tracking.trackers(r.statement.predicate)
            if listed is None:
                return Status.INCOMPLETE, (
                    f"{reason}; entry {r.seq} does not list what its records track (made by an "
                    "older version): collect it again"
                )
            records.extend(listed)
        found = tracking.problems(self.index, self.unmet)
        missing, addressed = tracking.untracked(found, records, self.waivers)
        if missing:
            # None addressed is no partial fulfilment: the process has not touched any of them.
            status = Status.PARTIAL if addressed else Status.FAILING
            return status, (
                f"{len(missing)} of {len(found)} unmet requirement(s) and open finding(s) have no "
                f"assessed issue record or waiver: {tracking.shown(missing)}"
            )
        if not found:
            return Status.SATISFIED, f"{reason}; no unmet requirement and no open finding"
        return Status.SATISFIED, (
            f"{reason}; all {len(found)} unmet requirement(s) and open finding(s) tracked: "
            f"{tracking.shown(addressed)}"
        )

    def _previous_verdict(self, leaf: Leaf, rid: str, max_age_days: int) -> Outcome:
        """The newest gate verdict of an earlier release: never this release's or this commit's,
        so the verdict being made (or made again) is never evidence for itself."""
        kind = leaf.kind
        found = None
        for r in self.index.records:
            v = read_verdict(r)
            if v and v.release and v.release != self.release and v.commit != self.facts.commit:
                found = (r, v)
        if found is None:
            return Outcome(
                Status.NOT_DEMONSTRATED,
                f"{kind}: no earlier release has a gate verdict (this release's own verdict "
                "never counts for itself)",
                hints.action(Status.NOT_DEMONSTRATED, kind, rid),
            )
        r, v = found
        age = self.now - r.statement.predicate.recorded_at
        limit = leaf.max_age_days or max_age_days
        label = f"entry {r.seq}: the previous release {v.release} (on {short(v.commit)})"
        if age > timedelta(days=limit):
            status, why = Status.STALE, f"{label} was gated {_age(age)} ago (max {limit} days)"
        elif v.passed:
            status, why = Status.SATISFIED, f"{label} passed its gate"
        else:
            failed = sorted(rid for rid, s in v.statuses.items() if not s.passes)
            status = Status.FAILING
            why = f"{label} failed its gate ({len(failed)} requirement(s) not met)"
        refs = self._refs((r,), {r.seq: why}, {r.seq: status is Status.SATISFIED})
        action = "" if status is Status.SATISFIED else hints.action(status, kind, rid, r.seq)
        return Outcome(status, f"{kind}: {why}", action, refs)

    def _changed(self, commit: str | None, covers: tuple[str, ...]) -> str:
        """Why path-bound evidence from an ancestor no longer holds for C, or ''."""
        if not covers or commit is None or commit == self.facts.commit:
            return ""
        changed = self.facts.changed.get(commit)
        if changed is None:
            return f"no changed-path facts for {short(commit)} (gather them with facts.gather)"
        norm = tuple(self.index.covers(covers))
        hits = [p for p in changed if covered(p, norm)]
        if not hits:
            return ""
        more = f" and {len(hits) - 3} more" if len(hits) > 3 else ""
        return (
            f"{', '.join(hits[:3])}{more} changed between {short(commit)} (where it was "
            f"collected) and {short(self.facts.commit)}"
        )

    def _uncovered(self, winners: tuple[Record, ...]) -> list[str]:
        covers = tuple(c for r in winners for c in self.index.covers(r.statement.predicate.covers))
        return [p for p in self.critical_paths if not covered(p, covers)]

    def _refs(
        self, candidates: tuple[Record, ...], notes: dict[int, str], counted: dict[int, bool]
    ) -> tuple[EvidenceRef, ...]:
        refs = []
        for r in candidates:
            st = r.statement
            refs.append(
                EvidenceRef(
                    seq=r.seq,
                    hash=r.hash,
                    kind=st.predicate.kind,
                    result=st.predicate.result.status.value,
                    counted=counted.get(r.seq, False),
                    why=notes.get(r.seq, ""),
                    commit=st.commit,
                    recorded_at=st.predicate.recorded_at,
                    artifacts=st.artifacts,
                    provenance=classify(r, self.signed),
                )
            )
        return tuple(refs)


_TRACK = (
    "for each one named, commit an assessed security-issue record naming it "
    "(security-issues/<ID>.yaml with `tracks: [<id>]` and an `assessment: {cvss: …}` or a status "
    "past triaged) and run `sdl-tracker collect --only issues`, or waive the finding "
    "(`sdl-tracker waive <id> --reason … --expires …`)"
)


def _listed(key: str, items: object) -> tuple[Status, str] | None:
    """Why a `none_listed` list makes the entry fall short (partial, naming them), or None."""
    words = key.replace("_", " ")
    if not isinstance(items, list):
        return (
            Status.INCOMPLETE,
            f"lists nothing {words} (made by an older version): collect it again",
        )
    if not items:
        return None
    shown = "; ".join(str(i) for i in items[:8]) + (
        f" and {len(items) - 8} more" if len(items) > 8 else ""
    )
    return Status.PARTIAL, f"{len(items)} {words}: {shown}"


def _empty(leaf: Leaf, metrics: Mapping[str, float]) -> tuple[Status, str] | None:
    """Why the entry shows nothing (its population metric is 0 or absent), or None."""
    if leaf.population is None:
        return None
    count = metrics.get(leaf.population)
    if count is None:
        return Status.INCOMPLETE, f"has no {leaf.population} metric: collect it again"
    if count > 0:
        return None
    return (
        Status.NOT_DEMONSTRATED,
        f"counts 0 {leaf.population.replace('_', ' ')}: a process that never ran is not "
        "demonstrated",
    )


def _partly(leaf: Leaf, metrics: Mapping[str, float]) -> bool:
    """Whether the only unmet threshold is `<population>_unverified` and some of the population
    is verified: partial (the reason names the rest), not failing."""
    if leaf.population is None:
        return False
    name = f"{leaf.population}_unverified"
    total, unverified = metrics.get(leaf.population), metrics.get(name)
    if total is None or unverified is None or not 0 < unverified < total:
        return False
    others = [b for b in leaf.thresholds if b.metric != name]
    return len(others) < len(leaf.thresholds) and all(
        isinstance(v := value(b.metric, metrics), float) and meets(b, v) for b in others
    )


def _signers_fail(rule: SignerRule, signers: tuple[Signer, ...]) -> str:
    """Why none of `signers` satisfies `rule`, or '' when one does."""
    if not signers:
        return "who signed it is not known here"
    whys = []
    for s in signers:
        if not set(s.roles) & set(rule.roles):
            whys.append(f"{s.identity} holds none of the roles {', '.join(rule.roles)}")
        elif rule.not_author and s.authored:
            whys.append(f"{s.identity} authored commits of the release")
        else:
            return ""
    return "; ".join(whys)


def _class_words(got: Provenance) -> str:
    if got is Provenance.ATTESTED:
        return "attested (a person's unsigned statement)"
    return str(got.value)


def _age(delta: timedelta) -> str:
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hours" if hours >= 1 else "under an hour"
