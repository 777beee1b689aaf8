"""A lost compare-and-swap race: the loser re-chains on the winner's head and tries again, or
gives up with a clear message; no entry of either writer is lost, nothing forks."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import HeadMoved, LedgerError
from sdl_tracker.ledger.chain import Entry, Head
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.pgstore import PgStore
from sdl_tracker.ledger.store import Object, Store


@pytest.fixture(params=["git", "dir", "pg"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made: Store
    if request.param == "git":
        made = GitStore(request.getfixturevalue("git_repo"))
    elif request.param == "dir":
        made = DirStore(tmp_path / "ledger")
    else:
        made = PgStore(request.getfixturevalue("pg_url"), "race")
    made.create()
    ledger.append(made, [make_statement(0, note="first")])
    return made


def beaten(store: Store, rival: Store, times: int) -> Store:
    """`store`, except that another writer (`rival`, a second handle on the same ledger)
    appends an entry right before each of its first `times` writes: a real lost race."""

    class Beaten(type(store)):  # type: ignore[misc]
        rivals = times

        def append(
            self, entries: Sequence[Entry], objects: Mapping[str, Object], *, expected: Head | None
        ) -> None:
            if self.rivals:
                self.rivals -= 1
                ledger.append(rival, [make_statement(100 + self.rivals, note="rival")])
            super().append(entries, objects, expected=expected)

    loser = copy.copy(store)
    loser.__class__ = Beaten
    return loser


def _notes(store: Store) -> list[str]:
    return [e.statement().predicate.note for e in ledger.entries(store)]


def test_the_store_refuses_a_stale_head_and_writes_nothing(store: Store) -> None:
    head = store.head()
    assert head is not None
    ledger.append(copy.copy(store), [make_statement(1, note="winner")])
    (stale,) = ledger.chain.seal(head, [make_statement(2, note="loser")])
    with pytest.raises(HeadMoved):
        store.append([stale], {}, expected=head)
    assert _notes(store) == ["first", "winner"]
    assert ledger.verify(store).entries == 2


def test_the_loser_rechains_on_the_winner_and_retries(store: Store) -> None:
    loser = beaten(store, copy.copy(store), times=2)
    (entry,) = ledger.append(loser, [make_statement(1, note="loser")])
    assert entry.seq == 4  # after the two entries that won the races
    assert _notes(store) == ["first", "rival", "rival", "loser"]
    report = ledger.verify(store)
    assert report.entries == 4 and report.head == Head(seq=4, hash=entry.hash)


def test_a_loser_that_never_wins_gives_up_clearly_and_keeps_every_entry(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "_ATTEMPTS", 3)
    loser = beaten(store, copy.copy(store), times=3)
    with pytest.raises(LedgerError) as caught:
        ledger.append(loser, [make_statement(1, note="loser")])
    message = str(caught.value)
    assert "gave up after 3 concurrent-append conflicts" in message
    assert "nothing of this command was appended" in message and "Run the command again" in message
    assert _notes(store) == ["first", "rival", "rival", "rival"]
    assert ledger.verify(store).entries == 4
