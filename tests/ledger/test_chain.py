"""What "tamper-evident" means for the hash chain, as properties over generated inputs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pytest
import rfc8785
from helpers import make_statement
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, LedgerError
from sdl_tracker.ledger import chain
from sdl_tracker.ledger.chain import Entry, Head, Segment
from sdl_tracker.models import (
    Artifact,
    Predicate,
    Result,
    ResultStatus,
    Statement,
    Tool,
)

# -- generated statements ---------------------------------------------------------------------

# Characters that trip serialisers: controls, DEL, separators JavaScript cares about, a BOM, the
# last BMP code point (sorts after non-BMP ones in UTF-16 but before them by code point), and
# non-BMP characters (surrogate pairs in UTF-16).
_TRICKY = st.sampled_from(
    [
        "\x00",
        "\x08",
        "\x1f",
        "\x7f",
        "\u2028",
        "\ufeff",
        "\uffff",
        "é",
        "😀",
        "\U0010ffff",
        '"',
        "\\",
    ]
)
TEXT = st.text(st.one_of(st.characters(codec="utf-8"), _TRICKY), max_size=24)
ASCII = st.text(st.characters(codec="ascii"), max_size=12)
KEYS = st.one_of(ASCII, TEXT)
HEX40 = st.text("0123456789abcdef", min_size=40, max_size=40)
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
SAFE_INT = st.integers(-(2**53 - 1), 2**53 - 1)
FLOAT = st.floats(allow_nan=False, allow_infinity=False)
NUMBER = st.one_of(SAFE_INT, FLOAT)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), SAFE_INT, FLOAT, TEXT),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)
TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
).map(lambda t: t.replace(microsecond=0))


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    # Half the examples stay on the fast path (ASCII keys, safe integers, no floats).
    simple = draw(st.booleans())
    keys = ASCII if simple else KEYS
    numbers = SAFE_INT if simple else NUMBER
    details = (
        st.dictionaries(ASCII, st.one_of(ASCII, SAFE_INT), max_size=3)
        if simple
        else (st.dictionaries(KEYS, JSON_VALUE, max_size=4))
    )
    return Statement(
        commit=draw(st.none() | HEX40),
        artifacts=tuple(draw(st.lists(st.builds(Artifact, name=TEXT, sha256=HEX64), max_size=3))),
        predicate=Predicate(
            kind=draw(TEXT),
            collector=draw(TEXT),
            tool=Tool(name=draw(TEXT), version=draw(TEXT)),
            requirements=tuple(draw(st.lists(TEXT, max_size=3))),
            result=Result(
                status=draw(st.sampled_from(ResultStatus)),
                summary=draw(TEXT),
                metrics=draw(st.dictionaries(keys, numbers, max_size=4)),
            ),
            recorded_by=draw(TEXT),
            recorded_at=draw(TIMES),
            covers=tuple(draw(st.lists(TEXT, max_size=3))),
            inputs=draw(st.dictionaries(keys, TEXT, max_size=3)),
            note=draw(TEXT),
            details=draw(details),
        ),
    )


@settings(max_examples=400, deadline=None)
@given(statements())
def test_canonical_fast_path_equals_rfc8785(statement: Statement) -> None:
    event(f"fast path: {statement.fast_canonical_ok()}")
    assert chain.canonical(statement) == rfc8785.dumps(statement.to_json())


@settings(max_examples=200, deadline=None)
@given(statements())
def test_seal_parse_round_trip(statement: Statement) -> None:
    [entry] = chain.seal(None, [statement])
    assert chain.parse(entry.raw) == entry
    # RFC 8785 writes numbers as JavaScript does: 1e16 comes back as an int, -0.0 as 0.
    assert _numbers_as_floats(entry.statement().to_json()) == _numbers_as_floats(
        statement.to_json()
    )
    stored = json.loads(entry.raw)
    assert stored["seq"] == 1 and stored["prev"] == chain.GENESIS
    assert stored["objects"] == sorted({a.sha256 for a in statement.artifacts})
    # The hash is SHA-256 over the RFC 8785 form of the entry without its hash member, and the
    # stored line is that same canonical form with the hash added (it sorts first).
    body = rfc8785.dumps(
        {
            "objects": stored["objects"],
            "prev": chain.GENESIS,
            "seq": 1,
            "statement": statement.to_json(),
        }
    )
    assert hashlib.sha256(body).hexdigest() == entry.hash
    assert entry.raw == b'{"hash":"' + entry.hash.encode() + b'",' + body[1:]


def _numbers_as_floats(value: object) -> object:
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metrics", {"findings": 2**53}),
        ("metrics", {"ratio": float("nan")}),
        ("metrics", {"ratio": float("inf")}),
        ("note", "lone surrogate \udcff from a mis-decoded path"),
        ("details", {"count": 2**64}),
    ],
)
def test_canonical_refuses_what_rfc8785_cannot_express(field: str, value: object) -> None:
    statement = make_statement(1)
    p = statement.predicate
    if field == "metrics":
        p = replace(p, result=replace(p.result, metrics=value))
    else:
        p = replace(p, **{field: value})
    with pytest.raises(LedgerError):
        chain.canonical(replace(statement, predicate=p))


# -- a small ledger and its verification -------------------------------------------------------

N = 20
_ARTIFACTS = [ledger.artifact(f"report-{k}.json", b"finding %d\n" % k * 40) for k in range(3)]
# seq -> artifacts it names; artifact 0 is named twice, so the first naming entry is the one
# verification must blame when its bytes change.
USES = {3: (0,), 7: (1, 2), 11: (0,), 15: (2,)}
FIRST_USE = {k: min(seq for seq, arts in USES.items() if k in arts) for k in range(3)}
ENTRIES = chain.seal(
    None,
    [make_statement(seq, [_ARTIFACTS[k][0] for k in USES.get(seq, ())]) for seq in range(1, N + 1)],
)
OBJECTS = {a.sha256: data for a, data in _ARTIFACTS}
DIGESTS = [a.sha256 for a, _ in _ARTIFACTS]
HEAD = Head(seq=N, hash=ENTRIES[-1].hash)


def _segments(lines: list[bytes], size: int = 7) -> list[Segment]:
    """Stored lines (each with its newline) cut into segments, as a store would return them."""
    return [
        Segment(where=f"batch-{i // size}", data=b"".join(lines[i : i + size]), first_line=1)
        for i in range(0, len(lines), size)
    ]


def _lines() -> list[bytes]:
    return [e.raw + b"\n" for e in ENTRIES]


def test_verify_accepts_the_untouched_ledger() -> None:
    report = chain.verify(_segments(_lines()), OBJECTS.get, HEAD)
    assert report == chain.VerifyReport(entries=N, objects=3, head=HEAD)


def test_verify_accepts_the_empty_ledger() -> None:
    assert chain.verify([], {}.get, None) == chain.VerifyReport(entries=0, objects=0, head=None)


def test_seal_chains_onto_a_head() -> None:
    first = chain.seal(None, [make_statement(1)])
    more = chain.seal(Head(seq=1, hash=first[0].hash), [make_statement(2), make_statement(3)])
    assert [e.seq for e in more] == [2, 3]
    assert more[0].prev == first[0].hash and more[1].prev == more[0].hash
    lines = [e.raw + b"\n" for e in first + more]
    assert chain.verify(_segments(lines, 2), {}.get, Head(3, more[-1].hash)).entries == 3


@dataclass(frozen=True)
class Mutation:
    kind: str
    args: tuple[int, ...]


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(
        st.sampled_from(
            [
                "flip_entry",
                "flip_artifact",
                "drop_artifact",
                "delete",
                "swap",
                "cut_run",
                "replace",
                "head_seq",
                "head_hash",
                "head_missing",
            ]
        )
    )
    if kind == "flip_entry":
        k = draw(st.integers(0, N - 1))
        # Any byte of the stored line, its newline included.
        pos = draw(st.integers(0, len(ENTRIES[k].raw)))
        return Mutation(kind, (k, pos, draw(st.integers(1, 255))))
    if kind == "flip_artifact":
        j = draw(st.integers(0, 2))
        pos = draw(st.integers(0, len(OBJECTS[DIGESTS[j]]) - 1))
        return Mutation(kind, (j, pos, draw(st.integers(1, 255))))
    if kind == "drop_artifact":
        return Mutation(kind, (draw(st.integers(0, 2)),))
    if kind in ("delete", "replace"):
        return Mutation(kind, (draw(st.integers(0, N - 1)),))
    if kind == "swap":
        i = draw(st.integers(0, N - 2))
        return Mutation(kind, (i, draw(st.integers(i + 1, N - 1))))
    if kind == "cut_run":
        a = draw(st.integers(0, N - 1))
        return Mutation(kind, (a, draw(st.integers(a + 1, N))))
    if kind == "head_seq":
        return Mutation(kind, (draw(st.integers(1, N + 5).filter(lambda s: s != N)),))
    return Mutation(kind, ())


def _apply(m: Mutation) -> tuple[list[Segment], dict[str, bytes], Head | None, int, bool]:
    """(segments, objects, head, seq the error must name, whether it must be the head's fault)."""
    lines, objects, head = _lines(), dict(OBJECTS), HEAD
    if m.kind == "flip_entry":
        k, pos, mask = m.args
        line = bytearray(lines[k])
        line[pos] ^= mask
        lines[k] = bytes(line)
        return _segments(lines), objects, head, k + 1, False
    if m.kind == "flip_artifact":
        j, pos, mask = m.args
        data = bytearray(objects[DIGESTS[j]])
        data[pos] ^= mask
        objects[DIGESTS[j]] = bytes(data)
        return _segments(lines), objects, head, FIRST_USE[j], False
    if m.kind == "drop_artifact":
        (j,) = m.args
        del objects[DIGESTS[j]]
        return _segments(lines), objects, head, FIRST_USE[j], False
    if m.kind == "delete":
        (k,) = m.args
        del lines[k]
        return _segments(lines), objects, head, k + 1, k == N - 1
    if m.kind == "swap":
        i, j = m.args
        lines[i], lines[j] = lines[j], lines[i]
        return _segments(lines), objects, head, i + 1, False
    if m.kind == "cut_run":
        a, b = m.args
        del lines[a:b]
        return _segments(lines), objects, head, a + 1, b == N
    if m.kind == "replace":
        # A forger re-seals entry k with another statement: its own hash is valid, so the next
        # link (or, for the last entry, the head marker) is what gives it away.
        (k,) = m.args
        prior = Head(seq=k, hash=ENTRIES[k - 1].hash) if k else None
        [forged] = chain.seal(prior, [make_statement(k + 1, note="forged")])
        lines[k] = forged.raw + b"\n"
        return _segments(lines), objects, head, min(k + 2, N), k == N - 1
    if m.kind == "head_seq":
        (s,) = m.args
        return _segments(lines), objects, replace(HEAD, seq=s), s if s < N else N + 1, True
    if m.kind == "head_hash":
        return _segments(lines), objects, replace(HEAD, hash=ENTRIES[-2].hash), N, True
    assert m.kind == "head_missing"
    return _segments(lines), objects, None, N, True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_any_mutation_is_detected_and_blamed_on_the_right_entry(m: Mutation) -> None:
    event(m.kind)
    segments, objects, head, seq, at_head = _apply(m)
    with pytest.raises(ChainError) as info:
        chain.verify(segments, objects.get, head)
    assert info.value.seq == seq, str(info.value)
    assert (info.value.where == "head") == at_head, str(info.value)
    assert str(info.value).startswith(f"entry {seq} (")


# -- reading hand-edited lines never fails with anything but LedgerError ------------------------

VALID = ENTRIES[6].raw  # names two artifacts


@st.composite
def damaged_lines(draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["flip", "truncate", "splice", "statement", "noise"]))
    if how == "flip":
        line = bytearray(VALID)
        for _ in range(draw(st.integers(1, 4))):
            line[draw(st.integers(0, len(line) - 1))] ^= draw(st.integers(1, 255))
        return bytes(line)
    if how == "truncate":
        return VALID[: draw(st.integers(0, len(VALID) - 1))]
    if how == "splice":
        at = draw(st.integers(0, len(VALID)))
        return VALID[:at] + draw(st.binary(max_size=20)) + VALID[at:]
    if how == "statement":
        # A well-formed header in front of any JSON value (or none) as the statement.
        head, _, _ = VALID.partition(b'"statement":')
        value = json.dumps(draw(JSON_VALUE)).encode()
        return head + b'"statement":' + value + draw(st.sampled_from([b"}", b"", b"}}"]))
    return draw(st.binary(max_size=200))


def _read(raw: bytes) -> None:
    entry = chain.parse(raw, "hand-edited line 1")
    entry.statement()
    entry.to_json()


@settings(max_examples=500, deadline=None)
@given(damaged_lines())
def test_reading_a_damaged_line_raises_ledger_error_or_succeeds(raw: bytes) -> None:
    try:
        _read(raw)
    except LedgerError:
        pass


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json at all",
        b"{}",
        b"[1, 2, 3]",
        b"\xff\xfe\x00garbage",
        VALID.replace(b'"statement":{', b'"statement":[', 1),
        VALID.replace(b'"statement":{', b'"statement":"', 1),
        VALID[: VALID.index(b'"statement":') + 12] + b"[" * 100_000 + b"]" * 100_000 + b"}",
        VALID[: VALID.index(b'"statement":') + 12] + b'{"_type": 1}}',
        VALID.replace(b'"recorded_at":"', b'"recorded_at":"not a time', 1),
        VALID.replace(b'"status":"pass"', b'"status":"maybe"', 1),
        VALID.replace(b'"medium":', b'"medium":"many","x":', 1),
    ],
)
def test_reading_hand_edited_lines_raises_ledger_error(raw: bytes) -> None:
    with pytest.raises(LedgerError):
        _read(raw)


def test_a_valid_line_reads_back() -> None:
    entry = chain.parse(VALID)
    assert entry == ENTRIES[6]
    assert entry.statement() == make_statement(7, [_ARTIFACTS[1][0], _ARTIFACTS[2][0]])
    assert isinstance(entry, Entry)
