"""What `evaluate()` needs to know about git, gathered beforehand so that evaluation stays pure.

For the commit C being evaluated: which commits that evidence was collected on are ancestors of C
(`git merge-base --is-ancestor A C`), and which paths changed between them and C
(`git diff --name-only A C`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sdl_tracker.conformance import verdicts
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.gitdata import git
from sdl_tracker.models import normalise_path

#: Above this many candidate commits one `git rev-list` beats one `merge-base` call each.
_MERGE_BASE_LIMIT = 24


@dataclass(frozen=True)
class CommitFacts:
    """Ancestry and changed paths relative to one commit (the evaluated one)."""

    commit: str
    ancestors: frozenset[str] = frozenset()
    """Commits evidence was collected on that are proper ancestors of `commit`."""
    changed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """For ancestors whose evidence may count: paths changed between it and `commit`."""
    releases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """For ancestors a document was checked on: release tags (its `details.release_tags`) in
    the history of `commit` but not of the ancestor, other than tags on `commit` itself."""
    dates: Mapping[str, datetime] = field(default_factory=dict)
    """Committer dates of the commits gate verdicts were recorded for (and of `commit`)."""


def gather(root: Path, commit: str, records: Sequence[Record]) -> CommitFacts:
    """Ask git what `evaluate()` will need about the commits the evidence was collected on.

    Only evidence that covers paths depends on the commit; for each group of such evidence
    (same kind, paths and requirements) only the newest entry in C's history can count, so
    diffs are computed for those alone.
    """
    bound = [r for r in records if r.statement.commit and r.statement.predicate.covers]
    candidates = {r.statement.commit for r in bound} - {commit}
    ancestors = _ancestors(root, commit, {c for c in candidates if c})
    newest: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Record] = {}
    for r in bound:
        if r.statement.commit == commit or r.statement.commit in ancestors:
            p = r.statement.predicate
            key = (p.kind, tuple(sorted(normalise_path(c) for c in p.covers)), p.requirements)
            newest[key] = r
    need = {r.statement.commit for r in newest.values()} - {commit}
    changed = {a: _changed(root, a, commit) for a in sorted(c for c in need if c)}
    patterns = {
        (r.statement.commit, str(r.statement.predicate.details["release_tags"]))
        for r in newest.values()
        if r.statement.commit
        and r.statement.commit != commit
        and isinstance(r.statement.predicate.details.get("release_tags"), str)
    }
    releases = _releases(root, commit, patterns)
    gated = {v.commit for r in records if (v := verdicts.read(r)) is not None and v.commit}
    return CommitFacts(
        commit=commit,
        ancestors=frozenset(ancestors),
        changed=changed,
        releases=releases,
        dates=_dates(root, gated | {commit}),
    )


def _dates(root: Path, commits: set[str]) -> dict[str, datetime]:
    """Committer dates of the commits this repository has (others are left out); two git calls."""
    wanted = sorted(c for c in commits if c)
    if not wanted:
        return {}
    checked = git.run(
        root, "cat-file", "--batch-check", input="".join(f"{c}\n" for c in wanted).encode()
    )
    present = [
        line.split()[0]
        for line in checked.stdout.decode("utf-8", "replace").splitlines()
        if line.endswith(" commit") or " commit " in line
    ]
    if not present:
        return {}
    out = git.out(root, "log", "--no-walk=unsorted", "--format=%H %cI", *present, "--")
    found = {}
    for line in out.splitlines():
        commit, _, when = line.partition(" ")
        found[commit] = datetime.fromisoformat(when)
    return found


def _releases(root: Path, commit: str, wanted: set[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    if not wanted:
        return {}
    at_commit = set(git.out(root, "tag", "--points-at", commit).split())
    found: dict[str, tuple[str, ...]] = {}
    for ancestor, pattern in sorted(wanted):
        tags = git.out(
            root, "tag", "--list", pattern, "--merged", commit, "--no-merged", ancestor
        ).split()
        found[ancestor] = found.get(ancestor, ()) + tuple(t for t in tags if t not in at_commit)
    return found


def _ancestors(root: Path, commit: str, candidates: set[str]) -> set[str]:
    if len(candidates) <= _MERGE_BASE_LIMIT:
        return {
            c
            for c in candidates
            if git.run(root, "merge-base", "--is-ancestor", c, commit, check=False).returncode == 0
        }
    history = git.run(root, "rev-list", commit).stdout.decode().split()
    return candidates & set(history)


def _changed(root: Path, ancestor: str, commit: str) -> tuple[str, ...]:
    out = git.run(root, "diff", "--name-only", "--no-renames", "-z", ancestor, commit).stdout
    return tuple(sorted(p for p in out.decode("utf-8", "replace").split("\0") if p))
