"""Verify before believing: no command judges, reports from or appends to a broken ledger."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from evidence_factory import only
from identity import approved_policy

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.errors import ChainError, UnverifiedLedger
from sdl_tracker.ledger import chain, trust
from sdl_tracker.ledger.chain import GENESIS, Head, Segment
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.models import ResultStatus

from . import tamper

FAIL, PASS = b'"status":"fail"', b'"status":"pass"'

_SOON = (date.today() + timedelta(days=30)).isoformat()  # within the waiver length cap


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out + err


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, check=True, text=True
    ).stdout.strip()


@pytest.fixture(params=["git", "dir"])
def failing(
    request: pytest.FixtureRequest, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, list[str]]:
    """A repository whose ledger records a failed training (SM-4): the gate fails."""
    extra = [] if request.param == "git" else ["--ledger-dir", str(git_repo.parent / "ledger")]
    assert run(["init", "-C", str(git_repo), *extra], capsys)[0] == 0
    report = git_repo.parent / "training.txt"
    report.write_text("training attendance\n")
    code, text = run(
        ["record", "training_record", str(report), "--status", "fail", "-C", str(git_repo), *extra],
        capsys,
    )
    assert code == 0, text
    ledger_dir = git_repo.parent / "ledger" if extra else None
    policy = approved_policy(
        git_repo, "extends: iec62443-4-1\n" + only("SM-4"), "p.yaml", ledger_dir
    )
    code, text = run(["gate", "--policy", str(policy), "-C", str(git_repo), *extra], capsys)
    assert code == 1, text
    return git_repo, [*extra, "--policy", str(policy)]


def _flip(root: Path, extra: list[str]) -> None:
    """The issue's probe: "status":"fail" -> "status":"pass" in the stored bytes, hash kept."""
    if "--ledger-dir" in extra:
        path = Path(extra[extra.index("--ledger-dir") + 1]) / "entries.jsonl"
        data = path.read_bytes()
        assert FAIL in data
        path.write_bytes(data.replace(FAIL, PASS, 1))
    else:
        tamper.rewrite(root, tamper.replace_in_entries(FAIL, PASS))


def _state(root: Path, extra: list[str]) -> bytes:
    if "--ledger-dir" in extra:
        directory = Path(extra[extra.index("--ledger-dir") + 1])
        return (directory / "HEAD").read_bytes() + (directory / "entries.jsonl").read_bytes()
    return git(root, "rev-parse", "sdl-ledger").encode()


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["explain", "SM-4"],
        ["gate"],
        ["gate", "--junit", "{out}/junit.xml", "--summary", "{out}/summary.md"],
        [
            *("waive", "SM-4", "--reason", "ok", "--expires", _SOON, "--approver", "A <a@b>"),
            *("--key", "{out}/../keys/ada_ed25519"),
        ],
        ["export", "--format", "json", "--out", "{out}/evidence.zip"],
        ["record", "training_record", "{out}/again.txt"],
    ],
)
def test_a_flipped_status_is_refused_and_nothing_is_appended(
    failing: tuple[Path, list[str]],
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    root, extra = failing
    out = tmp_path / "out"
    out.mkdir()
    (out / "again.txt").write_text("again\n")
    _flip(root, extra)
    before = _state(root, extra)
    argv = [a.replace("{out}", str(out)) for a in command]
    if command[0] not in ("status", "explain", "gate", "export"):
        extra = [a for a in extra if a != "--policy" and not a.endswith("p.yaml")]
    code, text = run([*argv, "-C", str(root), *extra], capsys)
    assert code == 2, text
    assert "does not verify: entry 1 (" in text
    # The directory: the entry's hash; the branch: the commit that modified a stored entry.
    assert "hash does not match its content" in text or (
        "entries/00000000/000000000001.jsonl was modified" in text
    )
    assert "run `sdl-tracker ledger verify`" in text
    assert "PASSED" not in text
    assert _state(root, extra) == before
    assert not (out / "junit.xml").exists() and not (out / "summary.md").exists()
    assert not (out / "evidence.zip").exists()


def test_a_rewind_after_a_verified_read_is_refused(
    failing: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's probe: `update-ref sdl-ledger sdl-ledger~1` drops the gate's failing verdict."""
    root, extra = failing
    assert run(["status", "-C", str(root), *extra], capsys)[0] == 0
    if "--ledger-dir" in extra:
        # A directory restored from a backup taken before the gate's verdict (entry 2): the
        # entry file and HEAD as they were, only the memo of this machine still knows entry 2.
        _rewind_directory(Path(extra[extra.index("--ledger-dir") + 1]), to_seq=1)
    else:
        git(root, "update-ref", "refs/heads/sdl-ledger", "sdl-ledger~1")
    code, text = run(["gate", "-C", str(root), *extra], capsys)
    assert code == 2, text
    assert "verified here earlier" in text and "rewound" in text


def _rewind_directory(directory: Path, *, to_seq: int) -> None:
    lines = (directory / "entries.jsonl").read_bytes().splitlines(keepends=True)[:to_seq]
    kept = b"".join(lines)
    last = json.loads(lines[-1])
    (directory / "entries.jsonl").write_bytes(kept)
    head = {"bytes": len(kept), "hash": last["hash"], "seq": last["seq"]}
    (directory / "HEAD").write_text(json.dumps(head, sort_keys=True))
    assert [e.seq for e in ledger.unverified_entries(DirStore(directory))] == [1]


def test_a_commit_deleting_the_entries_is_named_by_verify(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plain commit emptying entries/ leaves a valid empty chain: the history tells."""
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    store = GitStore(git_repo)
    ledger.append(store, [_statement(1)])
    commit = tamper.rewrite(
        git_repo, lambda files: {"README.txt": files["README.txt"]}, message="tidy up"
    )
    (git_repo / ".git" / "sdl-tracker" / "verified-sdl-ledger").unlink()
    code, text = run(["ledger", "verify", "-C", str(git_repo)], capsys)
    assert code == 1, text
    assert f"commit {commit}" in text
    assert "entries/00000000/000000000001.jsonl was deleted" in text
    with pytest.raises(UnverifiedLedger, match="history must only add"):
        ledger.append(store, [_statement(2)])


def test_a_commit_changing_an_artifact_is_refused_after_a_verified_read(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    store = GitStore(git_repo)
    art, data = ledger.artifact("report.json", b"{}")
    ledger.append(store, [_statement(1, art)], {art.sha256: data})
    assert trust.check(store) is not None
    path = f"objects/{art.sha256[:2]}/{art.sha256[2:]}"
    commit = tamper.rewrite(git_repo, lambda files: {**files, path: b"{ }"})
    with pytest.raises(UnverifiedLedger) as caught:
        list(ledger.entries(store))
    assert f"commit {commit}" in str(caught.value) and f"{path} was modified" in str(caught.value)


def test_the_memo_spares_artifact_reads_but_never_an_entry_hash(tmp_path: Path) -> None:
    store = DirStore(tmp_path / "ledger")
    store.create()
    art, data = ledger.artifact("report.json", b"{}")
    ledger.append(store, [_statement(1, art)], {art.sha256: data})
    assert [e.seq for e in ledger.entries(store)] == [1]
    # An artifact changed in place after it was verified: only the full check reads it again.
    (tmp_path / "ledger" / "objects" / art.sha256[:2] / art.sha256[2:]).write_bytes(b"{ }")
    assert [e.seq for e in ledger.entries(store)] == [1]
    with pytest.raises(ChainError, match="does not match its content"):
        ledger.verify(store)
    # A forged memo claiming more cannot make a changed entry pass.
    entries = tmp_path / "ledger" / "entries.jsonl"
    entries.write_bytes(entries.read_bytes().replace(b'"pass"', b'"fail"'))
    trust.write_memo(trust.memo_path(store), trust.Memo(head=Head(9, "f" * 64), mark="x"))
    with pytest.raises(UnverifiedLedger, match="hash does not match"):
        list(ledger.entries(store))


def test_an_unchanged_store_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirStore(tmp_path / "ledger")
    store.create()
    ledger.append(store, [_statement(1)])
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None and memo.mark == store.mark() and memo.head == store.head()

    def unread() -> None:
        raise AssertionError("read again")

    # Our own append moved the memo with it: the next check reads nothing.
    monkeypatch.setattr(store, "snapshot", unread)
    assert trust.check(store) == store.head()
    # Any write changes the mark, and the next check reads again.
    (tmp_path / "ledger" / "entries.jsonl").touch()
    with pytest.raises(AssertionError, match="read again"):
        trust.check(store)


def _statement(i: int, *artifacts: object):  # type: ignore[no-untyped-def]
    from helpers import make_statement

    return make_statement(i, artifacts, status=ResultStatus.PASS)  # type: ignore[arg-type]


_raw = tamper.sealed_line


def _hash(raw: bytes) -> str:
    return json.loads(raw)["hash"]


def test_a_repeated_sequence_number_with_a_matching_head_fails() -> None:
    """1, 2, 2 with every link and hash right and the head on the last: a sequence error."""
    one = _raw(1, GENESIS)
    two = _raw(2, _hash(one))
    again = _raw(2, _hash(two), b'{"again":true}')
    data = b"\n".join([one, two, again]) + b"\n"
    with pytest.raises(ChainError, match="sequence gap: seq is 2, expected 3") as caught:
        chain.verify([Segment("t", data)], lambda _: None, Head(2, _hash(again)))
    assert caught.value.seq == 3


@pytest.mark.parametrize(
    "digest", [b'"../../../../etc/passwd"', b'"' + b"A" * 64 + b'"', b'"' + b"a" * 63 + b'"']
)
def test_an_artifact_digest_that_is_no_sha256_is_named(digest: bytes) -> None:
    one = _raw(1, GENESIS, objects=digest)
    with pytest.raises(ChainError, match="is not a SHA-256"):
        chain.verify([Segment("t", one + b"\n")], lambda _: b"", Head(1, _hash(one)))


def test_postgresql_rows_changed_behind_the_triggers_are_refused(
    git_repo: Path, pg_cluster: object, pg_db: str, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's probe: an UPDATE with the triggers disabled made `org status` show passed."""
    from .conftest import superuser

    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    report = git_repo.parent / "training.txt"
    report.write_text("training attendance\n")
    record = ["record", "training_record", str(report), "--status", "fail"]
    assert run([*record, "-C", str(git_repo)], capsys)[0] == 0
    pg = ["--ledger", pg_url, "--repo-name", "demo"]
    assert (
        run(["ledger", "push", "--to", pg_url, "--repo-name", "demo", "-C", str(git_repo)], capsys)[
            0
        ]
        == 0
    )
    code, text = run(["org", "status", "--ledger", pg_url, "--format", "json"], capsys)
    assert code == 0, text
    with superuser(pg_cluster, pg_db) as conn:  # type: ignore[arg-type]
        conn.execute("SET session_replication_role = replica")  # behind the triggers' back
        (raw,) = conn.execute("SELECT raw FROM sdl_tracker.entries WHERE seq = 1").fetchone()
        flipped = bytes(raw).replace(FAIL, PASS)
        conn.execute("UPDATE sdl_tracker.entries SET raw = %s WHERE seq = 1", (flipped,))
    for argv in (
        ["org", "status", "--ledger", pg_url],
        ["org", "export", "--ledger", pg_url, "--out", str(git_repo.parent / "org.zip")],
        ["status", "-C", str(git_repo), *pg],
        ["gate", "-C", str(git_repo), *pg],
        [*record, "-C", str(git_repo), *pg],
    ):
        code, text = run(argv, capsys)
        assert code == 2, (argv, text)
        assert "repository demo does not verify: entry 1" in text, text
    with superuser(pg_cluster, pg_db) as conn:  # type: ignore[arg-type]
        (count,) = conn.execute("SELECT count(*) FROM sdl_tracker.entries").fetchone()
    assert count == 1
    assert not (git_repo.parent / "org.zip").exists()


def _package(path: Path, lines: list[bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ledger/entries.jsonl", b"".join(line + b"\n" for line in lines))
    return path


def test_anchors_catch_a_rollback_that_the_chain_cannot(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    store = GitStore(git_repo)
    ledger.append(store, [_statement(1)])
    ledger.append(store, [_statement(2)])
    one, two = list(ledger.unverified_entries(store))
    exported = _package(tmp_path / "evidence.zip", [one.raw, two.raw])
    verify = ["ledger", "verify", "-C", str(git_repo)]
    code, text = run([*verify, "--expect", f"2:{two.hash}", "--expect-from", str(exported)], capsys)
    assert code == 0, text
    assert f"holds entry 2 ({two.hash[:12]}…) as expected" in text
    # Rolled back on a fresh clone (no memo here): the chain alone still verifies.
    git(git_repo, "update-ref", "refs/heads/sdl-ledger", "sdl-ledger~1")
    (git_repo / ".git" / "sdl-tracker" / "verified-sdl-ledger").unlink()
    assert run(verify, capsys)[0] == 0
    for anchor in (["--expect", f"2:sha256:{two.hash}"], ["--expect-from", str(exported)]):
        code, text = run([*verify, *anchor], capsys)
        assert code == 1, text
        assert "the ledger ends at entry 1 but entry 2" in text and "rolled back" in text
    code, text = run([*verify, "--expect", f"1:{two.hash}"], capsys)
    assert code == 1 and "it was rewritten since that point was recorded" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expect", "2"], "expected SEQ:HASH"),
        (["--expect", "0:" + "a" * 64], "expected SEQ:HASH"),
        (["--expect", "x:" + "a" * 64], "expected SEQ:HASH"),
        (["--expect-from", "{tmp}/missing.zip"], "not an evidence package"),
        (["--expect-from", "{tmp}/empty.zip"], "its ledger slice is empty"),
    ],
)
def test_bad_anchors(
    git_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    _package(tmp_path / "empty.zip", [])
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, text = run(["ledger", "verify", "-C", str(git_repo), *argv], capsys)
    assert code == 2 and message in text, text


def test_the_ledger_branch_is_never_a_working_branch(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = git(git_repo, "symbolic-ref", "--short", "HEAD")
    history = git(git_repo, "rev-parse", current)
    code, text = run(["init", "--branch", current, "-C", str(git_repo)], capsys)
    assert code == 2 and f"the ledger branch {current!r} is checked out in the work tree" in text
    assert not (git_repo / ".sdl-tracker.toml").exists()  # refused before anything was written
    git(git_repo, "worktree", "add", "-q", str(tmp_path / "other"), "-b", "elsewhere")
    code, text = run(["init", "--branch", "elsewhere", "-C", str(git_repo)], capsys)
    assert code == 2 and str(tmp_path / "other") in text
    # A configuration naming the current branch: refused when read and when written.
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    config = git_repo / ".sdl-tracker.toml"
    config.write_text(config.read_text().replace('branch = "sdl-ledger"', f'branch = "{current}"'))
    for argv in (["status"], ["gate"], ["ledger", "verify"]):
        code, text = run([*argv, "-C", str(git_repo)], capsys)
        assert code == 2 and "must never be a working branch" in text, (argv, text)
    assert git(git_repo, "rev-parse", current) == history
