"""review: code review records from plain git history (and optional forge review exports).

One `git log` reads the range (`gitdata.history`), one `git check-mailmap` maps the trailer
addresses, and `gitdata.reviews` applies the definitions documented in
docs/collectors/review.md. The artifact `review.json` lists every commit, the unreviewed ones
and a per-path breakdown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.tables import Table
from sdl_tracker.gitdata import forge as forge_mod
from sdl_tracker.gitdata import git, history
from sdl_tracker.gitdata.forge import ForgeReviews
from sdl_tracker.gitdata.history import Range
from sdl_tracker.gitdata.reviews import (
    REVIEW_KEYS,
    CommitReview,
    PrLink,
    Settings,
    classify,
    path_matcher,
)
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

NAME = "review"
PROVIDES = ("SI-1", "SD-3", "SR-5", "SVV-5", "SG-7")
#: The user documentation whose changes SG-7 wants reviewed by someone other than their author.
DOCUMENTATION = ("docs/**", "README.md", "README.rst")
_KEYS = (
    "documentation_paths",
    "pr_merge_counts_as_review",
    "security_critical_paths",
    "forge_reviews",
    "tag_pattern",
    "breakdown_depth",
)
_MAPPED_KEYS = REVIEW_KEYS | {"co-authored-by"}


def _table(ctx: Context) -> Table:
    return Table(NAME, ctx.config, _KEYS)


def settings(ctx: Context) -> Settings:
    table = _table(ctx)
    return Settings(
        pr_merge_counts_as_review=table.boolean("pr_merge_counts_as_review", True),
        security_critical_paths=table.strings("security_critical_paths"),
        breakdown_depth=table.integer("breakdown_depth", 1, minimum=1),
    )


def commit_range(ctx: Context) -> Range:
    """The range `--since`, `--all` or the previous release tag selects."""
    return history.commit_range(
        ctx.root,
        ctx.commit,
        since=ctx.options.get("since") or None,
        all_history=bool(ctx.options.get("all")),
        tag_pattern=_table(ctx).string("tag_pattern", "v*"),
    )


def _forge_path(ctx: Context) -> Path | None:
    value = _table(ctx).optional_string("forge_reviews")
    return ctx.root / value if value else None


def inputs(ctx: Context) -> Mapping[str, str]:
    rng = commit_range(ctx)
    result = {"range": f"{rng.base or ''}..{rng.head}", "config": _digest(dict(ctx.config))}
    mailmap = ctx.root / ".mailmap"
    if mailmap.is_file():
        result["mailmap"] = hashlib.sha256(mailmap.read_bytes()).hexdigest()
    path = _forge_path(ctx)
    if path is not None and path.exists():
        result["forge_reviews"] = forge_mod.digest(path)
    return result


def collect(ctx: Context) -> Iterator[Evidence]:
    config = settings(ctx)
    path = _forge_path(ctx)
    forge = forge_mod.load(path) if path is not None else None
    rng = commit_range(ctx)
    commits = history.read(ctx.root, rng)
    values = {v for c in commits for k, v in c.trailers if k in _MAPPED_KEYS}
    if forge is not None:
        values.update(e for emails in forge.users.values() for e in emails)
    reviews = classify(commits, history.mailmap(ctx.root, values), config, forge)
    cut = history.shallow_cut(ctx.root, (c.id for c in commits))
    docs = path_matcher(_table(ctx).strings("documentation_paths", DOCUMENTATION))
    touched = [r for r in reviews if docs and any(docs.match(p) for p in r.commit.paths)]
    yield _evidence(ctx, rng, reviews, config, forge, cut, touched)


def _evidence(
    ctx: Context,
    rng: Range,
    reviews: Sequence[CommitReview],
    config: Settings,
    forge: ForgeReviews | None,
    cut: Sequence[str] = (),
    documentation: Sequence[CommitReview] = (),
) -> Evidence:
    metrics = {
        "commits": len(reviews),
        "reviewed": sum(r.reviewed for r in reviews),
        "independently_reviewed": sum(r.independent for r in reviews),
        "pr_merged": sum(r.pr_merged for r in reviews),
        "forge_approved": sum(bool(r.forge_approvers) for r in reviews),
        "security_critical_commits": sum(r.security_critical for r in reviews),
        "security_critical_reviewed": sum(r.security_reviewed for r in reviews),
        "documentation_commits": len(documentation),
        "documentation_reviewed": sum(r.independent for r in documentation),
    }
    n, total = metrics["independently_reviewed"], metrics["commits"]
    summary = (
        f"{n} of {total} commits independently reviewed ({metrics['reviewed']} reviewed, "
        f"{metrics['pr_merged']} via pull/merge requests) in {rng.describe()}"
    )
    if config.security_critical_paths:
        summary += (
            f"; {metrics['security_critical_reviewed']} of "
            f"{metrics['security_critical_commits']} security-critical commits security-reviewed"
        )
    if cut:
        status = ResultStatus.INCOMPLETE
        summary += f"; {history.SHALLOW_HINT}"
    elif total == 0:
        status = ResultStatus.INFO
        summary += " (no commits to review)"
    elif (
        n == total and metrics["security_critical_reviewed"] == metrics["security_critical_commits"]
    ):
        status = ResultStatus.PASS
    else:
        status = ResultStatus.FAIL
    report = _report(rng, reviews, config, forge, metrics)
    unreviewed = sum(not r.reviewed for r in reviews)
    return Evidence(
        kind="review_record",
        tool=Tool("git", _git_version(ctx.root)),
        requirements=PROVIDES,
        result=Result(status, summary, metrics),
        covers=(".",),
        artifacts=(("review.json", json.dumps(report, separators=(",", ":")).encode()),),
        details={
            "range": {"base": rng.base, "base_ref": rng.base_ref, "head": rng.head, "how": rng.how},
            "unreviewed": unreviewed,
        },
    )


def _report(
    rng: Range,
    reviews: Sequence[CommitReview],
    config: Settings,
    forge: ForgeReviews | None,
    metrics: Mapping[str, int],
) -> dict[str, JSON]:
    return {
        "range": {"base": rng.base, "base_ref": rng.base_ref, "head": rng.head, "how": rng.how},
        "settings": {
            "pr_merge_counts_as_review": config.pr_merge_counts_as_review,
            "security_critical_paths": list(config.security_critical_paths),
            "forge_reviews": forge is not None,
        },
        "metrics": dict(metrics),
        "commits": _records(reviews),
        "unreviewed": [r.commit.id for r in reviews if not r.reviewed],
        "not_independently_reviewed": [r.commit.id for r in reviews if not r.independent],
        "security_critical_not_reviewed": [
            r.commit.id for r in reviews if r.security_critical and not r.security_reviewed
        ],
        "unmapped_forge_logins": [
            login
            for login in sorted({a for r in reviews for a in r.forge_approvers})
            if forge is None or not forge.mapped(login)
        ],
        "paths": _breakdown(reviews, config.breakdown_depth),
    }


def _records(reviews: Sequence[CommitReview]) -> list[JSON]:
    """One record per commit; empty lists and unset flags are left out (long histories)."""
    links: dict[int, JSON] = {}  # a pull request's commits share one link object
    records: list[JSON] = []
    for r in reviews:
        c = r.commit
        record: dict[str, JSON] = {
            "id": c.id,
            "author": f"{c.author_name} <{c.author_email}>",
            "subject": c.subject,
            "reviewed": r.reviewed,
            "independently_reviewed": r.independent,
        }
        if c.trailers:
            record["trailers"] = [f"{k}: {v}" for k, v in c.trailers]
        if r.prs:
            record["pull_requests"] = [
                links.get(id(p)) or links.setdefault(id(p), _link(p)) for p in r.prs
            ]
        if r.forge_approvers:
            record["forge_approvers"] = list(r.forge_approvers)
        if r.security_critical:
            record["security_critical"] = True
            record["security_reviewed"] = r.security_reviewed
        records.append(record)
    return records


def _link(p: PrLink) -> JSON:
    return {"number": p.number, "via": p.via, "merge": p.merge}


def _breakdown(reviews: Sequence[CommitReview], depth: int) -> dict[str, JSON]:
    """Per directory prefix (`depth` components; `.` for top-level files): commit counts."""
    counts: dict[str, list[int]] = {}
    known: dict[str, str] = {}  # path -> prefix: the same files change again and again
    for r in reviews:
        prefixes = set()
        for path in r.commit.paths:
            prefix = known.get(path)
            if prefix is None:
                prefix = known[path] = _prefix(path, depth)
            prefixes.add(prefix)
        for prefix in prefixes:
            row = counts.get(prefix)
            if row is None:
                row = counts[prefix] = [0, 0, 0]
            row[0] += 1
            row[1] += r.reviewed
            row[2] += r.independent
    return {
        p: {"commits": a, "reviewed": b, "independently_reviewed": c}
        for p, (a, b, c) in sorted(counts.items())
    }


def _prefix(path: str, depth: int) -> str:
    parts = path.split("/", depth)
    return "/".join(parts[: min(depth, len(parts) - 1)]) or "."


def _digest(value: JSON) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _git_version(root: Path) -> str:
    return git.out(root, "--version").removeprefix("git version ").strip()
