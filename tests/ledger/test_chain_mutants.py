"""Tests written for mutants of chain.py and trust.py that the other ledger tests let survive
(benchmarks/mutation.sh; the survivors and the reasons for the rest are in docs/testing.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
import rfc8785
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


_PAIR = chain.seal(None, [make_statement(1), make_statement(2)])
_PAIR_DATA = b"".join(e.raw + b"\n" for e in _PAIR)
_TAIL = ": entries were truncated or added outside the tool"


def _head_error(data: bytes, head: Head | None) -> ChainError:
    with pytest.raises(ChainError) as e:
        chain.verify([chain.Segment("entries.jsonl", data)], {}.get, head)
    return e.value


def test_a_head_marker_that_does_not_match_the_chain_names_both_ends() -> None:
    """Each way the head marker and the chain disagree: which entry is blamed, and the whole
    message (the marker's entry and hash, the chain's last entry and hash)."""
    first, second = _PAIR
    e = _head_error(_PAIR_DATA, None)
    assert (e.seq, e.where, e.reason) == (
        2,
        "head",
        "the ledger holds 2 entries but has no head marker",
    )
    e = _head_error(first.raw + b"\n", None)
    assert (e.seq, e.reason) == (1, "the ledger holds 1 entries but has no head marker")
    assert chain.verify([], {}.get, None).entries == 0  # empty, no marker: nothing wrong
    cases = [  # (data, head, blamed entry, chain's last entry, its hash)
        (b"", Head(1, first.hash), 1, 0, chain.GENESIS),  # a marker on an empty chain
        (_PAIR_DATA, Head(1, first.hash), 1, 2, second.hash),  # added outside the tool
        (_PAIR_DATA, Head(2, first.hash), 2, 2, second.hash),  # same seq, another hash
        (_PAIR_DATA, Head(3, second.hash), 3, 2, second.hash),  # truncated
        (first.raw + b"\n", Head(2, second.hash), 2, 1, first.hash),
    ]
    for data, head, blamed, last, last_hash in cases:
        e = _head_error(data, head)
        assert (e.seq, e.where) == (blamed, "head"), head
        assert e.reason == (
            f"head marker names entry {head.seq} ({head.hash[:12]}…) but the chain ends at "
            f"entry {last} ({last_hash[:12]}…){_TAIL}"
        )
    report = chain.verify(
        [chain.Segment("entries.jsonl", _PAIR_DATA)], {}.get, Head(2, second.hash)
    )
    assert report == chain.VerifyReport(entries=2, objects=0, head=Head(2, second.hash))


def test_a_ledger_that_ends_before_the_entry_verified_earlier_was_rewound() -> None:
    """The chain and its head marker agree, but they end before the entry remembered as
    verified: a rewind (both moved back together), blamed on the first entry missing."""
    first, second = _PAIR
    known = Head(2, second.hash)
    verifier = chain.Verifier({}.get, known=known)
    assert [e.seq for e in verifier.entries(chain.Segment("entries.jsonl", first.raw))] == [1]
    with pytest.raises(ChainError) as e:
        verifier.finish(Head(1, first.hash))
    assert (e.value.seq, e.value.where) == (2, "head")
    assert e.value.reason == (
        f"the ledger ends at entry 1 but entry 2 ({second.hash[:12]}…) was verified here "
        "earlier: it was rewound"
    )
    empty = chain.Verifier({}.get, known=Head(1, first.hash))
    with pytest.raises(ChainError, match=r"^entry 1 \(head\): the ledger ends at entry 0 but"):
        empty.finish(None)
    # Up to and beyond the entry verified earlier: no rewind.
    for known_seq, entry in ((1, first), (2, second)):
        verifier = chain.Verifier({}.get, known=Head(known_seq, entry.hash))
        assert len(list(verifier.entries(chain.Segment("entries.jsonl", _PAIR_DATA)))) == 2
        head = Head(2, second.hash)
        assert verifier.finish(head) == chain.VerifyReport(entries=2, objects=0, head=head)


def test_seal_lists_each_artifact_once_sorted_in_canonical_bytes() -> None:
    """The entry's `objects` are the statement's artifact digests, each once, sorted (not in
    the statement's order); the stored line is itself canonical JSON and its hash is that of
    the same object without `hash`."""
    a, b = (hashlib.sha256(x).hexdigest() for x in (b"a", b"b"))
    if a > b:
        a, b = b, a
    arts = [Artifact("z.json", b), Artifact("y.json", a), Artifact("x.json", b)]
    head = Head(4, "c" * 64)
    (entry,) = chain.seal(head, [make_statement(5, arts)])
    assert (entry.seq, entry.prev, entry.objects) == (5, "c" * 64, (a, b))
    obj = json.loads(entry.raw)
    assert obj["objects"] == [a, b] and (obj["seq"], obj["prev"]) == (5, "c" * 64)
    assert rfc8785.dumps(obj) == entry.raw
    del obj["hash"]
    assert hashlib.sha256(rfc8785.dumps(obj)).hexdigest() == entry.hash
    assert chain.parse(entry.raw) == entry
    (bare,) = chain.seal(None, [make_statement(1)])
    assert (bare.seq, bare.prev, bare.objects) == (1, chain.GENESIS, ())
    assert b'"objects":[],"prev":"' + chain.GENESIS.encode() + b'","seq":1,' in bare.raw


def test_the_verifier_yields_each_entry_as_sealed() -> None:
    """What `Verifier.entries` yields is what the stores read back (log, show, export)."""
    data = b"report"
    art = Artifact("r.json", hashlib.sha256(data).hexdigest())
    sealed = chain.seal(None, [make_statement(1, [art]), make_statement(2), make_statement(3)])
    lines = b"".join(e.raw + b"\n" for e in sealed)
    verifier = chain.Verifier({art.sha256: data}.get)
    assert list(verifier.entries(chain.Segment("entries.jsonl", lines))) == sealed
    # Continuing a chain verified up to entry 2 elsewhere: only the line after it comes.
    verifier = chain.Verifier({}.get, start=Head(2, sealed[1].hash))
    assert list(verifier.entries(chain.Segment("x", sealed[2].raw))) == sealed[2:]
    assert verifier.finish(Head(3, sealed[2].hash)).entries == 3


def test_a_broken_link_a_sequence_gap_and_a_rewrite_say_what_was_expected() -> None:
    first, second, third = chain.seal(None, [make_statement(i) for i in (1, 2, 3)])
    (stray,) = chain.seal(Head(1, "d" * 64), [make_statement(2)])

    def error(*lines: bytes, known: Head | None = None) -> ChainError:
        with pytest.raises(ChainError) as e:
            segment = chain.Segment("e", b"\n".join(lines))
            chain.verify([segment], {}.get, None, known=known)
        return e.value

    e = error(first.raw, stray.raw)
    assert (e.seq, e.where) == (2, "e line 2")
    assert e.reason == (
        f"broken link: prev is dddddddddddd…, expected {first.hash[:12]}… "
        "(an entry was removed, reordered or replaced)"
    )
    (skipped,) = chain.seal(Head(2, first.hash), [make_statement(3)])  # seq 3 right after 1
    e = error(first.raw, skipped.raw)
    assert (e.seq, e.where, e.reason) == (2, "e line 2", "sequence gap: seq is 3, expected 2")
    e = error(first.raw, second.raw, third.raw, known=Head(2, "e" * 64))
    assert (e.seq, e.where) == (2, "e line 2")
    assert e.reason == (
        f"entry 2 was verified here earlier as eeeeeeeeeeee… and now reads "
        f"{second.hash[:12]}…: the ledger was rewritten from there on"
    )


def _reason(raw: bytes) -> str:
    with pytest.raises(ChainError) as e:
        chain.parse(raw, "e line 1")
    assert (e.value.seq, e.value.where) == (0, "e line 1")
    return e.value.reason


def test_each_unreadable_part_of_a_header_is_named() -> None:
    """`_header` reads the stored bytes by position: each field it expects, where it expects
    it, and the reason given when it is not there."""
    digest = hashlib.sha256(b"x").hexdigest()
    (entry,) = chain.seal(Head(41, "b" * 64), [make_statement(1, [Artifact("r", digest)])])
    raw = entry.raw
    start = 'not a ledger entry: expected {"hash":"<64 hex digits>", at its start'
    assert _reason(b" " + raw) == start
    assert _reason(raw[:9] + raw[10:]) == start  # a 63-digit hash
    assert _reason(raw[:73] + b"'," + raw[75:]) == start
    assert _reason(raw[:75]) == 'not a ledger entry: expected "objects":[ after the hash'
    assert _reason(raw.replace(b'"objects":[', b'"objects":(')) == (
        'not a ledger entry: expected "objects":[ after the hash'
    )
    assert _reason(raw.replace(b'],"prev":"', b'],"prev" :"')) == (
        'not a ledger entry: expected ],"prev":" after the objects'
    )
    after_prev = 'not a ledger entry: expected ","seq": after the previous hash'
    assert _reason(raw.replace(b"b" * 64, b"b" * 63)) == after_prev
    assert _reason(raw.replace(b"b" * 64, b"b" * 65)) == after_prev
    no_seq = "not a ledger entry: expected a sequence number after seq"
    for seq in (b"", b"-42", b"4 2", b"4.2", b"42x"):
        assert _reason(raw.replace(b'"seq":42,', b'"seq":' + seq + b",")) == no_seq, seq
    assert _reason(raw.replace(b',"statement":', b',"statement" :')) == no_seq
    parsed = chain.parse(raw.replace(b'"seq":42,', b'"seq":12345678,'))
    assert (parsed.seq, parsed.prev, parsed.objects) == (12345678, "b" * 64, (digest,))
    assert parsed.hash == entry.hash


def test_a_non_ascii_byte_in_a_header_is_a_broken_entry_not_a_crash() -> None:
    """A byte that is not ASCII in the hash, an artifact digest or the previous hash reads as
    a replacement character: the entry then fails its checks with a ChainError."""
    data = b"report"
    digest = hashlib.sha256(data).hexdigest()
    (entry,) = chain.seal(None, [make_statement(1, [Artifact("r", digest)])])
    for old, reason in (
        (entry.hash, "hash does not match its content"),
        (digest, "hash does not match its content"),
        (chain.GENESIS, "hash does not match its content"),
    ):
        raw = entry.raw.replace(old.encode(), b"\xff" + old[1:].encode(), 1)
        parsed = chain.parse(raw)
        assert "\ufffd" in (parsed.hash + parsed.prev + "".join(parsed.objects))
        with pytest.raises(ChainError) as e:
            chain.verify([chain.Segment("e", raw)], {digest: data}.get, None)
        assert (e.value.seq, e.value.reason) == (1, reason)


def test_header_fields_are_found_after_the_hash_whatever_its_slot_holds() -> None:
    """The 64 bytes of the hash slot are not trusted to be hex: a forged slot holding the
    markers `],"prev":"` and `,"statement":` does not move where the other fields are read;
    the entry still reads (and then fails its hash check)."""
    digest = hashlib.sha256(b"x").hexdigest()
    (entry,) = chain.seal(Head(41, "b" * 64), [make_statement(1, [Artifact("r", digest)])])
    slot = b',"statement":' + b"0" * 42 + b'],"prev":'  # + the `"` after the slot
    forged = entry.raw[:9] + slot + entry.raw[73:]
    parsed = chain.parse(forged)
    assert (parsed.seq, parsed.prev, parsed.objects) == (42, "b" * 64, (digest,))
    assert parsed.hash == slot.decode()
    with pytest.raises(ChainError, match="hash does not match its content"):
        chain.verify([chain.Segment("e", forged)], {}.get, None, known=None)
    # A later `],"prev":"` (a statement holding a list then a "prev" key) is not the header's.
    later = entry.raw[:-1] + b',"x":[1],"prev":"' + b"f" * 64 + b'","seq":7}'
    assert (chain.parse(later).prev, chain.parse(later).seq) == ("b" * 64, 42)


def test_artifact_digests_are_read_as_listed_not_repaired() -> None:
    """What is between the brackets is split on commas and stripped of its quotes, nothing
    more: a stray character makes a digest that is not a SHA-256, never a valid one."""
    d = hashlib.sha256(b"x").hexdigest()
    (entry,) = chain.seal(None, [make_statement(1, [Artifact("r", d)])])
    for listed, read in (
        (b'x"' + d.encode() + b'"', 'x"' + d),
        (b'"X' + d.encode() + b'"', "X" + d),
    ):
        raw = entry.raw.replace(b'"' + d.encode() + b'"', listed, 1)
        assert chain.parse(raw).objects == (read,)


def test_a_sequence_number_is_at_most_eight_digits_and_never_a_crash() -> None:
    """The header reader looks for `,"statement":` within 21 bytes of `"seq":`, which bounds a
    sequence number to 8 digits (99,999,999 entries): a longer one, or thousands of digits (which
    `int()` would refuse with a ValueError), is an unreadable entry."""
    (entry,) = chain.seal(None, [make_statement(1)])
    assert chain.parse(entry.raw.replace(b'"seq":1,', b'"seq":99999999,')).seq == 99999999
    no_seq = "not a ledger entry: expected a sequence number after seq"
    for digits in (b"123456789", b"9" * 5000):
        assert _reason(entry.raw.replace(b'"seq":1,', b'"seq":' + digits + b",")) == no_seq


def test_a_verifier_reads_no_artifact_up_to_the_known_entry_unless_asked() -> None:
    """`Verifier` (used by `ledger.trust` without `reread`) trusts the artifacts up to `known`
    by default; `reread=True` reads them again."""
    data = b"report"
    segment = chain.Segment("e", _with_artifact(hashlib.sha256(data).hexdigest()))
    known = chain.parse(segment.data.rstrip(b"\n"))
    asked: list[str] = []

    def read(obj: str) -> bytes:
        asked.append(obj)
        return data

    assert len(list(chain.Verifier(read, known=Head(1, known.hash)).entries(segment))) == 1
    assert asked == []
    verifier = chain.Verifier(read, known=Head(1, known.hash), reread=True)
    assert len(list(verifier.entries(segment))) == 1
    assert asked == list(known.objects)


def test_a_statement_that_cannot_be_canonicalised_says_so() -> None:
    statement = make_statement(1)
    bad = replace(statement, predicate=replace(statement.predicate, note="\udcff"))
    with pytest.raises(LedgerError, match=r"^statement cannot be canonicalised \(RFC 8785\): "):
        chain.canonical(bad)
