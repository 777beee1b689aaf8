"""Tests written for mutants of chain.py and trust.py that the other ledger tests let survive
(benchmarks/mutation.sh; the survivors and the reasons for the rest are in docs/testing.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, LedgerError, UnverifiedLedger
from sdl_tracker.ledger import chain, trust
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.models import Artifact

from . import tamper


def test_an_entrys_json_form_names_every_field() -> None:
    """`ledger log/show --format json` reads Entry.to_json: each key and value as stored."""
    ((entry,),) = [chain.seal(None, [make_statement(1)])]
    assert entry.to_json() == {
        "seq": 1,
        "hash": entry.hash,
        "prev": chain.GENESIS,
        "objects": [],
        "statement": json.loads(entry.raw)["statement"],
    }
    second = chain.seal(chain.Head(entry.seq, entry.hash), [make_statement(2)])[0].to_json()
    assert (second["seq"], second["prev"]) == (2, entry.hash)


def test_forget_drops_the_memo_so_the_next_check_is_a_full_one(tmp_path: Path) -> None:
    store = DirStore(tmp_path / "ledger")
    store.create()
    ledger.append(store, [make_statement(1)])
    path = trust.memo_path(store)
    assert path is not None and path.is_file()
    assert trust.read_memo(path) is not None
    trust.forget(store)
    assert not path.exists()
    trust.forget(store)  # nothing to drop: no error
    assert trust.check(store) == store.head()  # a full check writes it again
    assert path.is_file()


def test_forget_on_a_read_only_view_touches_nothing(git_repo: Path) -> None:
    store = GitStore(git_repo)
    store.create()
    ledger.append(store, [make_statement(1)])
    path = trust.memo_path(store)
    assert path is not None and path.is_file()
    commit = store.commit()
    assert commit
    fixed = trust.fixed(store, commit)
    assert trust.memo_path(fixed) is None
    trust.forget(fixed)
    assert path.is_file()


def test_a_memo_whose_commit_git_no_longer_has_means_a_full_check(git_repo: Path) -> None:
    """A memo from a clone whose verified commit is gone (gc, fresh clone): every entry is
    read again instead of trusting the missing commit, and the memo moves to the tip."""
    store = GitStore(git_repo)
    store.create()
    ledger.append(store, [make_statement(i) for i in range(3)])
    path = trust.memo_path(store)
    head = store.head()
    assert head is not None
    gone = "f" * 40
    trust.write_memo(path, trust.Memo(head=head, mark=gone))
    assert trust.check(store) == head
    memo = trust.read_memo(path)
    assert memo is not None and memo.mark == store.commit() != gone
    trust.write_memo(path, trust.Memo(head=head, mark=gone))
    assert [e.seq for e in trust.entries(store)] == [1, 2, 3]


def _pulled(git_repo: Path, count: int) -> tuple[GitStore, Head]:
    """A branch verified here at 2 entries that then gained `count` more from elsewhere (a
    pull): the memo still names the older commit, so the next check reads only what was
    added."""
    store = GitStore(git_repo)
    store.create()
    ledger.append(store, [make_statement(i) for i in range(2)])
    path = trust.memo_path(store)
    assert path is not None
    verified = path.read_bytes()
    ledger.append(store, [make_statement(i) for i in range(2, 2 + count)])
    path.write_bytes(verified)  # as if the new entries came with `git fetch`
    head = store.head()
    assert head is not None and head.seq == 2 + count
    return store, head


def test_entries_added_since_the_memo_are_verified_on_their_own(git_repo: Path) -> None:
    store, head = _pulled(git_repo, 2)
    assert trust.check(store) == head
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None and (memo.head, memo.mark) == (head, store.commit())
    assert [e.seq for e in trust.entries(store)] == [1, 2, 3, 4]


def test_a_bad_entry_added_since_the_memo_is_refused(git_repo: Path) -> None:
    store, _ = _pulled(git_repo, 1)
    files = tamper.branch_files(git_repo)
    (added,) = [p for p, d in files.items() if p.startswith("entries/") and b'"seq":3,' in d]
    files[added] = files[added].replace(b'"status":"pass"', b'"status":"fail"')
    parent = store.commit()
    forged = tamper.commit_files(git_repo, files, parent=parent, message="forged")
    tamper._git(git_repo, "update-ref", "refs/heads/sdl-ledger", forged)
    with pytest.raises(UnverifiedLedger, match="hash does not match its content"):
        trust.check(store)


def _with_artifact(digest: str) -> bytes:
    (entry,) = chain.seal(None, [make_statement(1, [Artifact("report.json", digest)])])
    return entry.raw + b"\n"


@pytest.mark.parametrize(
    "digest",
    ["../" * 21 + "a", "a" * 63, "A" * 64, "a" * 65, "../../../etc/passwd"],
)
def test_an_artifact_digest_not_of_64_lowercase_hex_digits_is_never_read(digest: str) -> None:
    """A forged `objects` member naming a path (or any non-digest) is refused before the
    store is asked for it: both halves of the test, length and alphabet, stand on their own."""
    asked: list[str] = []
    segment = chain.Segment("entries.jsonl", _with_artifact(digest))
    with pytest.raises(ChainError) as e:
        chain.verify([segment], lambda o: asked.append(o) or None, None)
    assert (e.value.seq, e.value.where) == (1, "entries.jsonl line 1")
    assert e.value.reason == f"artifact digest {digest!r} is not a SHA-256"
    assert asked == []


def test_a_missing_or_altered_artifact_names_its_entry_and_line() -> None:
    data = b"report"
    digest = hashlib.sha256(data).hexdigest()
    segment = chain.Segment("entries.jsonl", _with_artifact(digest), first_line=7)
    with pytest.raises(ChainError) as e:
        chain.verify([segment], lambda o: None, None)
    assert (e.value.seq, e.value.where) == (1, "entries.jsonl line 7")
    assert e.value.reason == f"missing artifact sha256:{digest}"
    with pytest.raises(ChainError) as e:
        chain.verify([segment], lambda o: b"altered", None)
    assert (e.value.seq, e.value.where) == (1, "entries.jsonl line 7")
    assert e.value.reason == f"artifact sha256:{digest} does not match its content"
    head = chain.parse(segment.data.rstrip(b"\n"))
    report = chain.verify([segment], {digest: data}.get, Head(1, head.hash))
    assert (report.entries, report.objects) == (1, 1)


def test_verify_reads_no_artifact_up_to_the_entry_known_and_refuses_a_rewrite_of_it() -> None:
    data = b"report"
    digest = hashlib.sha256(data).hexdigest()
    segment = chain.Segment("entries.jsonl", _with_artifact(digest))
    entry = chain.parse(segment.data.rstrip(b"\n"))
    head = Head(1, entry.hash)
    asked: list[str] = []

    def read(obj: str) -> bytes:
        asked.append(obj)
        return data

    assert chain.verify([segment], read, head, known=head).entries == 1
    assert asked == []  # verified here earlier: the artifact is not read again
    assert chain.verify([segment], read, head, known=head, reread=True).entries == 1
    assert asked == [digest]
    with pytest.raises(ChainError, match="was verified here earlier as 000000000000"):
        chain.verify([segment], read, head, known=Head(1, "0" * 64))


def test_an_unreadable_header_or_statement_names_the_entry_and_place() -> None:
    with pytest.raises(ChainError) as e:
        chain.parse(b'{"hash":"x"}')
    assert (e.value.seq, e.value.where) == (0, "?")
    assert e.value.reason.startswith("not a ledger entry: expected {")
    with pytest.raises(ChainError) as e:
        chain.parse(b"[]", "entries.jsonl line 4")
    assert e.value.where == "entries.jsonl line 4"
    (entry,) = chain.seal(None, [make_statement(1)])
    broken = chain.Entry(3, entry.prev, entry.hash, (), entry.raw[:-1])
    with pytest.raises(LedgerError, match=r"^entry 3: not valid JSON \("):
        broken.statement_json()
    cut = entry.raw.replace(b'"predicate":', b'"predicate_":')
    with pytest.raises(LedgerError, match=r"^entry 3: "):
        chain.Entry(3, entry.prev, entry.hash, (), cut).statement()


def test_a_bad_line_is_placed_by_its_number_and_each_verified_segment_is_visited() -> None:
    first, second = chain.seal(None, [make_statement(1), make_statement(2)])
    data = first.raw + b"\n" + second.raw.replace(b'"seq":2', b'"seq":3') + b"\n"
    with pytest.raises(ChainError) as e:
        chain.verify([chain.Segment("entries.jsonl", data, first_line=7)], {}.get, None)
    assert (e.value.seq, e.value.where) == (2, "entries.jsonl line 8")
    seen: list[chain.Segment] = []
    segments = [chain.Segment("a", first.raw), chain.Segment("b", second.raw)]
    head = Head(2, second.hash)
    assert chain.verify(segments, {}.get, head, visit=seen.append).entries == 2
    assert seen == segments


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (lambda raw: b"garbage", "not a ledger entry: expected {"),
        (lambda raw: raw.replace(b'"seq":2', b'"seq":3'), "hash does not match its content"),
        (lambda raw: chain.seal(None, [make_statement(2)])[0].raw, "broken link: prev is "),
    ],
)
def test_each_break_in_the_chain_is_placed_and_named(second: object, reason: str) -> None:
    first, entry = chain.seal(None, [make_statement(1), make_statement(2)])
    data = first.raw + b"\n" + second(entry.raw) + b"\n"  # type: ignore[operator]
    with pytest.raises(ChainError) as e:
        chain.verify([chain.Segment("entries.jsonl", data, first_line=7)], {}.get, None)
    assert (e.value.seq, e.value.where) == (2, "entries.jsonl line 8")
    assert e.value.reason.startswith(reason)
