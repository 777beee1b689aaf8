"""Share the ledger branch through a git remote: fetch, reconcile, push.

Two CI jobs may append to their own copies of the branch at the same time. Whoever pushes
second is rejected (never force); it fetches the remote head, *replays* its local-only entries
on top of it — the same statements, re-chained with new sequence numbers and hashes — and
pushes again. Entries that were already pushed are never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sdl_tracker.errors import GitError, LedgerError
from sdl_tracker.gitdata import git
from sdl_tracker.ledger import append, entries, trust
from sdl_tracker.ledger.chain import Entry, Head
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.models import CHECKPOINT, Statement

#: Given the size of a batch, what signs its head again (`ledger.append(checkpoint=…)`).
Resign = Callable[[int], Callable[[Head], Statement]]

_PUSH_ATTEMPTS = 10


@dataclass(frozen=True)
class SyncResult:
    fetched: int
    """Entries the remote had that the local branch did not."""
    replayed: int
    """Local-only entries re-chained on top of the remote head."""
    pushed: bool


def _remote_ref(store: GitStore, remote: str) -> str:
    return f"refs/sdl-tracker/remotes/{remote}/{store.branch}"


def fetch(store: GitStore, remote: str) -> str | None:
    """Fetch the remote's ledger branch into a private ref; its commit id, or None if absent."""
    ref = _remote_ref(store, remote)
    proc = git.run(
        store.root,
        "fetch",
        "--quiet",
        "--no-tags",
        remote,
        f"+refs/heads/{store.branch}:{ref}",
        check=False,
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        if "couldn't find remote ref" in message:
            git.run(store.root, "update-ref", "-d", ref, check=False)
            return None
        raise GitError(f"git fetch {remote} {store.branch} failed: {message}")
    commit = git.resolve(store.root, ref)
    seen = _seen(store, remote)
    if seen and (commit is None or not _is_ancestor(store.root, seen, commit)):
        raise LedgerError(
            f"the ledger branch {store.branch} on {remote} was rewound or rewritten: it no "
            f"longer contains commit {seen[:12]}, which this repository saw there before. "
            "Nothing was appended or pushed. Find out who force-pushed it and restore it (your "
            "local branch or another clone still holds the entries); if the change was meant, "
            f"delete {_seen_path(store, remote)}"
        )
    return commit


def reconcile(
    store: GitStore, remote_commit: str | None, remote: str, resign: Resign | None = None
) -> tuple[int, int]:
    """Make the local branch contain the remote's entries, then its own local-only ones.

    Returns (entries taken from the remote, local entries replayed on top of it). With
    `resign` (the CI key of this run), each replayed batch that ended with a checkpoint is
    signed again over its new place; without it those checkpoints are dropped.
    """
    if remote_commit is None:
        return 0, 0
    store.ensure_not_checked_out()  # before the branch moves (a symbolic ref: another branch)
    local_commit = git.resolve(store.root, store.ref)
    seen = _seen(store, remote)
    if seen and local_commit and not _is_ancestor(store.root, seen, local_commit):
        raise LedgerError(
            f"the local ledger branch {store.branch} was rewound: it no longer contains commit "
            f"{seen[:12]}, which it held after the last exchange with {remote}. Nothing was "
            f"appended or pushed; restore it with `git update-ref refs/heads/{store.branch} "
            f"{seen}` after checking why it moved back"
        )
    counts = _reconcile(store, remote_commit, local_commit, resign)
    _remember(store, remote, remote_commit)
    return counts


def _reconcile(
    store: GitStore, remote_commit: str, local_commit: str | None, resign: Resign | None = None
) -> tuple[int, int]:
    if local_commit is None:
        git.run(store.root, "update-ref", "--no-deref", store.ref, remote_commit, "0" * 40)
        return len(list(entries(_at(store, remote_commit)))), 0
    if local_commit == remote_commit or _is_ancestor(store.root, remote_commit, local_commit):
        return 0, 0
    remote = _at(store, remote_commit)
    remote_entries = list(entries(remote))
    local_entries = list(entries(store))
    if _is_ancestor(store.root, local_commit, remote_commit):
        git.run(store.root, "update-ref", "--no-deref", store.ref, remote_commit, local_commit)
        return len(remote_entries) - len(local_entries), 0
    shared = _common_prefix(local_entries, remote_entries)
    local_only = local_entries[shared:]
    objects = _objects(store, local_only)
    # A local checkpoint signs the local head, which the replay re-chains: replayed, it would
    # contradict the chain. It is dropped, and with this run's CI key (`resign`) its batch is
    # signed again where it lands; without it the replayed entries stay uncovered.
    batches = _batches(local_only)
    # Re-chain on the remote head: move our branch to the remote commit, then append. Our
    # local-only entries get new hashes, so the entry remembered as verified may go.
    git.run(store.root, "update-ref", "--no-deref", store.ref, remote_commit, local_commit)
    trust.forget(store)
    replayed = 0
    for statements, signed in batches:
        again = resign(len(statements)) if signed and resign is not None else None
        append(store, statements, objects, checkpoint=again)
        replayed += len(statements)
    return len(remote_entries) - shared, replayed


def _batches(local: list[Entry]) -> list[tuple[list[Statement], bool]]:
    """The local statements in runs, each ending where a checkpoint closed it (True) or at
    the end (False); the checkpoints themselves left out."""
    found: list[tuple[list[Statement], bool]] = []
    run: list[Statement] = []
    for entry in local:
        st = entry.statement()
        if st.predicate.kind == CHECKPOINT:
            if run:
                found.append((run, True))
            run = []
        else:
            run.append(st)
    if run:
        found.append((run, False))
    return found


def push(store: GitStore, remote: str, resign: Resign | None = None) -> SyncResult:
    """Push the branch; on rejection fetch, replay (signing replayed batches again with
    `resign`) and retry. Never forces."""
    fetched = replayed = 0
    for _ in range(_PUSH_ATTEMPTS):
        got, moved = reconcile(store, fetch(store, remote), remote, resign)
        fetched, replayed = fetched + got, replayed + moved
        proc = git.run(
            store.root,
            "push",
            "--quiet",
            "--porcelain",
            remote,
            f"{store.ref}:refs/heads/{store.branch}",
            check=False,
        )
        if proc.returncode == 0:
            pushed = git.resolve(store.root, store.ref)
            if pushed:
                _remember(store, remote, pushed)
            return SyncResult(fetched=fetched, replayed=replayed, pushed=True)
        text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        if "rejected" not in text and "fetch first" not in text and "non-fast-forward" not in text:
            raise GitError(f"git push {remote} {store.branch} failed: {text.strip()}")
    raise LedgerError(
        f"could not push {store.branch} to {remote} after {_PUSH_ATTEMPTS} attempts: "
        "another writer keeps moving it; run `sdl-tracker ci` again"
    )


def _seen_path(store: GitStore, remote: str) -> Path:
    """Where the last remote ledger commit seen is kept (in .git: never shared, never pushed)."""
    common = git.out(store.root, "rev-parse", "--git-common-dir")
    name = f"{remote}-{store.branch}".replace("/", "%2F")
    return store.root / common / "sdl-tracker" / f"remote-head-{name}"


def _seen(store: GitStore, remote: str) -> str | None:
    try:
        return _seen_path(store, remote).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _remember(store: GitStore, remote: str, commit: str) -> None:
    path = _seen_path(store, remote)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(commit + "\n", encoding="ascii")
    except OSError:
        pass  # a read-only repository: the next run cannot compare, as on a fresh clone


def _at(store: GitStore, commit: str) -> GitStore:
    """A read-only view of the ledger as of `commit`."""
    return GitStore(store.root, store.branch, at=commit)


def _is_ancestor(root: Path, a: str, b: str) -> bool:
    return git.run(root, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def _common_prefix(local: list[Entry], remote: list[Entry]) -> int:
    shared = 0
    for mine, theirs in zip(local, remote):
        if mine.hash != theirs.hash:
            break
        shared += 1
    return shared


def _objects(store: GitStore, chosen: list[Entry]) -> dict[str, bytes]:
    objects = {}
    for entry in chosen:
        for sha in entry.objects:
            data = store.read_object(sha)
            if data is None:
                raise LedgerError(f"entry {entry.seq}: artifact sha256:{sha} missing locally")
            objects[sha] = data
    return objects
