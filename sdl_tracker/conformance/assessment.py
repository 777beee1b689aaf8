"""The edge around `evaluate()`: read the ledger, load the policy, ask git, then evaluate.

Shared by `status`, `explain` and `gate`. All I/O of an evaluation happens here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdl_tracker import ledger
from sdl_tracker.conformance import checkpoints, trust
from sdl_tracker.conformance import coverage as coverage_mod
from sdl_tracker.conformance import facts as facts_mod
from sdl_tracker.conformance import tailoring as tailoring_mod
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.evidence import Record, records
from sdl_tracker.conformance.model import Conformance, TailoringNote, Waiver
from sdl_tracker.cra import view as cra_view
from sdl_tracker.errors import InputError, PolicyError
from sdl_tracker.formats import limits
from sdl_tracker.gitdata import git
from sdl_tracker.ledger.chain import Entry
from sdl_tracker.ledger.store import Store
from sdl_tracker.models import JSON
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.policy.model import Policy, leaves
from sdl_tracker.workspace import Workspace


@dataclass(frozen=True)
class Assessment:
    """One evaluation and what it was made from."""

    conformance: Conformance
    policy: Policy
    records: tuple[Record, ...]
    """The records the evaluation counted (uncovered tool evidence left out: `coverage`)."""
    store: Store
    trust: trust.Trust | None = None
    """The roster of the evaluated commit and the verdict on every signature."""
    tailoring: tailoring_mod.Tailoring | None = None
    """The committed project policy and whether its tailoring counts (the gate, not a what-if)."""
    coverage: coverage_mod.Coverage | None = None
    """The checkpoints' coverage, when the roster at the commit names a ci key."""


def commit_of(root: Path, rev: str | None, release: str | None) -> str:
    """The commit to evaluate: the release tag's, else `rev` (default HEAD)."""
    if release is not None:
        commit = git.resolve(root, f"refs/tags/{release}")
        if commit is None:
            raise InputError(
                f"release tag {release!r} does not exist in {root}: create it "
                f"(`git tag -s {release}`) or check the name (`git tag --list`)"
            )
        return commit
    commit = git.resolve(root, rev or "HEAD")
    if commit is None:
        raise InputError(
            f"{rev or 'HEAD'!r} names no commit in {root}: give a commit, branch or tag "
            "with --commit (and commit something first in a new repository)"
        )
    return commit


def assess(
    ws: Workspace,
    *,
    now: datetime,
    rev: str | None = None,
    policy_file: Path | None = None,
    release: str | None = None,
    gating: bool = False,
    framework: str = policy_mod.DEFAULT,
    committed: bool = False,
    own: frozenset[int] = frozenset(),
) -> Assessment:
    """Evaluate the repository's commit (or release) against its policy and ledger; for another
    `framework` (`cra`), against that framework's policy, on the same ledger.

    With `committed` (the gate's verdict), the policy is read as committed at the evaluated
    commit and its tailoring counts only when approved (`tailoring`); otherwise the policy file
    is read as it is now (`status`, `explain`, a what-if). For another framework the
    configuration's policy (a 62443-4-1 one) does not apply: its shipped policy, or a committed
    `--policy` extending it.

    When the roster at the commit names a ci key, uncovered tool evidence is not counted
    (`coverage`), except the entries in `own`: appended by the calling command in this run.
    """
    root = ws.repo()
    files: tuple[tailoring_mod.PolicyFile, ...] = ()
    commit = commit_of(root, rev, release)
    if committed and (framework == policy_mod.DEFAULT or policy_file is not None):
        configured = ws.config.policy if framework == policy_mod.DEFAULT else None
        policy, files = committed_policy(root, commit, policy_file or configured)
        shipped = policy_mod.load(policy_mod.FRAMEWORKS[framework])
        if policy.catalog.id != shipped.catalog.id:
            raise PolicyError(
                f"{policy_file}: a policy for {policy.catalog.id}, but --framework {framework} "
                f"judges against {shipped.catalog.id}: give a policy that extends "
                f"{policy_mod.FRAMEWORKS[framework]} (or drop --policy to use the shipped one)"
            )
    else:
        policy = policy_mod.resolve(policy_file, ws.config.policy, framework)
    store = ws.store()
    if not store.exists():
        raise ws.no_ledger(store.location)
    recs, covered = counted(root, commit, list(ledger.entries(store)), policy, own)
    conf, checked, tailored = judge(
        policy, root, commit, recs, now, release, gating=gating, files=files
    )
    if not committed and (framework == policy_mod.DEFAULT or policy_file is not None):
        configured = ws.config.policy if framework == policy_mod.DEFAULT else None
        path = policy_file or configured
        pending = uncounted(root, commit, policy, path, recs, checked) if path else None
        conf = dataclasses.replace(conf, tailoring_note=pending)
    if covered is not None:
        conf = dataclasses.replace(conf, coverage=covered)
    return Assessment(
        conformance=conf,
        policy=policy,
        records=recs,
        store=store,
        trust=checked,
        tailoring=tailored,
        coverage=covered,
    )


def counted(
    root: Path,
    commit: str,
    entries: list[Entry],
    policy: Policy | None = None,
    own: frozenset[int] = frozenset(),
) -> tuple[tuple[Record, ...], coverage_mod.Coverage | None]:
    """The records an evaluation at `commit` counts, and the checkpoints' coverage: when the
    roster committed there names a ci key, uncovered tool evidence is left out (every record
    counts otherwise, and the coverage is None)."""
    recs = records(entries)
    roster = trust.read_roster(root, commit)
    if not checkpoints.ci_keys(roster):
        return recs, None
    found = [e for e in entries if checkpoints.is_checkpoint(e)]
    report = checkpoints.report(found, entries[-1].seq if entries else 0, roster)
    kinds: dict[str, list[str]] = {}
    for rp in policy.requirements if policy is not None else ():
        for leaf in leaves(rp.rule):
            kinds.setdefault(leaf.kind, []).append(rp.id)
    uses = {k: tuple(v) for k, v in kinds.items()}
    covered, kept = coverage_mod.measure(report, recs, uses, own)
    return kept, covered


def committed_policy(
    root: Path, commit: str, path: Path | None
) -> tuple[Policy, tuple[tailoring_mod.PolicyFile, ...]]:
    """The policy as committed at `commit`, and its files in the repository (blob ids).

    Refuses (exit 2, naming `--what-if`) a policy outside the repository, absent at the commit,
    or, when the commit is HEAD, with uncommitted changes: a verdict rests only on what the
    commit holds.
    """
    if path is None:
        return policy_mod.load(policy_mod.DEFAULT), ()
    top = root.resolve()
    full = (path if path.is_absolute() else Path.cwd() / path).resolve()
    if not full.is_relative_to(top):
        raise WhatIfNeeded(
            f"the policy {path} is outside the repository {root}: a release verdict uses only "
            "the policy committed at the evaluated commit; commit it into the repository, or "
            "try it with `sdl-tracker gate --what-if` (not recorded as a verdict)",
            f"the policy {path} is outside the repository",
        )
    read: dict[Path, bytes] = {}

    def reader(rel: Path) -> str:
        name = rel.as_posix()
        done = None
        if not name.startswith("../"):
            done = git.run(root, "cat-file", "blob", f"{commit}:{name}", check=False)
        if done is None or done.returncode != 0:
            raise WhatIfNeeded(
                f"{name} is not committed at {commit[:10]}: a release verdict uses only the "
                f"policy committed at the evaluated commit; commit it (`git add {name}`), or try "
                "it with `sdl-tracker gate --what-if` (not recorded as a verdict)",
                f"{name} is not committed at {commit[:10]}",
            )
        if len(done.stdout) > limits.SIZES["policy"]:
            raise PolicyError(f"{name} at {commit[:10]}: larger than the policy size limit")
        read[rel] = done.stdout
        try:
            return done.stdout.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PolicyError(f"{name} at {commit[:10]}: not UTF-8 text") from e

    policy = policy_mod.load(full.relative_to(top), read=reader)
    if git.resolve(root, "HEAD") == commit:
        for rel, blob in read.items():
            try:
                here = (top / rel).read_bytes()
            except OSError:
                here = None
            if here != blob:
                raise WhatIfNeeded(
                    f"{rel.as_posix()} has uncommitted changes: a release verdict uses only the "
                    f"policy committed at the evaluated commit ({commit[:10]}); commit them (and "
                    "have them approved: `sdl-tracker approve --policy`), or try them with "
                    "`sdl-tracker gate --what-if` (not recorded as a verdict)",
                    f"{rel.as_posix()} has uncommitted changes",
                )
    files = tuple(
        tailoring_mod.PolicyFile(rel.as_posix(), git.out(root, "rev-parse", f"{commit}:{rel}"))
        for rel in read
    )
    return policy, files


class WhatIfNeeded(InputError):
    """The gate was asked for a verdict on a policy the evaluated commit does not hold."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem
        """The problem alone, without the advice (`sdl-policy.yaml has uncommitted changes`)."""


def uncounted(
    root: Path,
    commit: str,
    policy: Policy,
    path: Path,
    recs: tuple[Record, ...],
    checked: trust.Trust,
) -> TailoringNote | None:
    """The tailoring `policy` (read as it is now, for `status` and `explain`) counts that a
    release verdict on `commit` would not: uncommitted, or not approved by a
    product-security-lead; None when there is no tailoring or the gate counts it as well."""
    _, tailors = tailoring_mod.untailored(policy, shipped_for(policy))
    if not tailors:
        return None
    try:
        held, files = committed_policy(root, commit, path)
    except WhatIfNeeded as e:
        return TailoringNote(
            tailors,
            why=e.problem,
            gate="the gate refuses to judge by it (exit 2) until it is committed; committed and "
            "not approved, the gate judges these requirements by the shipped policy",
            action=f"commit it, then {tailoring_mod.ACTION}",
        )
    except PolicyError as e:
        return TailoringNote(
            tailors,
            why=f"the policy committed at {commit[:10]} does not load ({e})",
            gate="the gate refuses to judge by it (exit 2)",
            action=f"commit a valid policy, then {tailoring_mod.ACTION}",
        )
    approved = tailoring_mod.approval(files, recs, checked.signers)
    if not approved.counts:
        return TailoringNote(
            tailors, why=approved.why, gate=tailoring_mod.SHIPPED, action=tailoring_mod.ACTION
        )
    differ = tuple(
        now.id
        for now, then in zip(policy.requirements, held.requirements)
        if now != then or now.id in tailors and _settings(policy) != _settings(held)
    )
    if not differ:
        return None
    return TailoringNote(
        differ,
        why=f"the policy differs from the one committed at {commit[:10]} "
        f"(approved by {approved.approved_by}, entry {approved.entry})",
        gate=f"the gate judges these requirements by the policy committed at {commit[:10]}",
        action=f"commit the change, then {tailoring_mod.ACTION}",
    )


def _settings(policy: Policy) -> tuple[object, ...]:
    return (policy.provenance, policy.approvals)


def judge(
    policy: Policy,
    root: Path,
    commit: str,
    recs: tuple[Record, ...],
    now: datetime,
    release: str | None,
    *,
    gating: bool,
    files: tuple[tailoring_mod.PolicyFile, ...] = (),
) -> tuple[Conformance, trust.Trust, tailoring_mod.Tailoring | None]:
    """The git facts and the roster's verdict on signatures at `commit`, then `evaluate()`.

    With `files` (the committed project policy), its tailoring counts only when a
    product-security-lead approved those blobs; otherwise the shipped policy judges what it
    tailors.
    """
    facts = facts_mod.gather(root, commit, recs)
    checked = trust.gather(root, commit, recs)
    tailored = tailoring_mod.approval(files, recs, checked.signers) if files else None
    effective = policy
    if tailored is not None and not tailored.counts:
        effective, reverted = tailoring_mod.untailored(policy, shipped_for(policy))
        tailored = dataclasses.replace(tailored, reverted=reverted)
    # Article 14 deadlines run in hours: the stored counts are judged again at `now`, each stage
    # closed only by a submission a product-security-lead signed (the rule `status` shows).
    closing, _ = cra_view.signed_submissions(recs, checked.signers)
    judged = tuple(
        dataclasses.replace(r, statement=cra_view.rejudged(r.statement, now, closing)) for r in recs
    )
    conf = evaluate(
        effective,
        judged,
        facts,
        now,
        release,
        gating=gating,
        signed=checked.report.signed,
        signers=checked.signers,
        approvals=trust.approvals(checked, recs),
        roster=checked.roster,
    )
    if tailored is not None and tailored.reverted:
        conf = tailoring_mod.annotate(conf, tailored, policy)  # and its note
    return conf, checked, tailored


def cra_closing(
    root: Path, commit: str, recs: tuple[Record, ...]
) -> dict[tuple[str, str], dict[str, JSON]]:
    """The Article 14 stages closed by `record cra_submission` entries that a
    product-security-lead of the roster at `commit` signed: what `collect` and `cra report` use,
    by the same rule `judge` applies (nothing to check without a submission entry)."""
    if not any(r.statement.predicate.kind == cra_view.SUBMISSION for r in recs):
        return {}
    closing, _ = cra_view.signed_submissions(recs, trust.gather(root, commit, recs).signers)
    return closing


def not_affected_waivers(
    root: Path, commit: str, recs: tuple[Record, ...], now: datetime, max_days: int | None
) -> tuple[tuple[Waiver, ...], tuple[Waiver, ...]]:
    """Finding waivers that state the product is not affected (a justification), split into the
    ones that count at `now` (approved by a roster approver, unexpired, within `max_days`) and
    the ones that do not (pending or expired), for `advisory --profile vex`."""
    from sdl_tracker.conformance import waivers as waivers_mod

    if not any(r.statement.predicate.kind == waivers_mod.KIND for r in recs):
        return (), ()
    checked = trust.gather(root, commit, recs)
    found = waivers_mod.collect(recs, now, trust.approvals(checked, recs), max_days)
    justified = [w for w in found if w.justification]
    return tuple(w for w in justified if w.counts), tuple(w for w in justified if not w.counts)


def shipped_for(policy: Policy) -> Policy:
    """The shipped policy of the catalogue `policy` judges against (what judges untailored)."""
    for name in policy_mod.FRAMEWORKS.values():
        shipped = policy_mod.load(name)
        if shipped.catalog.id == policy.catalog.id:
            return shipped
    return policy_mod.load(policy_mod.DEFAULT)
