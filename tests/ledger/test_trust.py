"""Verify before believing: no command judges, reports from or appends to a broken ledger."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from evidence_factory import only, policy_file

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
    policy = policy_file(git_repo.parent, "extends: iec62443-4-1\n" + only("SM-4"), "p.yaml")
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
        ["waive", "SM-4", "--reason", "ok", "--expires", "2999-01-01", "--approver", "A <a@b>"],
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
    if "--ledger-dir" in extra:
        pytest.skip("a directory has no history to rewind to")
    assert run(["status", "-C", str(root), *extra], capsys)[0] == 0
    git(root, "update-ref", "refs/heads/sdl-ledger", "sdl-ledger~1")
    code, text = run(["gate", "-C", str(root), *extra], capsys)
    assert code == 2, text
    assert "verified here earlier" in text and "rewound" in text


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


def _raw(seq: int, prev: str, statement: bytes = b"{}", objects: bytes = b"") -> bytes:
    body = (
        b'{"objects":['
        + objects
        + b'],"prev":"'
        + prev.encode()
        + b'","seq":'
        + str(seq).encode()
        + b',"statement":'
        + statement
        + b"}"
    )
    digest = hashlib.sha256(body).hexdigest()
    return b'{"hash":"' + digest.encode() + b'",' + body[1:]


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
