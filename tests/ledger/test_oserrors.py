"""A full disk or a read-only ledger is a user error with its cause, and leaves no debris.

Real file systems: a size-limited tmpfs mounted for the test (root only; skipped otherwise).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore

Mount = Callable[[str], Path]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """mount("size=1m") -> a fresh tmpfs of that size; remount("ro") through `_remount`."""
    mounted: list[Path] = []

    def make(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _remount_ro(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def _fill(point: Path) -> None:
    """Leave (almost) no free block."""
    with open(point / "filler", "wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 4096)


def _debris(root: Path) -> list[str]:
    names = ("fast_import_crash_", "tmp_pack_", "tmp_idx_")
    return [
        str(p)
        for p in root.rglob("*")
        if p.name.startswith(names) or (p.name.startswith(".") and p.name.endswith(".tmp"))
    ]


def _artifact(source: Path | None = None) -> tuple[object, dict[str, object]]:
    """256 KiB of random bytes, in memory or (`source`) as a file the store streams."""
    data = os.urandom(256 * 1024)
    if source is None:
        art, _ = ledger.artifact("big.bin", data)
        return art, {art.sha256: data}
    source.write_bytes(data)
    art, blob = ledger.artifact_file("big.bin", source, len(data))
    return art, {art.sha256: blob}


@pytest.fixture(params=["bytes", "file"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    """Where the artifact comes from: memory, or a file outside the full file system."""
    return tmp_path / "source.bin" if request.param == "file" else None


def test_dir_store_on_a_full_disk(mount: Mount, source: Path | None) -> None:
    point = mount("size=1m")
    store = DirStore(point / "ledger")
    store.create()
    ledger.append(store, [make_statement(1)])
    before = (point / "ledger" / "entries.jsonl").read_bytes()
    _fill(point)
    art, objects = _artifact(source)
    with pytest.raises(LedgerError) as caught:
        ledger.append(store, [make_statement(2, [art])], objects)  # type: ignore[list-item]
    assert str(caught.value).startswith(
        f"no space left on device writing the ledger at directory {point / 'ledger'}"
    )
    assert "nothing was appended" in str(caught.value)
    assert (point / "ledger" / "entries.jsonl").read_bytes() == before
    assert [e.seq for e in ledger.entries(store)] == [1]
    assert _debris(point) == []


def test_dir_store_on_a_read_only_file_system(mount: Mount) -> None:
    point = mount("size=1m")
    store = DirStore(point / "ledger")
    store.create()
    ledger.append(store, [make_statement(1)])
    _remount_ro(point)
    with pytest.raises(LedgerError, match="read-only file system writing the ledger at"):
        ledger.append(store, [make_statement(2)])
    # Reading still works: only the remembered verification cannot be written.
    assert [e.seq for e in ledger.entries(store)] == [1]


@pytest.fixture
def small_repo(mount: Mount, git_env: None) -> Path:
    point = mount("size=3m")
    root = point / "repo"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    GitStore(root).create()
    ledger.append(GitStore(root), [make_statement(1)])
    return root


def test_git_store_on_a_full_disk(small_repo: Path, source: Path | None) -> None:
    store = GitStore(small_repo)
    tip = store.commit()
    _fill(small_repo.parent)
    art, objects = _artifact(source)
    with pytest.raises(LedgerError) as caught:
        ledger.append(store, [make_statement(2, [art])], objects)  # type: ignore[list-item]
    assert str(caught.value).startswith(
        f"no space left on device writing the ledger at branch sdl-ledger of {small_repo}"
    )
    assert store.commit() == tip
    assert _debris(small_repo) == []
    (small_repo.parent / "filler").unlink()
    assert [e.seq for e in ledger.entries(store)] == [1]


def test_git_store_on_a_read_only_file_system(small_repo: Path) -> None:
    store = GitStore(small_repo)
    tip = store.commit()
    _remount_ro(small_repo.parent)
    with pytest.raises(LedgerError, match="read-only file system writing the ledger at"):
        ledger.append(store, [make_statement(2)])
    assert store.commit() == tip


def test_git_store_whose_refs_are_read_only_fails_at_the_swap_with_its_cause(
    mount: Mount, git_repo: Path
) -> None:
    # Objects writable, refs not: fast-import succeeds and `update-ref` is what the system
    # refuses (the compare-and-swap's own failure path, reached after the commit is made).
    store = GitStore(git_repo)
    assert store.create()
    ledger.append(store, [make_statement(1)])
    tip = store.commit()
    subprocess.run(["git", "-C", str(git_repo), "pack-refs", "--all"], check=True)
    heads = git_repo / ".git" / "refs" / "heads"
    assert list(heads.iterdir()) == []  # every ref is in packed-refs now
    point = mount("size=1m")
    subprocess.run(["mount", "--bind", str(point), str(heads)], check=True)
    try:
        _remount_ro(heads)
        with pytest.raises(LedgerError) as caught:
            ledger.append(store, [make_statement(2)])
        assert str(caught.value) == (
            f"read-only file system writing the ledger at branch sdl-ledger of {git_repo}; "
            "nothing was appended. Free space or fix the permissions, then run the command again"
        )
        assert store.commit() == tip
    finally:
        subprocess.run(["umount", "-l", str(heads)], check=False)
    assert [e.seq for e in ledger.entries(store)] == [1]
