"""An artifact given as a file is hashed and stored in pieces: constant memory, and the bytes
stored are checked again against the hash while they are copied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.pgstore import PgStore
from sdl_tracker.ledger.store import Store

MiB = 1 << 20


@pytest.fixture(params=["git", "dir", "pg"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made: Store
    if request.param == "git":
        made = GitStore(request.getfixturevalue("git_repo"))
    elif request.param == "dir":
        made = DirStore(tmp_path / "ledger")
    else:
        made = PgStore(request.getfixturevalue("pg_url"), "streamed")
    made.create()
    return made


def _write(path: Path, size: int, seed: bytes) -> None:
    """`size` bytes that are not all zero (nothing sparse), varied by `seed`."""
    block = (seed * (MiB // len(seed) + 1))[:MiB]
    with path.open("wb") as f:
        for start in range(0, size, MiB):
            f.write(block[: min(MiB, size - start)])


def _debris(store: Store) -> list[Path]:
    if isinstance(store, DirStore):
        return list(store.path.rglob("*.tmp"))
    if isinstance(store, GitStore):
        names = ("fast_import_crash_*", "tmp_pack_*", "tmp_idx_*")
        return [p for n in names for p in (store.root / ".git").rglob(n)]
    return []


def test_a_file_is_stored_byte_for_byte(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "report.bin"
    _write(path, 3 * MiB + 17, b"report ")
    art, blob = ledger.artifact_file("report.bin", path, path.stat().st_size)
    ledger.append(store, [make_statement(1, [art])], {art.sha256: blob})
    assert store.read_object(art.sha256) == path.read_bytes()
    assert ledger.verify(store).entries == 1


@pytest.mark.parametrize("change", ["edited", "grown", "shrunk", "replaced by a symlink"])
def test_a_file_changed_after_it_was_hashed_is_not_stored(
    store: Store, tmp_path: Path, change: str
) -> None:
    path = tmp_path / "report.bin"
    _write(path, 2 * MiB, b"report ")
    art, blob = ledger.artifact_file("report.bin", path, path.stat().st_size)
    if change == "edited":
        with path.open("r+b") as f:
            f.seek(MiB + 5)
            f.write(b"X")
    elif change == "grown":
        with path.open("ab") as f:
            f.write(b"more")
    elif change == "shrunk":
        with path.open("r+b") as f:
            f.truncate(MiB)
    else:
        secret = tmp_path / "secret"
        _write(secret, 2 * MiB, b"secret ")
        path.unlink()
        path.symlink_to(secret)
    with pytest.raises(LedgerError, match="nothing was appended") as caught:
        ledger.append(store, [make_statement(1, [art])], {art.sha256: blob})
    assert str(path) in str(caught.value)
    assert store.head() is None
    assert store.read_object(art.sha256) is None
    assert _debris(store) == []


_PEAK = """
import resource, sys
from sdl_tracker.cli.main import main
code = main(sys.argv[1:])
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(code, max(own, kids) // 1024)
"""


def _peak_mib(root: Path, file: Path, extra: list[str]) -> int:
    """Peak RSS (MiB) of `record FILE` in a fresh process: itself or the largest git it ran."""
    argv = ["record", "pentest_report", str(file), "-r", "SVV-4", "-C", str(root), *extra]
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, check=False
    )
    code, peak = proc.stdout.split()[-2:]
    assert code == "0", proc.stderr
    return int(peak)


@pytest.mark.parametrize("kind", ["git", "dir"])
def test_recording_a_big_file_takes_constant_memory(
    git_repo: Path, tmp_path: Path, kind: str
) -> None:
    extra = ["--ledger-dir", str(tmp_path / "ledger")] if kind == "dir" else []
    subprocess.run(
        [sys.executable, "-m", "sdl_tracker", "init", "-C", str(git_repo), *extra],
        capture_output=True,
        check=True,
    )
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    _write(small, MiB, b"small ")
    _write(big, 50 * MiB, b"a 50 MiB report, not sparse ")
    base = _peak_mib(git_repo, small, extra)
    peak = _peak_mib(git_repo, big, extra)
    # Holding the file's bytes even once would add 50 MiB; the old path added ~150.
    assert peak - base < 25, (base, peak)
