"""The CI key that signs checkpoints: found, checked against the roster and the ledger before
anything is appended (so a bad key is exit 2 with nothing half-written)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sdl_tracker.conformance.checkpoints import Key
    from sdl_tracker.ledger.chain import Head
    from sdl_tracker.ledger.store import Store
    from sdl_tracker.models import Statement
    from sdl_tracker.workspace import Workspace

ENV = "SDL_TRACKER_SIGNING_KEY"


def key_from_env(environ: Mapping[str, str] | None = None) -> Path | None:
    """SDL_TRACKER_SIGNING_KEY, read by the commands' `main` only (never by `run`)."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(value).expanduser() if value else None


def prepare(
    ws: Workspace, store: Store, key: Path | None, now: datetime | None = None
) -> Key | None:
    """The checked CI key (`key`, else `[ledger] signing_key`), or None when there is none.

    InputError (exit 2) when the key cannot sign, is committed to the repository, is not a
    roster person's with the ci role, or when the ledger's checkpoints already fail (a signer
    never vouches for a ledger that contradicts its last checkpoint). Without a committed
    roster nothing is signed, and a note says so.
    """
    from sdl_tracker import ledger
    from sdl_tracker.conformance import checkpoints
    from sdl_tracker.conformance.trust import read_roster
    from sdl_tracker.gitdata import git

    source = ENV if key is not None else "[ledger] signing_key"
    key = key if key is not None else ws.config.ledger_signing_key
    if key is None:
        return None
    root = ws.repo()
    tracked = git.run(root, "ls-files", "--error-unmatch", "--", str(key), check=False)
    if tracked.returncode == 0:
        raise InputError(
            f"{source} {key}: this private key is committed to the repository; anyone who can "
            "read it can sign checkpoints. Remove it from git (and its history), make a new "
            "one with `sdl-tracker keygen`, and give it to CI as a secret"
        )
    commit = git.resolve(root, "HEAD")
    roster = read_roster(root, commit) if commit else None
    if roster is None:
        output.err(
            f"note: {source} {key} given but no sdl-roster.yaml is committed: checkpoints are "
            "not signed (the roster must name the key with role ci)"
        )
        return None
    signer = checkpoints.resolve(key, roster, source, now)
    if not store.exists():
        return signer
    found, count = [], 0
    for entry in ledger.entries(store):
        count = entry.seq
        if checkpoints.is_checkpoint(entry):
            found.append(entry)
    checked = checkpoints.report(found, count, roster)
    retired = [c for c in checked.bad if c.retired and not c.contradicts]
    blocking = [c for c in checked.bad if c not in retired]
    for c in retired:  # a revoked or rotated key: this run's checkpoint covers what it signed
        output.err(f"note: checkpoint entry {c.seq}: {c.why}; the checkpoint made now covers it")
    if blocking:
        first = blocking[0]
        raise InputError(
            f"{store.location}: checkpoint entry {first.seq} is bad ({first.why}); refusing to "
            "sign a ledger that contradicts its checkpoints. Run `sdl-tracker ledger verify` "
            "and restore the ledger from a copy that verifies"
        )
    return signer


def maker(
    key: Key | None,
    *,
    collector: str,
    who: str,
    commit: str | None,
    now: datetime,
    count: int = 1,
) -> Callable[[Head], Statement] | None:
    """The `checkpoint=` argument of `ledger.append` for this key and a batch of `count`
    entries (None: unsigned)."""
    if key is None:
        return None
    return key.maker(collector=collector, who=who, commit=commit, now=now, count=count)


def resigner(
    ws: Workspace, key: Path | None, *, who: str, commit: str | None, now: datetime
) -> Callable[[int], Callable[[Head], Statement]] | None:
    """What signs again the batches `ledger sync` replays after a concurrent push (None: no
    key). The key and the ledger were checked by this run's collect and gate."""
    from sdl_tracker.conformance import checkpoints
    from sdl_tracker.conformance.trust import read_roster
    from sdl_tracker.gitdata import git

    source = ENV if key is not None else "[ledger] signing_key"
    key = key if key is not None else ws.config.ledger_signing_key
    head = git.resolve(ws.repo(), "HEAD")
    roster = read_roster(ws.repo(), head) if key is not None and head else None
    if key is None or roster is None:
        return None
    signer = checkpoints.resolve(key, roster, source, now)

    def resign(count: int) -> Callable[[Head], Statement]:
        return signer.maker(collector="ci", who=who, commit=commit, now=now, count=count)

    return resign
