"""Bulk commit history from ONE `git log` call: ranges, commits with trailers, mailmap.

A per-commit object API (GitPython's `Commit.trailers_list`) forks a process per commit and
misses trailers after a `---` line; `git log --format` with `%(trailers)` lets git parse the
trailers and streams every field we need in one pass.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import git

#: Trailer keys read from every commit (git matches them case-insensitively, whole key).
TRAILER_KEYS = (
    "Reviewed-by",
    "Acked-by",
    "Approved-by",
    "Security-Reviewed-by",
    "Co-authored-by",
    "Signed-off-by",
)
_TRAILERS = ",".join(f"key={k}" for k in TRAILER_KEYS)
#: Fields: id, parents, author name and e-mail (mailmapped), committer e-mail (raw),
#: trailers (separated by GS), subject, body. Records start with RS; fields are split by US.
LOG_FORMAT = (
    f"%x1e%H%x1f%P%x1f%aN%x1f%aE%x1f%ce%x1f%(trailers:{_TRAILERS},unfold,separator=%x1d)"
    "%x1f%s%x1f%b"
)
_HEX_ID = re.compile(rb"^[0-9a-f]{40}([0-9a-f]{24})?\x1f")
_CONTACT = re.compile(r"^(.*?)\s*<([^<>\s]+)>\s*$")
_BARE_EMAIL = re.compile(r"^[^<>\s@]+@[^<>\s]+$")


@dataclass(frozen=True)
class Range:
    """The commits `base..head` (every commit reachable from `head` when `base` is None)."""

    head: str
    base: str | None
    base_ref: str | None
    """What named the base: the release tag found, or the `--since` REF."""
    how: str
    """`previous-tag`, `since`, `all`, or `no-tag` (no earlier release tag: whole history)."""

    def args(self) -> tuple[str, ...]:
        return (f"{self.base}..{self.head}",) if self.base else (self.head,)

    def describe(self) -> str:
        if self.base is None:
            return "the whole history"
        return f"{self.base_ref}..HEAD"


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit as read from the bulk log."""

    id: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    """After `.mailmap`, as git prints `%aE`."""
    committer_email: str
    """As recorded (`%ce`, no mailmap)."""
    trailers: tuple[tuple[str, str], ...]
    """(key lower-cased, value) of the TRAILER_KEYS trailers, folded lines unfolded."""
    subject: str
    body: str
    """Only read for merge commits (empty otherwise): GitLab names the merge request there."""
    paths: tuple[str, ...]
    """Paths the commit changed (`--name-only --no-renames`; empty for merges)."""

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def commit_range(
    root: Path,
    head: str,
    *,
    since: str | None = None,
    all_history: bool = False,
    tag_pattern: str = "v*",
) -> Range:
    """`--since REF`, `--all`, else since the previous release tag (`describe HEAD^`)."""
    if since and all_history:
        raise InputError("--since and --all exclude each other: give one of them")
    if all_history:
        return Range(head=head, base=None, base_ref=None, how="all")
    if since:
        base = git.resolve(root, since)
        if base is None:
            raise InputError(
                f"--since {since!r}: names no commit in {root}; give a tag, branch or commit "
                "id (e.g. --since v1.2.0), or --all for the whole history"
            )
        return Range(head=head, base=base, base_ref=since, how="since")
    proc = git.run(
        root, "describe", "--tags", "--abbrev=0", "--match", tag_pattern, f"{head}^", check=False
    )
    tag = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not tag:
        return Range(head=head, base=None, base_ref=None, how="no-tag")
    return Range(head=head, base=git.resolve(root, tag), base_ref=tag, how="previous-tag")


def shallow_cut(root: Path, commits: Iterable[str]) -> list[str]:
    """Commits whose parents a shallow clone does not have: the range is cut short there."""
    where = Path(git.out(root, "rev-parse", "--git-path", "shallow"))
    path = where if where.is_absolute() else root / where
    if not path.is_file():
        return []
    grafted = set(path.read_text(encoding="ascii", errors="replace").split())
    return [c for c in commits if c in grafted]


SHALLOW_HINT = (
    "the clone is shallow and the range reaches its cut-off: fetch the history "
    "(git fetch --unshallow, or fetch-depth: 0 in actions/checkout) and collect again"
)


def log_args(rng: Range) -> list[str]:
    """The one `git log` command line (after `git -C root`) that reads the whole range."""
    return [
        "-c",
        "core.quotePath=false",
        "log",
        "-z",
        "--topo-order",
        "--name-only",
        "--no-renames",
        f"--format={LOG_FORMAT}",
        *rng.args(),
        "--",
    ]


def read(root: Path, rng: Range) -> list[Commit]:
    """Every commit of the range (merges included), children before parents.

    The output is parsed while git still writes it, so on two cores the parsing is mostly
    hidden behind git's own work.
    """
    return parse(git.stream(root, *log_args(rng)))


def parse(chunks: Iterable[bytes]) -> list[Commit]:
    """Parse the output of `log_args`; non-UTF-8 bytes are replaced, never fatal."""
    return [_commit(record.decode("utf-8", "replace")) for record in _records(chunks)]


def _records(chunks: Iterable[bytes]) -> Iterator[bytes]:
    # A message could contain RS itself: a fragment that does not start with an object id
    # belongs to the record before it.
    current: bytes | None = None
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\x1e")
        rest = parts.pop()
        for part in parts:
            if _HEX_ID.match(part):
                if current is not None:
                    yield current
                current = part
            elif current is not None:
                current += b"\x1e" + part
    if rest:
        if current is not None and not _HEX_ID.match(rest):
            current += b"\x1e" + rest
        else:
            if current is not None:
                yield current
            current = rest
    if current is not None:
        yield current


def _commit(record: str) -> Commit:
    header, _, names = record.partition("\0")
    h, parents, name, email, cmail, trailers, rest = header.split("\x1f", 6)
    subject, _, body = rest.partition("\x1f")
    parent_ids = tuple(parents.split())
    return Commit(
        id=h,
        parents=parent_ids,
        author_name=name,
        author_email=email,
        committer_email=cmail,
        trailers=_trailers(trailers) if trailers else (),
        subject=subject,
        body=body if len(parent_ids) > 1 else "",
        paths=_paths(names) if names else (),
    )


def _trailers(raw: str) -> tuple[tuple[str, str], ...]:
    result = []
    for item in raw.split("\x1d"):
        key, _, value = item.partition(":")
        result.append((key.strip().lower(), value.strip()))
    return tuple(result)


def _paths(raw: str) -> tuple[str, ...]:
    # `-z` output: NUL, newline, then NUL-terminated names.
    return tuple(raw[1:].split("\0")[:-1]) if raw.startswith("\n") else ()


def email_of(value: str) -> str | None:
    """The address in a `Name <email>` (or bare `email`) trailer value, else None."""
    m = _CONTACT.match(value)
    if m:
        return m.group(2)
    return value if _BARE_EMAIL.match(value) else None


def mailmap(root: Path, values: Iterable[str]) -> dict[str, str]:
    """Trailer value -> lower-cased e-mail after `.mailmap` (one `git check-mailmap` call).

    git applies the mailmap to `%aE` but never to trailers, so they are mapped here. Values
    without an e-mail address are left out.
    """
    contacts: dict[str, str] = {}
    for value in values:
        m = _CONTACT.match(value)
        if m:
            contacts[value] = f"{m.group(1).strip()} <{m.group(2)}>"
        elif _BARE_EMAIL.match(value):
            contacts[value] = f"<{value}>"
    if not contacts:
        return {}
    keys = list(contacts)
    stdin = "".join(f"{contacts[k]}\n" for k in keys).encode()
    lines = git.run(root, "check-mailmap", "--stdin", input=stdin).stdout.splitlines()
    result = {}
    for key, line in zip(keys, lines):
        mapped = email_of(line.decode("utf-8", "replace"))
        result[key] = (mapped or contacts[key]).lower()
    return result


def exclusive(
    order: Mapping[str, int], parents: Mapping[str, Sequence[str]], include: str, exclude: str
) -> list[str]:
    """Commits of `exclude..include` (ancestors of include, not of exclude) within the range.

    `order` is each range commit's position in topological order (children first). Both sides
    are painted down together in that order, the way git's merge-base walk does, and the walk
    stops as soon as nothing unique to `include` is left, so a short-lived branch costs only
    its own length. Paths from outside the range can never reach back into it, so restricting
    the walk to range commits is exact for them.
    """
    flags: dict[str, int] = {}
    heap: list[tuple[int, str]] = []
    for commit, flag in ((include, 2), (exclude, 1)):
        if commit in order:
            flags[commit] = flags.get(commit, 0) | flag
            heapq.heappush(heap, (order[commit], commit))
    pending = 1 if flags.get(include) == 2 else 0  # queued commits painted by include only
    found = []
    while pending:
        _, commit = heapq.heappop(heap)
        flag = flags[commit]
        if flag == 2:
            pending -= 1
            found.append(commit)
        for parent in parents.get(commit, ()):
            if parent not in order:
                continue
            old = flags.get(parent, 0)
            new = old | flag
            if new == old:
                continue
            flags[parent] = new
            if old == 0:
                heapq.heappush(heap, (order[parent], parent))
                pending += new == 2
            elif old == 2:
                pending -= 1
    return found
