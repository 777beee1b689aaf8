"""Both stores keep the same promises: append-only, compare-and-swap, crash-safe, tamper-evident."""

from __future__ import annotations

import json
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import git, make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, GitError, HeadMoved, LedgerError
from sdl_tracker.ledger import DirStore, GitStore, Store, chain, dirstore
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.gitstore import entries_path, object_path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


@pytest.fixture(params=["git", "dir"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A store that does not exist yet: the git branch store (default branch) or a directory."""
    if request.param == "git":
        return GitStore(request.getfixturevalue("git_repo"))
    return DirStore(tmp_path / "ledger")


@pytest.fixture
def store(new_store: Store) -> Store:
    new_store.create()
    return new_store


def _notes(store: Store) -> dict[int, str]:
    return {e.seq: e.statement().predicate.note for e in ledger.entries(store)}


# -- the Store contract -------------------------------------------------------------------------


def test_create_is_idempotent(new_store: Store) -> None:
    assert not new_store.exists()
    assert new_store.create() is True
    assert new_store.exists()
    ledger.append(new_store, [make_statement(1)])
    head = new_store.head()
    assert new_store.create() is False
    assert new_store.head() == head
    assert ledger.verify(new_store).entries == 1


def test_missing_ledger_is_a_ledger_error(new_store: Store) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        new_store.head()
    with pytest.raises(LedgerError, match="no ledger"):
        ledger.verify(new_store)


def test_append_entries_verify_round_trip(store: Store) -> None:
    assert store.head() is None
    assert list(ledger.entries(store)) == []
    first = ledger.append(store, [make_statement(1)])
    more = ledger.append(store, [make_statement(i) for i in range(2, 12)])
    sealed = first + more
    assert [e.seq for e in sealed] == list(range(1, 12))
    assert store.head() == Head(seq=11, hash=sealed[-1].hash)
    read = list(ledger.entries(store))
    assert read == sealed
    assert [e.statement() for e in read] == [make_statement(i) for i in range(1, 12)]
    assert ledger.verify(store) == chain.VerifyReport(entries=11, objects=0, head=store.head())


def test_artifacts_are_stored_content_addressed(store: Store) -> None:
    report, report_bytes = ledger.artifact("bandit.json", b'{"results": []}\n')
    sbom, sbom_bytes = ledger.artifact("sbom.cdx.json", b'{"bomFormat": "CycloneDX"}\n' * 50)
    ledger.append(
        store,
        [make_statement(1, [report]), make_statement(2, [report, sbom])],
        {report.sha256: report_bytes, sbom.sha256: sbom_bytes},
    )
    # Naming an artifact that is already stored needs no bytes.
    ledger.append(store, [make_statement(3, [sbom])])
    assert store.read_object(report.sha256) == report_bytes
    assert store.read_object(sbom.sha256) == sbom_bytes
    assert store.read_object("0" * 64) is None
    if isinstance(store, GitStore):
        assert git(store.root, "cat-file", "blob", f"sdl-ledger:{object_path(sbom.sha256)}") == (
            sbom_bytes.decode().rstrip("\n")
        )
    else:
        assert (
            store.path / "objects" / sbom.sha256[:2] / sbom.sha256[2:]
        ).read_bytes() == sbom_bytes
    assert [e.objects for e in ledger.entries(store)] == [
        (report.sha256,),
        tuple(sorted((report.sha256, sbom.sha256))),
        (sbom.sha256,),
    ]
    assert ledger.verify(store).objects == 2


def test_append_refuses_unknown_or_mismatched_artifacts(store: Store) -> None:
    report, data = ledger.artifact("bandit.json", b"{}")
    with pytest.raises(LedgerError, match="is not stored"):
        ledger.append(store, [make_statement(1, [report])])
    with pytest.raises(LedgerError, match="do not match"):
        ledger.append(store, [make_statement(1, [report])], {report.sha256: b"{ }"})
    assert store.head() is None


def test_stale_expected_head_raises_head_moved(store: Store) -> None:
    ledger.append(store, [make_statement(1)])
    stale = store.head()
    pending = chain.seal(stale, [make_statement(2, note="late writer")])
    ledger.append(store, [make_statement(3, note="early writer")])
    with pytest.raises(HeadMoved):
        store.append(pending, {}, expected=stale)
    with pytest.raises(HeadMoved):
        store.append(chain.seal(None, [make_statement(4)]), {}, expected=None)
    assert _notes(store) == {1: "statement 1", 2: "early writer"}
    assert ledger.verify(store).entries == 2


# -- GitStore stays off the user's work ---------------------------------------------------------


def _repo_state(root: Path) -> dict[str, str]:
    return {
        "status": git(
            root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"
        ),
        "HEAD": git(root, "rev-parse", "HEAD"),
        "branch": git(root, "symbolic-ref", "HEAD"),
        "staged": git(root, "--no-optional-locks", "diff", "--cached"),
        "index": (root / ".git" / "index").read_bytes().hex(),
    }


@pytest.mark.parametrize("dirty", [False, True])
def test_git_store_never_touches_work_tree_index_or_head(git_repo: Path, dirty: bool) -> None:
    if dirty:
        (git_repo / "staged.txt").write_text("staged\n")
        git(git_repo, "add", "staged.txt")
        (git_repo / "README.md").write_text("# edited, not staged\n")
        (git_repo / "untracked.txt").write_text("untracked\n")
    before = _repo_state(git_repo)
    store = GitStore(git_repo)
    store.create()
    report, data = ledger.artifact("report.json", b"{}\n")
    ledger.append(store, [make_statement(1, [report])], {report.sha256: data})
    ledger.append(store, [make_statement(i) for i in range(2, 6)])
    ledger.verify(store)
    list(ledger.entries(store))
    after = _repo_state(git_repo)
    assert after == before
    if not dirty:
        assert after["status"] == "" and after["staged"] == ""
    assert after["branch"] == "refs/heads/main"
    # The ledger is an orphan branch, and no temporary refs are left behind.
    assert (
        subprocess.run(
            ["git", "-C", str(git_repo), "merge-base", "main", "sdl-ledger"], capture_output=True
        ).returncode
        == 1
    )
    assert git(git_repo, "for-each-ref", "--format=%(refname)") == (
        "refs/heads/main\nrefs/heads/sdl-ledger"
    )
    files = git(git_repo, "ls-tree", "-r", "--name-only", "sdl-ledger").splitlines()
    assert files == ["README.txt", entries_path(1), entries_path(2), object_path(report.sha256)]


def test_git_store_reports_a_stale_ref_lock_instead_of_retrying(git_repo: Path) -> None:
    store = GitStore(git_repo)
    store.create()
    ledger.append(store, [make_statement(1)])
    # What a git process killed in the middle of `update-ref` leaves behind.
    lock = git_repo / ".git" / "refs" / "heads" / "sdl-ledger.lock"
    lock.write_text("")
    started = time.monotonic()
    with pytest.raises(GitError, match="sdl-ledger.lock"):
        ledger.append(store, [make_statement(2)])
    assert time.monotonic() - started < 5
    assert git(git_repo, "for-each-ref", "refs/sdl-tracker") == ""
    lock.unlink()
    ledger.append(store, [make_statement(2)])
    assert ledger.verify(store).entries == 2


# -- many writers, and writers killed mid-append ------------------------------------------------

# A child process appending one statement per `ledger.append` call, printing `<seq> <note>` once
# each call has returned. It waits for a line on stdin so that all writers start together.
_WRITER = """
import sys
from pathlib import Path
from helpers import make_statement
from sdl_tracker import ledger
kind, where, tag, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
store = ledger.GitStore(where) if kind == "git" else ledger.DirStore(where)
print("ready", flush=True)
sys.stdin.readline()
i = 0
while count < 0 or i < count:
    [entry] = ledger.append(store, [make_statement(i, note=f"{tag}:{i}")])
    print(entry.seq, f"{tag}:{i}", flush=True)
    i += 1
"""


def _writer(store: Store, tag: str, count: int) -> subprocess.Popen[str]:
    where, kind = (store.root, "git") if isinstance(store, GitStore) else (store.path, "dir")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, kind, str(where), tag, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def _reported(lines: Iterator[str] | list[str]) -> dict[int, str]:
    reported = {}
    for line in lines:
        seq, note = line.split()
        reported[int(seq)] = note
    return reported


WRITERS, PER_WRITER = 8, 50
#: How long every writer may go without a single append before the run counts as stuck: the
#: deadline is on progress, not on the whole run, so a loaded machine makes the test slower,
#: never failing, while a deadlock or a livelock still fails it.
STALL = 120.0


def _outputs(procs: list[subprocess.Popen[str]]) -> list[list[str]]:
    """Every writer's output lines, read as they come until all have ended; fails (killing
    them) when no writer reports an append for STALL seconds."""
    lines: list[list[str]] = [[] for _ in procs]
    with selectors.DefaultSelector() as sel:
        for n, proc in enumerate(procs):
            assert proc.stdout is not None
            sel.register(proc.stdout, selectors.EVENT_READ, n)
        while sel.get_map():
            ready = sel.select(timeout=STALL)
            if not ready:
                for proc in procs:
                    proc.kill()
                done = [len(out) for out in lines]
                pytest.fail(f"no writer appended for {STALL:.0f} s (appends so far: {done})")
            for key, _ in ready:
                line = key.fileobj.readline()  # type: ignore[union-attr]
                if line:
                    lines[key.data].append(line)
                else:
                    sel.unregister(key.fileobj)
    for proc in procs:
        proc.wait()
    return lines


def _switches(notes: dict[int, str]) -> int:
    """How often the writer changes from one entry to the next, in ledger order."""
    writers = [notes[seq].split(":")[0] for seq in sorted(notes)]
    return sum(a != b for a, b in zip(writers, writers[1:]))


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(store: Store) -> None:
    procs = [_writer(store, f"w{n}", PER_WRITER) for n in range(WRITERS)]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.stdin.close()
    outputs = _outputs(procs)
    assert [proc.returncode for proc in procs] == [0] * WRITERS

    notes = _notes(store)
    assert ledger.verify(store).entries == WRITERS * PER_WRITER
    assert sorted(notes) == list(range(1, WRITERS * PER_WRITER + 1))
    assert sorted(notes.values()) == sorted(
        f"w{n}:{i}" for n in range(WRITERS) for i in range(PER_WRITER)
    )
    for n, output in enumerate(outputs):
        reported = _reported(output)
        assert len(reported) == PER_WRITER
        assert all(notes[seq] == note for seq, note in reported.items())
        # One writer's entries appear in the order it appended them.
        assert [reported[seq] for seq in sorted(reported)] == [
            f"w{n}:{i}" for i in range(PER_WRITER)
        ]
    # The writers really raced (one after another, the writer would change WRITERS - 1 times).
    assert _switches(notes) >= 4 * WRITERS, _switches(notes)


ROUNDS = 6


def test_sigkill_mid_append_keeps_every_reported_entry(store: Store) -> None:
    rng = random.Random(2024)
    reported: dict[int, str] = {}
    for round_ in range(ROUNDS):
        proc = _writer(store, f"r{round_}", -1)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        first = proc.stdout.readline()  # at least one append has returned
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        out = first + proc.stdout.read()
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        # A line cut short by the kill was never fully reported.
        reported.update(
            _reported(line for line in out.splitlines(keepends=True) if line.endswith("\n"))
        )
        report = ledger.verify(store)
        notes = _notes(store)
        # `<=`: a git process the kill orphaned may still complete its append meanwhile.
        assert len(reported) <= report.entries <= len(notes)
        missing = {seq: note for seq, note in reported.items() if notes.get(seq) != note}
        assert not missing, f"round {round_}: reported entries lost or changed: {missing}"
    assert len(reported) >= ROUNDS


# -- tampering on disk ----------------------------------------------------------------------------


def _filled(store: Store, n: int = 30) -> dict[str, bytes]:
    """Append n statements in three batches; entry 5 and 20 name artifacts. Returns the objects."""
    report, report_bytes = ledger.artifact("bandit.json", b'{"results": []}\n' * 20)
    sbom, sbom_bytes = ledger.artifact("sbom.json", b'{"components": []}\n' * 20)
    names = {5: [report], 20: [report, sbom]}
    statements = [make_statement(i, names.get(i, ())) for i in range(1, n + 1)]
    ledger.append(store, statements[:10], {report.sha256: report_bytes})
    ledger.append(store, statements[10:12])
    ledger.append(store, statements[12:], {sbom.sha256: sbom_bytes})
    return {report.sha256: report_bytes, sbom.sha256: sbom_bytes}


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _line_span(data: bytes, seq: int, first_seq: int = 1) -> tuple[int, int]:
    """Byte range of entry `seq`'s line in `data` (whose first line is entry `first_seq`)."""
    start = 0
    for _ in range(seq - first_seq):
        start = data.index(b"\n", start) + 1
    return start, data.index(b"\n", start)


def _verify_fails_at(store: Store, seq: int) -> ChainError:
    with pytest.raises(ChainError) as info:
        ledger.verify(store)
    assert info.value.seq == seq, str(info.value)
    return info.value


@pytest.fixture
def dir_store(tmp_path: Path) -> DirStore:
    store = DirStore(tmp_path / "ledger")
    store.create()
    return store


@pytest.mark.parametrize("seq", [1, 7, 11, 30])
def test_dir_store_byte_flip_in_entries_names_the_entry(dir_store: DirStore, seq: int) -> None:
    _filled(dir_store)
    path = dir_store.path / "entries.jsonl"
    data = path.read_bytes()
    start, end = _line_span(data, seq)
    path.write_bytes(_flip(data, random.Random(seq).randrange(start, end)))
    _verify_fails_at(dir_store, seq)


@pytest.mark.parametrize(("marker", "seq"), [(b"results", 5), (b"components", 20)])
def test_dir_store_byte_flip_in_an_object_names_the_first_entry_using_it(
    dir_store: DirStore, marker: bytes, seq: int
) -> None:
    sha = next(sha for sha, data in _filled(dir_store).items() if marker in data)
    path = dir_store.path / "objects" / sha[:2] / sha[2:]
    path.write_bytes(_flip(path.read_bytes(), 3))
    _verify_fails_at(dir_store, seq)
    path.unlink()
    assert "missing artifact" in str(_verify_fails_at(dir_store, seq))


@pytest.mark.parametrize("chunk", [97, 1000, 8 << 20])
def test_dir_store_reads_in_bounded_chunks(
    dir_store: DirStore, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(dirstore, "_CHUNK", chunk)
    _filled(dir_store)
    assert [e.seq for e in ledger.entries(dir_store)] == list(range(1, 31))
    assert ledger.verify(dir_store).entries == 30
    head, segments = dir_store.snapshot()
    sizes = [len(s.data) for s in segments]
    assert sum(sizes) == (dir_store.path / "entries.jsonl").stat().st_size
    path = dir_store.path / "entries.jsonl"
    data = path.read_bytes()
    longest = max(len(line) + 1 for line in data.splitlines())
    assert max(sizes) <= chunk + longest  # a chunk plus the rest of the line it cut
    start, end = _line_span(data, 23)
    path.write_bytes(_flip(data, start + 100))
    assert "line 23" in str(_verify_fails_at(dir_store, 23))


@pytest.mark.parametrize(
    ("cut", "seq"),
    [
        ("inside entry 17", 17),
        ("after entry 29", 30),
        ("everything", 1),
    ],
)
def test_dir_store_truncated_entries_name_the_first_lost_entry(
    dir_store: DirStore, cut: str, seq: int
) -> None:
    _filled(dir_store)
    path = dir_store.path / "entries.jsonl"
    data = path.read_bytes()
    start, end = _line_span(data, seq)
    size = {"inside entry 17": (start + end) // 2, "after entry 29": start, "everything": 0}[cut]
    with open(path, "r+b") as f:
        f.truncate(size)
    _verify_fails_at(dir_store, seq)


@pytest.mark.parametrize(
    ("edit", "seq"),
    [
        ({"seq": 29}, 29),
        ({"seq": 31}, 31),
        ({"seq": 0}, 30),
        ({"hash": "0" * 64}, 30),
    ],
)
def test_dir_store_edited_head_marker_is_detected(
    dir_store: DirStore, edit: dict[str, object], seq: int
) -> None:
    _filled(dir_store)
    path = dir_store.path / "HEAD"
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    assert _verify_fails_at(dir_store, seq).where == "head"


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"[]", b'{"bytes": "x", "seq": 1, "hash": ""}']
)
def test_dir_store_unreadable_head_marker_is_a_ledger_error(
    dir_store: DirStore, content: bytes
) -> None:
    _filled(dir_store)
    (dir_store.path / "HEAD").write_bytes(content)
    with pytest.raises(LedgerError, match="HEAD"):
        ledger.verify(dir_store)


def _git_rewrite(root: Path, edit: Callable[[dict[str, bytes]], None], tmp_path: Path) -> None:
    """Commit an edited copy of the ledger branch on top of it, as a forger with plumbing would.

    `edit` gets {path: blob bytes} of the tip's tree and changes it in place. The commit message
    (and so the head marker trailers) is copied from the tip.
    """
    tip = git(root, "rev-parse", "refs/heads/sdl-ledger")
    paths = git(root, "ls-tree", "-r", "--name-only", tip).splitlines()
    files = {
        p: subprocess.run(
            ["git", "-C", str(root), "cat-file", "blob", f"{tip}:{p}"],
            capture_output=True,
            check=True,
        ).stdout
        for p in paths
    }
    edited = dict(files)
    edit(edited)
    env = {"GIT_INDEX_FILE": str(tmp_path / "forger-index")}
    git(root, "read-tree", "--empty", env=env)
    for path, data in edited.items():
        oid = git(root, "hash-object", "-w", "--stdin", input=data)
        git(root, "update-index", "--add", "--cacheinfo", f"100644,{oid},{path}", env=env)
    tree = git(root, "write-tree", env=env)
    message = git(root, "log", "-1", "--format=%B", tip).encode() + b"\n"
    commit = git(root, "commit-tree", tree, "-p", tip, "-F", "-", input=message)
    git(root, "update-ref", "refs/heads/sdl-ledger", commit, tip)


def _git_store(git_repo: Path) -> GitStore:
    store = GitStore(git_repo)
    store.create()
    return store


@pytest.mark.parametrize("seq", [1, 10, 11, 12, 13, 30])
def test_git_store_rewritten_entries_blob_names_the_entry(
    git_repo: Path, tmp_path: Path, seq: int
) -> None:
    store = _git_store(git_repo)
    _filled(store)
    first = 1 if seq <= 10 else 11 if seq <= 12 else 13

    def flip(files: dict[str, bytes]) -> None:
        data = files[entries_path(first)]
        start, end = _line_span(data, seq, first)
        files[entries_path(first)] = _flip(data, random.Random(seq).randrange(start, end))

    _git_rewrite(git_repo, flip, tmp_path)
    _verify_fails_at(store, seq)


def test_git_store_deleted_entry_or_batch_names_the_first_lost_entry(
    git_repo: Path, tmp_path: Path
) -> None:
    store = _git_store(git_repo)
    _filled(store)

    def drop_line(files: dict[str, bytes]) -> None:
        data = files[entries_path(13)]
        start, end = _line_span(data, 15, 13)
        files[entries_path(13)] = data[:start] + data[end + 1 :]

    _git_rewrite(git_repo, drop_line, tmp_path)
    _verify_fails_at(store, 15)
    _git_rewrite(git_repo, lambda files: files.pop(entries_path(11)), tmp_path)
    _verify_fails_at(store, 11)


def test_git_store_altered_or_missing_object_names_the_first_entry_using_it(
    git_repo: Path, tmp_path: Path
) -> None:
    store = _git_store(git_repo)
    objects = _filled(store)
    sbom = next(sha for sha, data in objects.items() if b"components" in data)
    report = next(sha for sha in objects if sha != sbom)

    def alter(files: dict[str, bytes]) -> None:
        files[object_path(report)] = _flip(files[object_path(report)], 0)

    _git_rewrite(git_repo, alter, tmp_path)
    _verify_fails_at(store, 5)
    _git_rewrite(git_repo, lambda files: files.pop(object_path(sbom)), tmp_path)
    _git_rewrite(
        git_repo, lambda files: files.update({object_path(report): objects[report]}), tmp_path
    )
    assert "missing artifact" in str(_verify_fails_at(store, 20))


def test_git_store_commit_without_head_marker_is_detected(git_repo: Path) -> None:
    store = _git_store(git_repo)
    _filled(store)
    tip = git(git_repo, "rev-parse", "refs/heads/sdl-ledger")
    tree = git(git_repo, "rev-parse", f"{tip}^{{tree}}")
    commit = git(git_repo, "commit-tree", tree, "-p", tip, "-m", "tidy up")
    git(git_repo, "update-ref", "refs/heads/sdl-ledger", commit, tip)
    assert _verify_fails_at(store, 30).where == "head"


# -- hand-edited ledgers whose lines are not JSON --------------------------------------------------

BAD_LINES = [
    b"this is not json",
    b'{"hash": "abc"}',
    b"\xff\xfe\x00\x01",
    b'{"hash":"'
    + b"0" * 64
    + b'","objects":[],"prev":"'
    + b"0" * 64
    + b'","seq":1,"statement":{oops',
    b'{"hash":"'
    + b"0" * 64
    + b'","objects":[],"prev":"'
    + b"0" * 64
    + b'","seq":1,"statement":[]}',
]


def _read_all(store: Store) -> None:
    for entry in ledger.entries(store):
        entry.statement()
        entry.to_json()


@pytest.mark.parametrize("line", BAD_LINES)
def test_hand_edited_dir_ledger_reads_raise_ledger_error(dir_store: DirStore, line: bytes) -> None:
    _filled(dir_store, 3)
    path = dir_store.path / "entries.jsonl"
    data = path.read_bytes() + line + b"\n"
    path.write_bytes(data)
    head = json.loads((dir_store.path / "HEAD").read_text())
    (dir_store.path / "HEAD").write_text(json.dumps({**head, "bytes": len(data), "seq": 4}))
    with pytest.raises(LedgerError):
        _read_all(dir_store)
    with pytest.raises(ChainError) as info:
        ledger.verify(dir_store)
    assert info.value.seq == 4


@pytest.mark.parametrize("line", BAD_LINES)
def test_hand_edited_git_ledger_reads_raise_ledger_error(
    git_repo: Path, tmp_path: Path, line: bytes
) -> None:
    store = _git_store(git_repo)
    _filled(store, 12)

    def append_line(files: dict[str, bytes]) -> None:
        files[entries_path(11)] += line + b"\n"

    _git_rewrite(git_repo, append_line, tmp_path)
    with pytest.raises(LedgerError):
        _read_all(store)
    with pytest.raises(ChainError) as info:
        ledger.verify(store)
    assert info.value.seq == 13
