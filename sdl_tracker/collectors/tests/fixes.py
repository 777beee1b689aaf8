"""The security issues fixed in the release (SUM-1): from the issue records and the release range.

The release is the one the `releases` collector judges (`--release TAG`, the tag at HEAD, or the
newest tag reachable from HEAD); its range runs from the previous release tag to it. An issue is
fixed in it when it is fixed or disclosed and its `fixed_in` names the tag (`v1.2.0` and `1.2.0`
are the same), or, without `fixed_in`, its `fixed` date falls after the previous release's commit
and no later than the release's. Before the first release tag every fixed issue is in the release
being prepared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sdl_tracker import config as config_mod
from sdl_tracker.collectors import issues as issues_mod
from sdl_tracker.collectors import releases
from sdl_tracker.collectors.base import Context
from sdl_tracker.collectors.issues.records import Issue, check_dates
from sdl_tracker.collectors.tests.matrix import Fix
from sdl_tracker.gitdata import git

_FIXED = ("fixed", "disclosed")


@dataclass(frozen=True)
class Released:
    """What SUM-1 traces: the release, the issues fixed in it, every issue id known."""

    tag: str | None
    """The release tag (None before the first one)."""
    previous: str | None
    fixes: tuple[Fix, ...]
    known: frozenset[str] | None
    """Every id and alias the issue records hold; None when there are no records."""
    folders: tuple[str, ...]


def _context(ctx: Context, name: str) -> Context:
    table = config_mod.load(ctx.root).collector(name)
    return dataclasses.replace(ctx, config=table, from_report=None)


def read(ctx: Context) -> Released:
    """The release and the issues fixed in it, read from the work tree and git."""
    issues_ctx = _context(ctx, issues_mod.NAME)
    folders = tuple(issues_mod.folders(issues_ctx))
    found = issues_mod.read(issues_ctx) if folders else []
    today = ctx.now.astimezone(timezone.utc).date()
    for issue in found:  # a fix dated in the future, or before its report: exit 2, named
        check_dates(issue, today)
    rel = releases.release(_context(ctx, releases.NAME))
    known = frozenset(i for issue in found for i in (issue.id, *issue.aliases)) or None
    if rel is None:
        fixed = [i for i in found if i.status in _FIXED]
        return Released(None, None, _fixes(fixed), known, folders)
    end = _day(ctx, rel.commit)
    start = _day(ctx, rel.previous_commit) if rel.previous_commit else None
    fixed = [i for i in found if _in_release(i, rel.tag, start, end)]
    return Released(rel.tag, rel.previous, _fixes(fixed), known, folders)


def inputs(ctx: Context) -> Mapping[str, str]:
    """What the result depends on: the issue folders' trees and the release tags."""
    issues_ctx = _context(ctx, issues_mod.NAME)
    folders = issues_mod.folders(issues_ctx)
    ids = git.tree_ids(ctx.root, ctx.commit, folders) if folders else {}
    rel = releases.release(_context(ctx, releases.NAME))
    release = f"{rel.tag}={rel.commit};{rel.previous or ''}" if rel else ""
    return {**{f"tree:{d}": ids.get(d, "untracked") for d in folders}, "release": release}


def _fixes(issues: Sequence[Issue]) -> tuple[Fix, ...]:
    return tuple(Fix((i.id, *i.aliases)) for i in issues)


def _in_release(issue: Issue, tag: str, start: date | None, end: date) -> bool:
    if issue.status not in _FIXED:
        return False
    if issue.fixed_in:
        return _version(issue.fixed_in) == _version(tag)
    if issue.fixed is None:
        return False
    return issue.fixed <= end and (start is None or issue.fixed > start)


def _version(name: str) -> str:
    name = name.strip()
    return name[1:] if name[:1] in ("v", "V") and name[1:2].isdigit() else name


def _day(ctx: Context, commit: str) -> date:
    stamp = git.out(ctx.root, "show", "-s", "--format=%cI", commit).strip()
    return datetime.fromisoformat(stamp).date()
