"""A model file's git history: its last commit, and what its components' files did since."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sdl_tracker.gitdata import git

_QUOTE = ("-c", "core.quotePath=false")  # file names as they are, not octal-escaped


@dataclass(frozen=True)
class History:
    """What git says about one model file at the evaluated commit."""

    commit: str | None
    """The last commit (up to the evaluated one) that changed the model; None: never committed."""
    committed_at: datetime | None
    dirty: bool
    """The work-tree file differs from the committed one (or is not tracked)."""
    changed: tuple[str, ...] = ()
    """Files the model's components own that changed in commits after `commit`."""


def history(root: Path, head: str, model: str, owned: Sequence[str]) -> History:
    """The history of `model` (repository-relative) and of the `owned` globs up to `head`."""
    dirty = bool(git.out(root, *_QUOTE, "status", "--porcelain", "--", model))
    line = git.out(root, *_QUOTE, "log", "-1", "--format=%H %ct", head, "--", model)
    if not line:
        return History(None, None, dirty)
    commit, stamp = line.split()
    committed_at = datetime.fromtimestamp(int(stamp), tz=timezone.utc)
    changed: tuple[str, ...] = ()
    if owned:
        # Not git.out: str.strip() counts the \x1c-\x1f separators as white space.
        log = git.run(
            root,
            *_QUOTE,
            "log",
            "--no-renames",
            "--format=%x1e%(trailers:key=Threat-Model,valueonly,separator=%x1f)%x1d",
            "--name-only",
            f"{commit}..{head}",
            "--",
            *(f":(glob){p}" for p in owned),
        ).stdout.decode("utf-8", "replace")
        changed = tuple(sorted(set(_unjustified(log)) - {model}))
    return History(commit, committed_at, dirty, changed)


def _unjustified(log: str) -> list[str]:
    """Changed files of the commits that do not say `Threat-Model: unchanged <reason>`.

    The sdl-commit-msg hook asks for that trailer when owned files change without the model;
    a commit carrying it has been judged not to affect the model, so it does not make it stale.
    """
    names: list[str] = []
    for record in log.split("\x1e"):
        trailers, _, files = record.partition("\x1d")
        if any(v.strip().lower().startswith("unchanged") for v in trailers.split("\x1f")):
            continue
        names.extend(n for n in files.splitlines() if n)
    return names
