"""The edge around `evaluate()`: read the ledger, load the policy, ask git, then evaluate.

Shared by `status`, `explain` and `gate`. All I/O of an evaluation happens here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdl_tracker import ledger
from sdl_tracker.conformance import facts as facts_mod
from sdl_tracker.conformance import trust
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.evidence import Record, records
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.cra import view as cra_view
from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import git
from sdl_tracker.ledger.store import Store
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.policy.model import Policy
from sdl_tracker.workspace import Workspace


@dataclass(frozen=True)
class Assessment:
    """One evaluation and what it was made from."""

    conformance: Conformance
    policy: Policy
    records: tuple[Record, ...]
    store: Store
    trust: trust.Trust | None = None
    """The roster of the evaluated commit and the verdict on every signature."""


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
) -> Assessment:
    """Evaluate the repository's commit (or release) against its policy and ledger; for another
    `framework` (`cra`), against that framework's policy, on the same ledger."""
    root = ws.repo()
    policy = policy_mod.resolve(policy_file, ws.config.policy, framework)
    commit = commit_of(root, rev, release)
    store = ws.store()
    if not store.exists():
        raise ws.no_ledger(store.location)
    recs = records(ledger.entries(store))
    conf, checked = judge(policy, root, commit, recs, now, release, gating=gating)
    return Assessment(conformance=conf, policy=policy, records=recs, store=store, trust=checked)


def judge(
    policy: Policy,
    root: Path,
    commit: str,
    recs: tuple[Record, ...],
    now: datetime,
    release: str | None,
    *,
    gating: bool,
) -> tuple[Conformance, trust.Trust]:
    """The git facts and the roster's verdict on signatures at `commit`, then `evaluate()`."""
    facts = facts_mod.gather(root, commit, recs)
    checked = trust.gather(root, commit, recs)
    # Article 14 deadlines run in hours: the stored counts are judged again at `now`.
    judged = tuple(
        dataclasses.replace(r, statement=cra_view.rejudged(r.statement, now)) for r in recs
    )
    conf = evaluate(
        policy,
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
    return conf, checked
