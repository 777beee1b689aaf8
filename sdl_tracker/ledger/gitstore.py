"""The embedded default store: an orphan branch of the user's repository, written with plumbing.

Layout of the branch's tree::

    README.txt                                   what this branch is
    entries/<first seq // 10000, 8 digits>/<first seq, 12 digits>.jsonl   one file per batch
    objects/<2 hex>/<62 hex>                     artifacts, by SHA-256

Each batch is one commit made by `git fast-import` (objects, tree and commit in one process),
whose message carries the head marker (`Ledger-Seq:` / `Ledger-Hash:` trailers). The branch then
moves with `git update-ref <ref> <new> <old>` inside a ref transaction: compare-and-swap, so
concurrent writers never lose an entry. Neither the work tree, the index nor HEAD is touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from sdl_tracker.errors import GitError, HeadMoved, LedgerError
from sdl_tracker.gitdata import git
from sdl_tracker.ledger.chain import Entry, Head, Segment
from sdl_tracker.ledger.store import Object, copy, size_of, write_failed

ZERO_OID = "0" * 40
_BIG_BATCH = 1 << 20  # bytes
# fast-import keeps a blob in memory up to this size, and streams a larger one into the pack.
_STREAM_OVER = "1m"
# How update-ref (LC_ALL=C) says the ref is not at the expected commit: another writer won.
_MOVED = ("but expected", "reference already exists", "reference is missing")
_OS_FAILURES = (
    "No space left on device",
    "Out of diskspace",
    "Read-only file system",
    "Permission denied",
    "Disk quota exceeded",
)
_TRAILERS = re.compile(rb"^Ledger-Seq: (\d+)\nLedger-Hash: ([0-9a-f]{64})$", re.MULTILINE)
_README = b"""This branch is an sdl-tracker conformance ledger (IEC 62443-4-1 evidence).

It is written by `sdl-tracker` with git plumbing and is append-only: never rebase, amend or
force-push it. Verify it offline with `sdl-tracker ledger verify`.

entries/  hash-chained evidence entries, RFC 8785 canonical JSON, one line each
objects/  the artifacts the entries name, stored by SHA-256
"""


def entries_path(first_seq: int) -> str:
    return f"entries/{first_seq // 10000:08d}/{first_seq:012d}.jsonl"


def object_path(sha256: str) -> str:
    return f"objects/{sha256[:2]}/{sha256[2:]}"


class GitStore:
    """A ledger on branch `branch` of the repository at `root`."""

    def __init__(self, root: Path, branch: str = "sdl-ledger", *, at: str | None = None) -> None:
        self.root = root
        self.branch = branch
        self.ref = at or f"refs/heads/{branch}"
        """What is read: the branch, or (`at`) a fixed commit for a read-only view."""
        self._ident: str | None = None
        self._lock_path: Path | None = None
        self.written = ""
        """The commit of this object's last append ("" before one)."""
        self._branch_checked = False

    @property
    def location(self) -> str:
        return f"branch {self.branch} of {self.root}"

    def _tip(self) -> tuple[str, Head | None] | None:
        """(commit id, head marker) of the branch, or None when the branch does not exist."""
        proc = git.run(self.root, "cat-file", "--batch", input=f"{self.ref}\n".encode())
        header, _, body = proc.stdout.partition(b"\n")
        parts = header.split()
        if len(parts) != 3 or parts[1] != b"commit":
            if header.endswith(b"missing"):
                return None
            raise LedgerError(f"{self.location}: {self.ref} is not a commit ({header!r})")
        found = _TRAILERS.findall(body)
        head = Head(seq=int(found[-1][0]), hash=found[-1][1].decode()) if found else None
        return parts[0].decode(), head

    def exists(self) -> bool:
        return self._tip() is not None

    def ensure_not_checked_out(self) -> None:
        """LedgerError when the branch is checked out in a work tree (see `check_branch`)."""
        if not self._branch_checked and self.ref == f"refs/heads/{self.branch}":
            check_branch(self.root, self.branch)
            self._branch_checked = True

    def commit(self) -> str | None:
        """The commit the ledger is read from, or None when the branch does not exist."""
        tip = self._tip()
        return tip[0] if tip else None

    def head(self) -> Head | None:
        tip = self._tip()
        if tip is None:
            raise LedgerError(self._missing())
        return tip[1]

    def _missing(self) -> str:
        return (
            f"no ledger: {self.location} does not exist. Run `sdl-tracker init` to create it, "
            f"or `git fetch origin {self.branch}:{self.branch}` to get the shared one"
        )

    def create(self) -> bool:
        self.ensure_not_checked_out()
        with self._writer_lock():
            if self.exists():
                return False
            commit = self._commit(
                None, "sdl-ledger: create the ledger\n", {"README.txt": ("", _README)}
            )
            try:
                self._move(commit, ZERO_OID)
            except HeadMoved:
                return False
            return True

    def append(
        self, entries: Sequence[Entry], objects: Mapping[str, Object], *, expected: Head | None
    ) -> None:
        if not entries:
            return
        self.ensure_not_checked_out()
        with self._writer_lock():
            tip = self._tip()
            if tip is None:
                raise LedgerError(self._missing())
            parent, head = tip
            if head != expected:
                raise HeadMoved(f"{self.location}: head moved to {head}, expected {expected}")
            first, last = entries[0], entries[-1]
            files: dict[str, tuple[str, Object]] = {
                entries_path(first.seq): ("", b"".join(e.raw + b"\n" for e in entries))
            }
            files.update((object_path(sha), (sha, data)) for sha, data in objects.items())
            message = (
                f"sdl-ledger: entries {first.seq}..{last.seq}\n\n"
                f"Ledger-Seq: {last.seq}\nLedger-Hash: {last.hash}\n"
            )
            commit = self._commit(parent, message, files)
            self._move(commit, parent)
            self.written = commit

    def _writer_lock(self) -> contextlib.AbstractContextManager[None]:
        """Serialise this machine's writers around check, commit and compare-and-swap.

        The compare-and-swap alone keeps the ledger correct, but with writers racing most of
        them build a commit only to lose at `update-ref` (8 writers: ~5 wasted fast-imports per
        entry). Holding this lock, a writer that is behind learns so from one `cat-file`.
        """
        if self._lock_path is None:
            common = git.out(self.root, "rev-parse", "--git-common-dir")
            self._lock_path = self.root / common / "sdl-tracker-ledger.lock"
        return _flock(self._lock_path)

    def _commit(
        self, parent: str | None, message: str, files: Mapping[str, tuple[str, Object]]
    ) -> str:
        """Write blobs, tree and commit in one `git fast-import`; return the commit id.

        `files` maps each path to (the SHA-256 an artifact must have, or "", its bytes). The
        stream is written to fast-import as it is made, artifacts in pieces (`data <count>`,
        then the bytes): nothing is held in memory whole, and fast-import streams a blob over
        `_STREAM_OVER` straight into its pack. fast-import needs a branch to commit on; `reset`
        drops it again before fast-import writes any ref, so no temporary ref exists on disk
        (none to leak if we are killed, and no second `update-ref` to delete it). `_move` then
        points the ledger at the commit.
        """
        temp_ref = f"refs/sdl-tracker/tmp/{os.getpid()}-{secrets.token_hex(6)}"
        if self._ident is None:
            self._ident = _committer(self.root)
        ident = self._ident
        msg = message.encode()

        def stream() -> Iterator[bytes]:
            yield f"commit {temp_ref}\nmark :1\n".encode()
            yield f"committer {ident} {int(time.time())} +0000\n".encode()
            yield b"data %d\n%s\n" % (len(msg), msg)
            if parent:
                yield f"from {parent}\n".encode()
            for path, (sha, data) in files.items():
                yield b"M 100644 inline %s\ndata %d\n" % (path.encode(), size_of(data))
                yield from copy(sha, data)
                yield b"\n"
            yield f"\nget-mark :1\nreset {temp_ref}\n\ndone\n".encode()

        # A big batch stays one pack, as a fetch would leave it. Under 100 objects fast-import
        # otherwise explodes its pack into loose objects, inflating and deflating every byte a
        # second time: half of git's cost at 10,000 entries a batch (benchmarks/ledger.py).
        big = ("-c", "fastimport.unpackLimit=0", "-c", "pack.compression=1")
        total = sum(size_of(data) for _, data in files.values())
        leftovers = self._leftovers()
        before = set(leftovers())

        def clean() -> None:
            # fast-import leaves a crash report and its half-written pack behind: ours go.
            for leftover in set(leftovers()) - before:
                with contextlib.suppress(OSError):
                    leftover.unlink()

        try:
            proc = git.feed(
                self.root,
                *(big if total > _BIG_BATCH else ()),
                "fast-import",
                "--quiet",
                "--done",
                f"--big-file-threshold={_STREAM_OVER}",
                chunks=stream(),
            )
        except BaseException:  # an artifact changed while copied, or we were interrupted
            clean()
            raise
        if proc.returncode != 0:
            clean()
            message = proc.stderr.decode("utf-8", "replace")
            if any(words in message for words in _OS_FAILURES):
                raise write_failed(self.location, message)
            raise GitError(f"git fast-import failed: {message}")
        return proc.stdout.decode().split()[-1]

    def _leftovers(self) -> Callable[[], Iterator[Path]]:
        git_dir = self.root / git.out(self.root, "rev-parse", "--git-dir")
        pack = self.root / git.out(self.root, "rev-parse", "--git-path", "objects/pack")

        def found() -> Iterator[Path]:
            yield from git_dir.glob("fast_import_crash_*")
            yield from pack.glob("tmp_pack_*")
            yield from pack.glob("tmp_idx_*")

        return found

    def _move(self, new: str, old: str) -> None:
        # --no-deref: had the ledger ref become a symbolic ref since `check_branch` refused
        # one, plain update-ref would move the branch it names (a working branch) instead.
        proc = git.run(self.root, "update-ref", "--no-deref", self.ref, new, old, check=False)
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip()
            if any(words in message for words in _MOVED):
                raise HeadMoved(f"{self.location} moved: {message}")
            if any(words in message for words in _OS_FAILURES):
                raise write_failed(self.location, message)
            # Anything else, typically a `<ref>.lock` left behind by a killed git, fails the
            # same way on every retry: give git's own diagnosis instead of "head moved".
            raise GitError(f"{self.location}: git update-ref failed: {message}")

    def snapshot(self) -> tuple[Head | None, Iterator[Segment]]:
        self.ensure_not_checked_out()
        tip = self._tip()
        if tip is None:
            raise LedgerError(self._missing())
        commit, head = tip
        return head, self._segments(commit)

    def _segments(self, commit: str) -> Iterator[Segment]:
        listing = git.run(self.root, "ls-tree", "-r", "-z", commit, "--", "entries").stdout
        blobs: list[tuple[str, str]] = []
        for item in listing.split(b"\0"):
            if not item:
                continue
            meta, _, raw_path = item.partition(b"\t")
            blobs.append((meta.split()[2].decode(), raw_path.decode("utf-8", "replace")))
        if not blobs:
            return
        with CatFile(self.root) as cat:
            for oid, path in blobs:
                data = cat.read(oid)
                if data is None:
                    raise LedgerError(f"{self.location}: {path} is listed but its blob is missing")
                yield Segment(where=f"{self.branch}:{path}", data=data)

    def read_object(self, sha256: str) -> bytes | None:
        proc = git.run(
            self.root, "cat-file", "blob", f"{self.ref}:{object_path(sha256)}", check=False
        )
        return proc.stdout if proc.returncode == 0 else None

    def object_reader(self) -> CatFile:
        """A persistent reader for many artifacts (used by verify)."""
        return CatFile(self.root, prefix=f"{self.ref}:")


class CatFile:
    """One `git cat-file --batch` process answering many object look-ups."""

    def __init__(self, root: Path, prefix: str = "") -> None:
        self.prefix = prefix
        self.proc = git.popen(root, "cat-file", "--batch")

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc.wait()

    def read(self, name: str) -> bytes | None:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{self.prefix}{name}\n".encode())
        self.proc.stdin.flush()
        header = self.proc.stdout.readline()
        parts = header.split()
        if len(parts) != 3 or not parts[2].isdigit():
            return None  # "<name> missing" (or ambiguous): no body follows
        data = self.proc.stdout.read(int(parts[2]))
        self.proc.stdout.read(1)
        # A tree or commit where a blob belongs (a forged path): its body is read all the
        # same, or the next answer would be read from the middle of it.
        return data if parts[1] == b"blob" else None

    def read_object(self, sha256: str) -> bytes | None:
        return self.read(object_path(sha256))


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise write_failed(f"{path.parent}", e) from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock (as the kernel does when we are killed)


def check_branch(root: Path, branch: str) -> None:
    """LedgerError when `branch` could be a working branch of the repository at `root`.

    The ledger branch is written with plumbing only; checked out, the next `git commit` would
    land on it, and `git commit -a` in a work tree of another history would delete its entries.
    Refused: a branch checked out in any work tree (HEAD resolved through symbolic refs, as
    `git worktree list` reports it); with `core.ignorecase`, a name equal to a checked-out
    branch's but for case (one loose ref file for both); and a ledger ref that is itself a
    symbolic ref (`update-ref` writes through it, onto the branch it names). A git failure is
    a GitError: the check fails closed, never "not checked out".
    """
    ref = f"refs/heads/{branch}"
    proc = git.run(root, "worktree", "list", "--porcelain", check=False)
    if proc.returncode != 0:
        raise GitError(
            f"cannot tell whether the ledger branch {branch!r} is checked out: git worktree "
            f"list failed: {proc.stderr.decode('utf-8', 'replace').strip()}"
        )
    worktree = ""
    same_but_case: list[tuple[str, str]] = []
    # Names are compared as the branch name arrived (argv: undecodable bytes as surrogates):
    # "replace" would make a branch named with a byte that is not UTF-8 equal to none.
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("worktree "):
            worktree = line[len("worktree ") :]
        elif line == f"branch {ref}":
            raise LedgerError(_checked_out(branch, worktree))
        elif line.startswith("branch ") and line[len("branch ") :].lower() == ref.lower():
            same_but_case.append((line[len("branch refs/heads/") :], worktree))
    if same_but_case and _ignorecase(root):
        name, worktree = same_but_case[0]
        raise LedgerError(
            f"the ledger branch {branch!r} differs only in case from the branch {name!r} "
            f"checked out in the work tree {worktree}, and this repository ignores case "
            "(core.ignorecase): both names are one ref, so the ledger would be a working "
            f"branch. {_ELSEWHERE}"
        )
    symref = git.run(root, "symbolic-ref", "--quiet", ref, check=False)
    if symref.returncode == 0:
        target = symref.stdout.decode("utf-8", "surrogateescape").strip()
        raise LedgerError(
            f"the ledger branch {branch!r} is a symbolic ref to {target}: every ledger "
            f"commit would be written onto {target}. Delete the symbolic ref (`git "
            f"symbolic-ref --delete {ref}`; {target} is left as it is) and run `sdl-tracker "
            "init` again to create the ledger branch, or name another branch for the ledger "
            "(`[ledger] branch` / `init --branch NAME`)"
        )
    if symref.returncode != 1:  # 1: not a symbolic ref (or no such ref)
        raise GitError(
            f"cannot tell whether the ledger branch {branch!r} is a symbolic ref: git "
            f"symbolic-ref failed: {symref.stderr.decode('utf-8', 'replace').strip()}"
        )


_ELSEWHERE = (
    "Keep the ledger on a branch of its own: `[ledger] branch` / `init --branch NAME` "
    "(default sdl-ledger)"
)


def _checked_out(branch: str, worktree: str) -> str:
    return (
        f"the ledger branch {branch!r} is checked out in the work tree {worktree}: the "
        "ledger must never be a working branch (the next commit there would land on it, "
        f"or delete its entries). {_ELSEWHERE}, and check out another branch in {worktree}"
    )


def _ignorecase(root: Path) -> bool:
    """git's `core.ignorecase` for the repository at `root` (GitError if git cannot say)."""
    return git.out(root, "config", "--bool", "--default", "false", "core.ignorecase") == "true"


def _committer(root: Path) -> str:
    try:
        ident = git.identity(root)
    except GitError:
        ident = "sdl-tracker <sdl-tracker@localhost>"
    if "<" not in ident or ident.endswith("<>"):
        ident = "sdl-tracker <sdl-tracker@localhost>"
    return ident
