"""What the mutation run of the stores found untested in `ledger/store.py` and `dirstore.py`:
artifacts copied in pieces of exactly the bytes hashed, files that are not regular refused,
write failures worded, and the directory store's layout, lock, compare-and-swap, clean-up and
segment reading pinned (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, HeadMoved, LedgerError
from sdl_tracker.ledger import chain, dirstore
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.store import CHUNK, FileObject, copy, open_regular, write_failed

# -- store.copy: the pieces a store writes --------------------------------------------------------


def _data(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3])
def test_bytes_are_copied_whole_in_pieces_of_at_most_a_chunk(size: int) -> None:
    data = _data(size)
    expected = [data[s : s + CHUNK] for s in range(0, size, CHUNK)]
    count = 0
    for piece in copy(hashlib.sha256(data).hexdigest(), data):  # one by one: fail fast
        assert count < len(expected) and piece == expected[count]
        count += 1
    assert count == len(expected)


@pytest.mark.parametrize("size", [0, 5, CHUNK, CHUNK + 7])
def test_an_unchanged_file_is_copied_whole_in_pieces_of_at_most_a_chunk(
    tmp_path: Path, size: int
) -> None:
    path = tmp_path / "report.bin"
    path.write_bytes(_data(size))
    pieces = list(copy(hashlib.sha256(_data(size)).hexdigest(), FileObject(path, size)))
    assert b"".join(pieces) == _data(size)
    assert all(len(p) <= CHUNK for p in pieces)


def _copied_until_refused(sha: str, data: FileObject) -> tuple[bytes, str]:
    out = []
    with pytest.raises(LedgerError) as caught:
        for piece in copy(sha, data):  # noqa: PERF401 (the pieces before the error)
            out.append(piece)
    return b"".join(out), str(caught.value)


@pytest.mark.parametrize("size", [5, CHUNK, 2 * CHUNK])
@pytest.mark.parametrize("grown", [1, 4])
def test_a_grown_file_yields_no_byte_past_its_hashed_size(
    tmp_path: Path, size: int, grown: int
) -> None:
    # The git store declares the artifact's size to fast-import before its bytes: one byte
    # more would be read as the next command of the stream.
    path = tmp_path / "report.bin"
    data = _data(size)
    path.write_bytes(data + b"+" * grown)
    sha = hashlib.sha256(data).hexdigest()
    copied, message = _copied_until_refused(sha, FileObject(path, size))
    assert copied == data
    assert message == (
        f"{path} changed while it was being recorded (now more than {size} bytes; it was "
        f"{size} bytes, sha256 {sha[:12]}…); nothing was appended. Record it again once it no "
        "longer changes"
    )


@pytest.mark.parametrize("change", ["edited", "shrunk"])
def test_a_file_edited_or_shrunk_is_refused_with_what_it_is_now(
    tmp_path: Path, change: str
) -> None:
    path = tmp_path / "report.bin"
    data = _data(CHUNK + 10)
    now = data[:-1] + b"X" if change == "edited" else data[:-3]
    path.write_bytes(now)
    sha = hashlib.sha256(data).hexdigest()
    _, message = _copied_until_refused(sha, FileObject(path, len(data)))
    assert message == (
        f"{path} changed while it was being recorded (now {len(now)} bytes, sha256 "
        f"{hashlib.sha256(now).hexdigest()[:12]}…; it was {len(data)} bytes, sha256 "
        f"{sha[:12]}…); nothing was appended. Record it again once it no longer changes"
    )


# -- store.open_regular: only a regular file, never through a symlink, never blocking ----------


def test_a_symlink_to_the_same_bytes_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.bin").write_bytes(b"report")
    (tmp_path / "link.bin").symlink_to(tmp_path / "real.bin")
    with pytest.raises(LedgerError) as caught:
        open_regular(tmp_path / "link.bin")
    assert str(caught.value) == (
        f"{tmp_path / 'link.bin'}: cannot read the artifact (Too many levels of symbolic links; "
        "a symlink is not followed here); nothing was appended"
    )


def test_a_missing_file_says_why_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(LedgerError) as caught:
        open_regular(tmp_path / "gone.bin")
    assert str(caught.value) == (
        f"{tmp_path / 'gone.bin'}: cannot read the artifact (No such file or directory; a "
        "symlink is not followed here); nothing was appended"
    )


def test_a_directory_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(LedgerError) as caught:
        open_regular(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no longer a regular file; nothing was appended"


_OPEN_FIFO = """
import sys
from pathlib import Path
from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger.store import open_regular
try:
    open_regular(Path(sys.argv[1]))
except LedgerError as e:
    print(e)
"""


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    # In a child process: opening a FIFO without O_NONBLOCK waits for a writer forever.
    fifo = tmp_path / "report.bin"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-c", _OPEN_FIFO, str(fifo)],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert proc.stdout == f"{fifo}: no longer a regular file; nothing was appended\n"


def test_a_regular_file_is_opened_for_reading_in_binary(tmp_path: Path) -> None:
    (tmp_path / "report.bin").write_bytes(b"report\r\n")
    with open_regular(tmp_path / "report.bin") as f:
        assert f.read() == b"report\r\n"


# -- store.write_failed: what the operating system refused, where, and what to do ------------

_NEXT = "; nothing was appended. Free space or fix the permissions, then run the command again"


@pytest.mark.parametrize(
    ("cause", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/l/HEAD"), "no space left on device"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only file system"),
        (OSError(errno.EIO, "Input/output error", "/l/x"), "Input/output error"),
        (OSError("the disk fell off"), "the disk fell off"),
    ],
)
def test_an_os_error_names_its_cause_and_file(cause: OSError, said: str) -> None:
    where = f" ({cause.filename})" if cause.filename else ""
    assert str(write_failed("directory /l", cause)) == (
        f"{said} writing the ledger at directory /l{where}{_NEXT}"
    )


@pytest.mark.parametrize(
    ("stderr", "said"),
    [
        ("fatal: Out of diskspace\n", "no space left on device"),
        (
            "error: unable to write file: Read-only file system\nfatal: bad\n",
            "read-only file system",
        ),
        ("warning: one\nfatal: the last line says it\n", "fatal: the last line says it"),
        ("warning: one\nfatal: two\nfatal: three\n", "fatal: three"),
        (" \n", "?"),
    ],
)
def test_git_s_error_output_names_its_cause(stderr: str, said: str) -> None:
    assert str(write_failed("branch sdl-ledger of /r", stderr)) == (
        f"{said} writing the ledger at branch sdl-ledger of /r{_NEXT}"
    )


# -- DirStore: layout, creation, write failures undone -------------------------------------------

_FIX = "; nothing was appended. Free space or fix the permissions, then run the command again"


@pytest.fixture
def store(tmp_path: Path) -> DirStore:
    made = DirStore(tmp_path / "ledger")
    made.create()
    return made


def _head_file(store: DirStore) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((store.path / "HEAD").read_bytes())
    return loaded


def test_the_head_marker_records_size_hash_and_seq_in_sorted_keys(store: DirStore) -> None:
    assert (store.path / "HEAD").read_bytes() == b'{"bytes": 0, "hash": "", "seq": 0}'
    assert store.head() is None
    sealed = ledger.append(store, [make_statement(1), make_statement(2)])
    size = (store.path / "entries.jsonl").stat().st_size
    assert size == sum(len(e.raw) + 1 for e in sealed)
    assert (store.path / "HEAD").read_bytes() == (
        f'{{"bytes": {size}, "hash": "{sealed[-1].hash}", "seq": 2}}'.encode()
    )
    assert store.head() == Head(seq=2, hash=sealed[-1].hash)


def test_a_ledger_directory_is_created_with_its_parents(tmp_path: Path) -> None:
    store = DirStore(tmp_path / "a" / "b" / "ledger")
    assert store.create() is True
    assert sorted(p.name for p in store.path.iterdir()) == [
        "HEAD",
        "entries.jsonl",
        "lock",
        "objects",
    ]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((store.path / "lock").stat().st_mode) == 0o644 & ~umask


def test_a_creation_cut_short_before_its_head_marker_is_completed(tmp_path: Path) -> None:
    # A process killed after making objects/ (and entries.jsonl) but before HEAD.
    (tmp_path / "ledger" / "objects").mkdir(parents=True)
    (tmp_path / "ledger" / "entries.jsonl").touch()
    store = DirStore(tmp_path / "ledger")
    assert not store.exists()
    assert store.create() is True
    ledger.append(store, [make_statement(1)])
    assert ledger.verify(store).entries == 1


def test_a_ledger_path_that_is_a_file_is_a_write_failure(tmp_path: Path) -> None:
    (tmp_path / "ledger").write_bytes(b"not a directory")
    with pytest.raises(LedgerError) as caught:
        DirStore(tmp_path / "ledger").create()
    where = tmp_path / "ledger"
    assert (
        str(caught.value) == f"File exists writing the ledger at directory {where} ({where}){_FIX}"
    )


def test_a_lock_that_cannot_be_opened_is_a_write_failure(store: DirStore) -> None:
    (store.path / "lock").unlink()
    (store.path / "lock").mkdir()
    with pytest.raises(LedgerError) as caught:
        ledger.append(store, [make_statement(1)])
    lock = store.path / "lock"
    assert str(caught.value) == (
        f"Is a directory writing the ledger at directory {store.path} ({lock}){_FIX}"
    )
    assert store.head() is None


def test_a_failed_head_marker_write_cuts_the_entry_file_back(store: DirStore) -> None:
    ledger.append(store, [make_statement(1)])
    entries, head = (store.path / "entries.jsonl").read_bytes(), store.head()
    # The new marker's temporary file cannot be made: the entries were written, HEAD was not.
    blocker = store.path / f".HEAD.{os.getpid()}.tmp"
    blocker.mkdir()
    with pytest.raises(LedgerError) as caught:
        ledger.append(store, [make_statement(2), make_statement(3)])
    assert str(caught.value) == (
        f"Is a directory writing the ledger at directory {store.path} ({blocker}){_FIX}"
    )
    assert (store.path / "entries.jsonl").read_bytes() == entries
    assert store.head() == head
    blocker.rmdir()
    ledger.append(store, [make_statement(2)])
    assert ledger.verify(store).entries == 2


def test_an_unwritable_entry_file_is_a_write_failure_and_nothing_changes(store: DirStore) -> None:
    path = store.path / "entries.jsonl"
    path.unlink()
    path.mkdir()
    with pytest.raises(LedgerError) as caught:
        store.append(chain.seal(None, [make_statement(1)]), {}, expected=None)
    assert str(caught.value) == (
        f"Is a directory writing the ledger at directory {store.path} ({path}){_FIX}"
    )
    assert _head_file(store) == {"bytes": 0, "hash": "", "seq": 0}
    # Read, it is damage, named as such (not a crash).
    with pytest.raises(LedgerError) as caught:
        ledger.verify(store)
    assert str(caught.value) == (
        f"{path} cannot be read (Is a directory): the ledger directory is damaged"
    )


def test_undo_keeps_an_append_whose_head_marker_was_replaced(store: DirStore) -> None:
    # The append's last step (the directory fsync) failed after HEAD was replaced: the append
    # happened, so its lines stay.
    ledger.append(store, [make_statement(1)])
    entries = (store.path / "entries.jsonl").read_bytes()
    store._undo(0)
    assert (store.path / "entries.jsonl").read_bytes() == entries
    assert ledger.verify(store).entries == 1


def _same_fanout(n: int) -> list[tuple[ledger.Artifact, bytes]]:
    """`n` artifacts whose digests start with the same two hex digits (one objects/ subdir)."""
    by_prefix: dict[str, list[tuple[ledger.Artifact, bytes]]] = {}
    for i in range(10_000):
        art, data = ledger.artifact(f"a{i}.json", b"report %d" % i)
        group = by_prefix.setdefault(art.sha256[:2], [])
        group.append((art, data))
        if len(group) == n:
            return group
    raise AssertionError("unreachable")


def test_artifacts_sharing_a_fanout_directory_are_all_stored(store: DirStore) -> None:
    (a, a_bytes), (b, b_bytes) = _same_fanout(2)
    ledger.append(store, [make_statement(1, [a])], {a.sha256: a_bytes})
    ledger.append(store, [make_statement(2, [b])], {b.sha256: b_bytes})
    assert store.read_object(a.sha256) == a_bytes and store.read_object(b.sha256) == b_bytes
    assert ledger.verify(store).objects == 2


def test_artifacts_are_stored_when_the_objects_directory_is_gone(store: DirStore) -> None:
    # A ledger copied by a tool that keeps no empty directories (git, some archivers).
    (store.path / "objects").rmdir()
    art, data = ledger.artifact("bandit.json", b"{}")
    ledger.append(store, [make_statement(1, [art])], {art.sha256: data})
    assert (store.path / "objects" / art.sha256[:2] / art.sha256[2:]).read_bytes() == data


def test_a_stale_head_says_where_the_head_is_and_what_was_expected(store: DirStore) -> None:
    (first,) = ledger.append(store, [make_statement(1)])
    head = Head(seq=1, hash=first.hash)
    with pytest.raises(HeadMoved) as caught:
        store.append(chain.seal(None, [make_statement(2)]), {}, expected=None)
    assert str(caught.value) == f"directory {store.path}: head moved to {head}, expected None"


def test_an_append_waits_for_the_lock_another_writer_holds(store: DirStore) -> None:
    fd = os.open(store.path / "lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    writer = threading.Thread(target=ledger.append, args=(store, [make_statement(1)]))
    try:
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and store.head() is None
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    writer.join(60)
    assert ledger.verify(store).entries == 1


# -- DirStore: reading the committed bytes, and only those -----------------------------------------


def test_a_missing_head_marker_says_how_to_create_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(LedgerError) as caught:
        DirStore(tmp_path / "none").head()
    assert str(caught.value) == (
        f"no ledger in {tmp_path / 'none'} (no HEAD file): run `sdl-tracker init --ledger-dir "
        f"{tmp_path / 'none'}` to create one"
    )


def test_an_unreadable_head_marker_says_what_is_expected(store: DirStore) -> None:
    (store.path / "HEAD").write_bytes(b'{"bytes": 0, "seq": 1}')
    with pytest.raises(LedgerError) as caught:
        store.head()
    assert str(caught.value) == (
        f"{store.path / 'HEAD'}: not a ledger head marker ('hash'); expected "
        '{"bytes":N,"hash":"<64 hex>","seq":N}'
    )


def test_a_missing_entry_file_is_named_as_damage(store: DirStore) -> None:
    (store.path / "entries.jsonl").unlink()
    with pytest.raises(LedgerError) as caught:
        ledger.verify(store)
    assert str(caught.value) == (
        f"{store.path / 'entries.jsonl'} is missing: the ledger directory is damaged"
    )


def test_a_whole_ledger_is_one_segment_named_by_its_file(store: DirStore) -> None:
    ledger.append(store, [make_statement(i) for i in range(1, 4)])
    path = store.path / "entries.jsonl"
    head, segments = store.snapshot()
    assert head == store.head()
    assert list(segments) == [chain.Segment(where=str(path), data=path.read_bytes(), first_line=1)]


def test_lines_past_the_committed_size_are_never_read(
    store: DirStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer killed after writing its lines and before replacing HEAD: well-formed entries,
    # chained on the head, that were never committed.
    committed = ledger.append(store, [make_statement(i) for i in range(1, 4)])
    path = store.path / "entries.jsonl"
    # Two reads: the second, of a whole chunk, would reach past the uncommitted line.
    monkeypatch.setattr(dirstore, "_CHUNK", path.stat().st_size - 1)
    last = Head(seq=3, hash=committed[-1].hash)
    with path.open("ab") as f:
        f.write(b"".join(e.raw + b"\n" for e in chain.seal(last, [make_statement(4)])))
    assert [e.seq for e in ledger.entries(store)] == [1, 2, 3]
    assert ledger.verify(store).entries == 3
    assert sum(len(s.data) for s in store.snapshot()[1]) == _head_file(store)["bytes"]


def test_a_committed_size_that_ends_inside_a_line_is_damage(store: DirStore) -> None:
    sealed = ledger.append(store, [make_statement(i) for i in range(1, 4)])
    marker = _head_file(store)
    # HEAD rewound to entry 2, but its byte count ends 10 bytes into entry 3's line.
    marker.update(seq=2, hash=sealed[1].hash, bytes=len(sealed[0].raw) + len(sealed[1].raw) + 12)
    (store.path / "HEAD").write_text(json.dumps(marker))
    # Read by a checker that remembers nothing (no memo of entry 3): the 12 bytes are read.
    committed = (store.path / "entries.jsonl").read_bytes()[: marker["bytes"]]
    assert b"".join(s.data for s in store.snapshot()[1]) == committed
    head, segments = store.snapshot()
    with pytest.raises(ChainError) as caught:
        chain.verify(segments, store.read_object, head)
    assert caught.value.seq == 3


def test_a_truncated_entry_file_says_how_much_is_missing(store: DirStore) -> None:
    ledger.append(store, [make_statement(i) for i in range(1, 4)])
    path = store.path / "entries.jsonl"
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 50)
    with pytest.raises(ChainError) as caught:
        ledger.verify(store)
    assert caught.value.seq == 3
    cut = f"{path} (truncated: {size - 50} of the {size} bytes HEAD records) line 3"
    assert caught.value.where == cut


def test_the_mark_changes_with_every_append_and_is_empty_without_a_ledger(
    store: DirStore, tmp_path: Path
) -> None:
    assert DirStore(tmp_path / "none").mark() == ""
    before = store.mark()
    ledger.append(store, [make_statement(1)])
    assert store.written == store.mark() != before
    assert len(store.written) == 64
