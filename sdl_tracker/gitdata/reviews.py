"""The review definitions, as pure functions over bulk history (docs/collectors/review.md).

- The range is the non-merge commits of `BASE..HEAD`.
- A commit is brought in by a pull/merge request when (a) it is in `M^1..M^2` for a merge
  commit M of the range whose message is a GitHub merge (`Merge pull request #N from …`), a
  GitLab merge (`See merge request …!N`) or whose subject ends with `(#N)`; or (b) its subject
  ends with `(#N)` and its committer e-mail is `noreply@github.com` (a squash merge).
- Reviewed: a Reviewed-by / Acked-by / Approved-by / Security-Reviewed-by trailer, or brought
  in by a pull/merge request when `pr_merge_counts_as_review`.
- Independently reviewed: a reviewer trailer names an e-mail other than the author's and every
  co-author's (case-insensitive, after .mailmap), or for (a) M's author e-mail differs from the
  commit's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sdl_tracker.gitdata.forge import ForgeReviews
from sdl_tracker.gitdata.history import Commit, exclusive

REVIEW_KEYS = frozenset({"reviewed-by", "acked-by", "approved-by", "security-reviewed-by"})
_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from ")
_GITLAB_MERGE = re.compile(r"^See merge request \S*!(\d+)\s*$", re.MULTILINE)
_SUBJECT_PR = re.compile(r"\(#(\d+)\)\s*$")
_SQUASH_COMMITTER = "noreply@github.com"


@dataclass(frozen=True)
class Settings:
    pr_merge_counts_as_review: bool = True
    security_critical_paths: tuple[str, ...] = ()
    breakdown_depth: int = 1


@dataclass(frozen=True, slots=True)
class PrLink:
    """How a commit is tied to pull/merge request `number`."""

    number: int
    via: str
    """`merge` (case a), `squash` (case b) or `forge` (the export's `commits` map)."""
    merge: str | None = None
    merge_author_email: str | None = None


@dataclass(frozen=True, slots=True)
class CommitReview:
    commit: Commit
    prs: tuple[PrLink, ...]
    forge_approvers: tuple[str, ...]
    reviewed: bool
    independent: bool
    pr_merged: bool
    """Brought in by a pull/merge request by git's record alone (cases a and b)."""
    security_critical: bool
    security_reviewed: bool


def merge_request(commit: Commit) -> int | None:
    """The PR/MR number a merge commit's message names (case a), else None."""
    # Substring tests first: most merges of a long history are none of these.
    subject, body = commit.subject, commit.body
    m = _GITHUB_MERGE.match(subject) if subject.startswith("Merge pull request #") else None
    m = m or (_GITLAB_MERGE.search(body) if "See merge request " in body else None)
    m = m or (_SUBJECT_PR.search(subject) if "(#" in subject else None)
    return int(m.group(1)) if m else None


def pr_links(commits: Sequence[Commit]) -> dict[str, list[PrLink]]:
    """Commit id -> its links from git alone (cases a and b). `commits` in topo order."""
    order: dict[str, int] = {}
    parents: dict[str, tuple[str, ...]] = {}
    links: dict[str, list[PrLink]] = {}
    squash_length = len(_SQUASH_COMMITTER)
    for c in commits:
        if len(c.parents) > 1:
            number = merge_request(c)
            if number is None:
                continue
            if not order:
                order = {x.id: i for i, x in enumerate(commits)}
                parents = {x.id: x.parents for x in commits}
            link = PrLink(number, "merge", c.id, c.author_email.lower())
            for inner in exclusive(order, parents, c.parents[1], c.parents[0]):
                links.setdefault(inner, []).append(link)
        elif (
            len(c.committer_email) == squash_length
            and c.committer_email.lower() == _SQUASH_COMMITTER
        ):
            m = _SUBJECT_PR.search(c.subject)
            if m:
                links.setdefault(c.id, []).append(PrLink(int(m.group(1)), "squash"))
    return links


def classify(
    commits: Sequence[Commit],
    emails: Mapping[str, str],
    settings: Settings,
    forge: ForgeReviews | None = None,
) -> list[CommitReview]:
    """Review status of every non-merge commit; `emails` maps trailer values (mailmapped)."""
    links = pr_links(commits)
    critical = path_matcher(settings.security_critical_paths)
    result = []
    for c in commits:
        if len(c.parents) > 1:
            continue
        prs = tuple(links.get(c.id, ()))
        if forge is not None and c.id in forge.commits:
            prs += (PrLink(forge.commits[c.id], "forge"),)
        result.append(_review(c, prs, emails, settings, forge, critical))
    return result


def _review(
    c: Commit,
    prs: tuple[PrLink, ...],
    emails: Mapping[str, str],
    settings: Settings,
    forge: ForgeReviews | None,
    critical: re.Pattern[str] | None,
) -> CommitReview:
    # Hot loop (once per commit of long histories): cheap tests first.
    author = c.author_email.lower()
    reviewers = [t for t in c.trailers if t[0] in REVIEW_KEYS] if c.trailers else []
    own = _own(c, author, emails) if reviewers or forge is not None else {author}
    # A value without an e-mail address maps to the author: never independent.
    independent = any(emails.get(v, author) not in own for _, v in reviewers)
    pr_merged = False
    if prs:
        pr_merged = any(link.via != "forge" for link in prs)
        independent = independent or any(
            link.via == "merge" and link.merge_author_email != author for link in prs
        )
    approvers = _approvers(prs, forge) if forge is not None else ()
    if approvers and not independent and forge is not None:
        independent = any(
            forge.mapped(login) and not ({emails.get(a, a) for a in forge.emails(login)} & own)
            for login in approvers
        )
    security = critical is not None and any(critical.match(p) for p in c.paths)
    return CommitReview(
        commit=c,
        prs=prs,
        forge_approvers=approvers,
        reviewed=bool(reviewers or approvers) or (pr_merged and settings.pr_merge_counts_as_review),
        independent=independent,
        pr_merged=pr_merged,
        security_critical=security,
        security_reviewed=security
        and any(
            k == "security-reviewed-by" and emails.get(v, author) not in own for k, v in reviewers
        ),
    )


def _own(c: Commit, author: str, emails: Mapping[str, str]) -> set[str]:
    """The author's and every co-author's address (after mailmap)."""
    own = {author}
    own.update(emails[v] for k, v in c.trailers if k == "co-authored-by" and v in emails)
    return own


def _approvers(prs: Sequence[PrLink], forge: ForgeReviews) -> tuple[str, ...]:
    found = {login for link in prs for login in forge.approvals.get(link.number, ())}
    return tuple(sorted(found))


def path_matcher(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for gitignore-like globs: `**` crosses directories, `*` and `?` do not.

    A pattern without wildcards matches that path and everything below it.
    """
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_glob(p)})" for p in patterns))


def _glob(pattern: str) -> str:
    # Every pattern is anchored at the repository root; `/dir/` and `dir/` both name dir.
    pattern = pattern.strip("/")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out) + "(?:/.*)?$"
