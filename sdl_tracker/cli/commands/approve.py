"""`sdl-tracker approve SEQ`: the approver signs a waiver; until then the waiver is pending."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError, LedgerError

if TYPE_CHECKING:
    from sdl_tracker.workspace import Workspace


NAME = "approve"
HELP = "approve a waiver with your signature (you: an approver in sdl-roster.yaml)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("seq", type=int, metavar="SEQ", help="the waiver's ledger entry number")
    options.person_key(parser)
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    ws = options.workspace(args)
    return run(ws=ws, seq=args.seq, key=options.resolve_key(ws, args.key), fmt=args.format)


def run(*, ws: Workspace, seq: int, key: Path, fmt: str, now: datetime | None = None) -> int:
    from sdl_tracker import ledger
    from sdl_tracker.conformance import signatures, trust, waivers
    from sdl_tracker.conformance.evidence import records
    from sdl_tracker.gitdata import attest, git
    from sdl_tracker.ledger.chain import canonical

    root = ws.repo()
    store = ws.store()
    if not store.exists():
        raise LedgerError(f"no ledger at {store.location}: run `sdl-tracker init` first")
    recs = records(ledger.entries(store))
    target = next((r for r in recs if r.seq == seq), None)
    if target is None or target.statement.predicate.kind != waivers.KIND:
        raise InputError(
            f"entry {seq} is not a waiver in {store.location}; `sdl-tracker status` lists the "
            "waivers and their entries"
        )
    envelope = attest.sign(key, canonical(target.statement))
    head = git.resolve(root, "HEAD")
    roster = trust.read_roster(root, head) if head else None
    if roster is None:
        raise InputError(
            "no sdl-roster.yaml committed at HEAD: the approval could not be checked; add the "
            "roster (docs/concepts/roster.md) with your key and the approver role"
        )
    person, why = attest.signer(envelope, roster)
    if person is None:
        raise InputError(f"your signature does not check against sdl-roster.yaml: {why}")
    statement = signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector=NAME,
        signer=person.identity,
        summary=f"{person.identity} approves the waiver in entry {seq}",
        commit=head,
        now=now or datetime.now(timezone.utc),
    )
    checked = trust.gather(root, head or "", recs)
    requester = waivers.email(str(target.statement.predicate.details.get("requested_by", "")))
    mine = checked.identities(requester) if requester else frozenset()
    theirs = frozenset().union(*(checked.identities(e) for e in person.emails))
    if mine & theirs:
        raise InputError(
            f"you ({person.identity}) requested this waiver ({requester}): a waiver needs "
            "another person's approval"
        )
    (entry,) = ledger.append(store, [statement])
    if fmt == "json":
        output.write_json(entry.to_json())
    output.err(f"recorded entry {entry.seq}: {person.identity} approves the waiver in entry {seq}")
    if "approver" not in person.roles:
        output.err(
            f"warning: {person.identity} does not hold the approver role in sdl-roster.yaml: "
            "the waiver stays pending until the roster gives it"
        )
    return 0
