"""The hash chain: sealing statements into entries and verifying stored bytes (pure functions).

An entry is stored as one line of RFC 8785 canonical JSON::

    {"hash":"<H>","objects":["<sha256>",...],"prev":"<P>","seq":<N>,"statement":{...}}

`H` is the SHA-256 of the canonical JSON of the same object without the `hash` member, that is
of the bytes `{` + everything after `"hash":"<H>",`. Because canonical JSON sorts keys, `hash`
comes first, so the stored line is itself canonical and verification hashes the stored bytes as
they are, never re-serialising. `P` is the previous entry's hash (64 zeros for the first entry),
`N` counts from 1, and `objects` lists the digests of the artifacts the statement names, which
the store keeps content-addressed beside the entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import rfc8785

from sdl_tracker.errors import ChainError, LedgerError
from sdl_tracker.models import Statement

GENESIS = "0" * 64

_HASH_PREFIX = b'{"hash":"'
_OBJECTS = b'"objects":['
_PREV = b'],"prev":"'
_SEQ = b'","seq":'
_STATEMENT = b',"statement":'
_BODY_START = 75  # len('{"hash":"') + 64 + len('",')
_HEX = frozenset(b"0123456789abcdef")
_SORTED = orjson.OPT_SORT_KEYS


@dataclass(frozen=True)
class Head:
    """The last entry of a ledger: what a compare-and-swap append expects."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Entry:
    """One sealed ledger entry and the exact bytes it is stored as."""

    seq: int
    prev: str
    hash: str
    objects: tuple[str, ...]
    raw: bytes

    def statement_json(self) -> Any:
        try:
            return json.loads(self.raw)["statement"]
        # RecursionError: a hand-edited line nested deeper than the parser's stack allows.
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise LedgerError(f"entry {self.seq}: not valid JSON ({e})") from e

    def statement(self) -> Statement:
        try:
            return Statement.from_json(self.statement_json())
        except LedgerError as e:
            raise LedgerError(f"entry {self.seq}: {e}") from e

    def to_json(self) -> dict[str, Any]:
        """The entry object of `ledger log/show --format json`."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "prev": self.prev,
            "objects": list(self.objects),
            "statement": self.statement_json(),
        }


def canonical(statement: Statement) -> bytes:
    """RFC 8785 bytes of the statement's JSON form.

    orjson with sorted keys gives the same bytes as RFC 8785 for statements without floats,
    huge integers or non-ASCII keys, ten times faster than the `rfc8785` package, which
    handles everything else. tests/ledger/test_chain.py checks the two agree.
    """
    data = statement.to_json()
    try:
        if statement.fast_canonical_ok():
            return orjson.dumps(data, option=_SORTED)
        return rfc8785.dumps(data)
    # A lone surrogate (e.g. a path decoded with surrogateescape) is not valid Unicode: both
    # encoders refuse it, and both mean the same.
    except (rfc8785.CanonicalizationError, orjson.JSONEncodeError) as e:
        raise LedgerError(f"statement cannot be canonicalised (RFC 8785): {e}") from e


def seal(head: Head | None, statements: Sequence[Statement]) -> list[Entry]:
    """Chain statements onto `head`, returning the new entries in order."""
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    entries = []
    for statement in statements:
        seq += 1
        objects = tuple(sorted({a.sha256 for a in statement.artifacts}))
        listed = json.dumps(list(objects), separators=(",", ":")).encode() if objects else b"[]"
        body = (
            b'{"objects":'
            + listed
            + b',"prev":"'
            + prev.encode()
            + b'","seq":'
            + str(seq).encode()
            + b',"statement":'
            + canonical(statement)
            + b"}"
        )
        digest = hashlib.sha256(body).hexdigest()
        raw = _HASH_PREFIX + digest.encode() + b'",' + body[1:]
        entries.append(Entry(seq=seq, prev=prev, hash=digest, objects=objects, raw=raw))
        prev = digest
    return entries


def parse(raw: bytes, where: str = "") -> Entry:
    """Read an entry's header from its stored bytes without parsing the statement.

    Raises ChainError (seq 0 when the sequence number itself is unreadable).
    """
    fields = _header(raw)
    if isinstance(fields, str):
        raise ChainError(0, where or "?", fields)
    digest, objects, prev, seq = fields
    return Entry(seq=seq, prev=prev, hash=digest, objects=objects, raw=raw)


def _header(raw: bytes) -> tuple[str, tuple[str, ...], str, int] | str:
    """(hash, objects, prev, seq) from the stored bytes, or the reason they are unreadable."""
    if not raw.startswith(_HASH_PREFIX) or raw[73:_BODY_START] != b'",':
        return 'not a ledger entry: expected {"hash":"<64 hex digits>", at its start'
    if raw[_BODY_START : _BODY_START + 11] != _OBJECTS:
        return 'not a ledger entry: expected "objects":[ after the hash'
    end = raw.find(_PREV, _BODY_START + 11)
    if end < 0:
        return 'not a ledger entry: expected ],"prev":" after the objects'
    listed = raw[_BODY_START + 11 : end]
    objects = (
        tuple(o.strip(b'"').decode("ascii", "replace") for o in listed.split(b","))
        if listed
        else ()
    )
    prev_start = end + len(_PREV)
    seq_start = prev_start + 64 + len(_SEQ)
    if raw[prev_start + 64 : seq_start] != _SEQ:
        return 'not a ledger entry: expected ","seq": after the previous hash'
    seq_end = raw.find(_STATEMENT, seq_start, seq_start + 21)
    if seq_end < 0 or not raw[seq_start:seq_end].isdigit():
        return "not a ledger entry: expected a sequence number after seq"
    return (
        raw[9:73].decode("ascii", "replace"),
        objects,
        raw[prev_start : prev_start + 64].decode("ascii", "replace"),
        int(raw[seq_start:seq_end]),
    )


@dataclass(frozen=True)
class Segment:
    """A run of stored entry lines and where they live (for error messages)."""

    where: str
    data: bytes
    first_line: int = 1


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    objects: int
    head: Head | None


ObjectReader = Callable[[str], "bytes | None"]


def verify(
    segments: Iterable[Segment],
    read_object: ObjectReader,
    head: Head | None,
    *,
    known: Head | None = None,
    reread: bool = False,
    visit: Callable[[Segment], object] | None = None,
) -> VerifyReport:
    """Recompute every hash and link, check every artifact, and compare with the head marker.

    Raises ChainError naming the first bad entry: hash mismatch, broken link, sequence gap,
    missing or altered artifact, or a head marker that does not match the last entry. `known`
    is an entry verified earlier (see `Verifier`); `visit` sees each segment once its entries
    are verified.
    """
    verifier = Verifier(read_object, known=known, reread=reread)
    for segment in segments:
        for _ in verifier.entries(segment):
            pass
        if visit is not None:
            visit(segment)
    return verifier.finish(head)


class Verifier:
    """Checks stored entry lines in order, one segment at a time, yielding each entry checked.

    `known` is an entry verified earlier (remembered by `ledger.trust`): it must still be there
    with the same hash, and the artifacts of the entries up to it are not read again. Every
    entry's own hash, link and sequence number are always recomputed.
    """

    def __init__(
        self,
        read_object: ObjectReader,
        *,
        known: Head | None = None,
        reread: bool = False,
        start: Head | None = None,
    ) -> None:
        self.read_object = read_object
        self.known = known
        self.reread = reread
        """Read every artifact even up to `known` (`ledger verify`)."""
        self.prev = start.hash if start else GENESIS
        """`start`: continue a chain verified up to that entry (only the lines after it come)."""
        self.expected = start.seq + 1 if start else 1
        self.checked: set[str] = set()

    def entries(self, segment: Segment) -> Iterator[Entry]:
        lines = segment.data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        sha256 = hashlib.sha256
        known = self.known
        trusted_up_to = known.seq if known is not None else 0
        skip_up_to = 0 if self.reread else trusted_up_to
        for offset, raw in enumerate(lines):
            fields = _header(raw)
            if isinstance(fields, str):
                raise ChainError(self.expected, _place(segment, offset), fields)
            digest, objects, link, seq = fields
            h = sha256(b"{")
            h.update(raw[_BODY_START:])
            if h.hexdigest() != digest:
                raise ChainError(
                    self.expected, _place(segment, offset), "hash does not match its content"
                )
            if link != self.prev:
                raise ChainError(
                    self.expected,
                    _place(segment, offset),
                    f"broken link: prev is {link[:12]}…, expected {self.prev[:12]}… "
                    "(an entry was removed, reordered or replaced)",
                )
            if seq != self.expected:
                raise ChainError(
                    self.expected,
                    _place(segment, offset),
                    f"sequence gap: seq is {seq}, expected {self.expected}",
                )
            if seq > skip_up_to:
                for obj in objects:
                    if obj not in self.checked:
                        _check_object(obj, self.read_object, seq, _place(segment, offset))
                        self.checked.add(obj)
            if known is not None and seq == trusted_up_to and digest != known.hash:
                raise ChainError(
                    seq,
                    _place(segment, offset),
                    f"entry {seq} was verified here earlier as {known.hash[:12]}… and now reads "
                    f"{digest[:12]}…: the ledger was rewritten from there on",
                )
            self.prev = digest
            self.expected += 1
            yield Entry(seq=seq, prev=link, hash=digest, objects=objects, raw=raw)

    def finish(self, head: Head | None) -> VerifyReport:
        """Compare the chain read so far with the store's head marker."""
        last = self.expected - 1
        _check_head(head, last, self.prev)
        if self.known is not None and last < self.known.seq:
            raise ChainError(
                last + 1,
                "head",
                f"the ledger ends at entry {last} but entry {self.known.seq} "
                f"({self.known.hash[:12]}…) was verified here earlier: it was rewound",
            )
        return VerifyReport(entries=last, objects=len(self.checked), head=head)


def _check_object(obj: str, read_object: ObjectReader, seq: int, where: str) -> None:
    if len(obj) != 64 or not set(obj.encode()) <= _HEX:
        raise ChainError(seq, where, f"artifact digest {obj!r} is not a SHA-256")
    data = read_object(obj)
    if data is None:
        raise ChainError(seq, where, f"missing artifact sha256:{obj}")
    if hashlib.sha256(data).hexdigest() != obj:
        raise ChainError(seq, where, f"artifact sha256:{obj} does not match its content")


def _check_head(head: Head | None, last: int, last_hash: str) -> None:
    if head is None:
        if last:
            raise ChainError(
                last, "head", f"the ledger holds {last} entries but has no head marker"
            )
        return
    if head.seq != last or head.hash != last_hash:
        raise ChainError(
            last + 1 if head.seq > last else head.seq,
            "head",
            f"head marker names entry {head.seq} ({head.hash[:12]}…) but the chain ends at entry "
            f"{last} ({last_hash[:12]}…): entries were truncated or added outside the tool",
        )


def _place(segment: Segment, offset: int) -> str:
    return f"{segment.where} line {segment.first_line + offset}"
