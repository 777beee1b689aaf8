"""`ledger.find_lines`, the search `ledger verify` uses for checkpoints and people's entries:
exactly the lines that hold a mark, whatever the bytes around it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sdl_tracker import ledger
from sdl_tracker.cli.commands.ledger import _PERSON_MARKS
from sdl_tracker.conformance import checkpoints
from sdl_tracker.ledger.chain import Segment

MARKS = (checkpoints.MARK, *_PERSON_MARKS)
# Fragments that make near misses: marks cut short, keys and values swapped, escaped quotes,
# a member separator repeated (`":":"`), and marks run together.
_PIECES = st.sampled_from(
    [
        *MARKS,
        b'"kind":"checkpoin',
        b'kind":"checkpoint"',
        b'"kind":"record"',
        b'"collector":"checkpoint"',
        b'"collector":"recorded_by"',
        b'\\"collector\\":\\"waive\\"',
        b'":"',
        b'":":"',
        b'"',
        b":",
        b"\\",
        b"approve",
        b"checkpoint",
        b'"collector',
        b'"kind',
        b"x",
        b"{",
        b"}",
        b",",
    ]
)
_BODY = st.lists(_PIECES, max_size=12).map(b"".join)


def _line(seq: int, body: bytes) -> bytes:
    return (
        b'{"hash":"'
        + b"a" * 64
        + b'","objects":[],"prev":"'
        + b"b" * 64
        + b'","seq":'
        + str(seq).encode()
        + b',"statement":'
        + body
        + b"}"
    )


def _found(lines: list[bytes], marks: tuple[bytes, ...], end: bytes = b"\n") -> list[bytes]:
    segment = Segment(where="entries.jsonl", data=b"\n".join(lines) + end)
    return [entry.raw for entry in ledger.find_lines(segment, marks)]


@settings(max_examples=80, deadline=None)
@given(st.lists(_BODY, min_size=1, max_size=8), st.booleans())
def test_finds_exactly_the_lines_holding_a_mark(bodies: list[bytes], newline: bool) -> None:
    lines = [_line(seq, body) for seq, body in enumerate(bodies, start=1)]
    expected = [line for line in lines if any(mark in line for mark in MARKS)]
    assert _found(lines, MARKS, b"\n" if newline else b"") == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(_BODY, min_size=1, max_size=8))
def test_marks_of_another_form_are_searched_one_by_one(bodies: list[bytes]) -> None:
    # Not one `"key":"value"` member: a bare word, a number value, a key alone.
    marks = (b"checkpoint", b'"seq":1', checkpoints.MARK, b'"kind":"', b'"collector":"waive"')
    lines = [_line(seq, body) for seq, body in enumerate(bodies, start=1)]
    expected = [line for line in lines if any(mark in line for mark in marks)]
    assert _found(lines, marks) == expected
