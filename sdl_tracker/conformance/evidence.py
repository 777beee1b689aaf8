"""Ledger entries as evaluation input: each statement parsed once, with its sequence and hash."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sdl_tracker.ledger.chain import Entry
from sdl_tracker.models import Statement


@dataclass(frozen=True)
class Record:
    """One ledger entry's statement, with where it sits in the ledger."""

    seq: int
    hash: str
    statement: Statement


def records(items: Iterable[Entry | Record | Statement]) -> tuple[Record, ...]:
    """Records in ledger order from entries, records, or bare statements (numbered from 1)."""
    result = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, Record):
            result.append(item)
        elif isinstance(item, Statement):
            result.append(Record(seq=position, hash="", statement=item))
        else:
            result.append(Record(seq=item.seq, hash=item.hash, statement=item.statement()))
    result.sort(key=lambda r: r.seq)
    return tuple(result)


def covered(path: str, covers: Iterable[str]) -> bool:
    """Whether a repository path lies under any of `covers` (normalised paths)."""
    for c in covers:
        if c == "." or path == c or path.startswith(c + "/"):
            return True
    return False


def overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two sets of covered paths share any path; empty covers only match empty covers."""
    if not a or not b:
        return not a and not b
    return any(covered(x, b) or covered(y, a) for x in a for y in b)
