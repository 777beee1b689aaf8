"""`sdl-tracker approve SEQ`: the approver signs a waiver; until then the waiver is pending.

`sdl-tracker approve --policy`: a product-security-lead signs the project policy as committed
at HEAD (the blob of every policy file in the repository); the gate counts its tailoring only
with such an approval naming the blobs of the evaluated commit.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError, LedgerError

if TYPE_CHECKING:
    from sdl_tracker.formats.roster import Roster
    from sdl_tracker.gitdata.attest import Envelope
    from sdl_tracker.workspace import Workspace


NAME = "approve"
HELP = (
    "approve a waiver (you: an approver in sdl-roster.yaml) or, with --policy, the committed "
    "policy's tailoring (you: a product-security-lead)"
)
_CONFIGURED = Path("")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "seq", type=int, metavar="SEQ", nargs="?", help="the waiver's ledger entry number"
    )
    parser.add_argument(
        "--policy",
        type=Path,
        nargs="?",
        const=_CONFIGURED,
        metavar="FILE",
        help="approve the policy committed at HEAD instead (default FILE: `policy` in the "
        "configuration)",
    )
    options.person_key(parser)
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    ws = options.workspace(args)
    if (args.seq is None) == (args.policy is None):
        raise InputError(
            "approve what? give a waiver's entry number (`sdl-tracker approve SEQ`) or "
            "--policy (`sdl-tracker approve --policy`), not both"
        )
    key = options.resolve_key(ws, args.key)
    if args.policy is not None:
        policy = None if args.policy == _CONFIGURED else args.policy
        return run_policy(ws=ws, policy_file=policy, key=key, fmt=args.format)
    return run(ws=ws, seq=args.seq, key=key, fmt=args.format)


def run_policy(
    *, ws: Workspace, policy_file: Path | None, key: Path, fmt: str, now: datetime | None = None
) -> int:
    """Sign an approval naming the blob of every project policy file committed at HEAD."""
    from sdl_tracker import __version__, ledger
    from sdl_tracker.conformance import assessment, signatures, tailoring, trust
    from sdl_tracker.gitdata import attest, git
    from sdl_tracker.ledger.chain import canonical
    from sdl_tracker.models import Predicate, Provenance, Result, ResultStatus, Statement, Tool

    root = ws.repo()
    store = ws.store()
    if not store.exists():
        raise LedgerError(f"no ledger at {store.location}: run `sdl-tracker init` first")
    head = git.resolve(root, "HEAD")
    if head is None:
        raise InputError("no commit yet: commit the policy first, then approve it")
    _, files = assessment.committed_policy(root, head, policy_file or ws.config.policy)
    if not files:
        raise InputError(
            "no project policy to approve: the shipped policy applies as it is (set `policy` "
            "in the configuration, or give --policy FILE, a file committed in the repository)"
        )
    roster = trust.read_roster(root, head)
    if roster is None:
        raise InputError(
            "no sdl-roster.yaml committed at HEAD: the approval could not be checked; add the "
            "roster (docs/concepts/roster.md) with your key and the product-security-lead role"
        )
    stamp = now or datetime.now(timezone.utc)
    names = ", ".join(f"{f.path} (blob {f.blob[:10]})" for f in files)
    statement = Statement(
        commit=head,
        artifacts=(),
        predicate=Predicate(
            kind=tailoring.KIND,
            collector=NAME,
            tool=Tool(name="sdl-tracker", version=__version__),
            requirements=(),
            result=Result(status=ResultStatus.INFO, summary=f"approves the policy {names}"),
            details={"policy": [f.to_json() for f in files]},
            recorded_by=git.identity(root),
            recorded_at=stamp,
            provenance=Provenance.ATTESTED,
        ),
    )
    envelope = attest.sign(key, canonical(statement))
    person, why = attest.signer(envelope, roster)
    if person is None:
        raise InputError(f"your signature does not check against sdl-roster.yaml: {why}")
    _valid_now(envelope, roster, key, stamp)
    if tailoring.ROLE not in person.roles:
        raise InputError(
            f"{person.identity} does not hold the {tailoring.ROLE} role in sdl-roster.yaml at "
            "HEAD: only a product-security-lead approves the policy's tailoring"
        )
    signature = signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector=NAME,
        signer=person.identity,
        summary=f"{person.identity} signs the approval of the policy {names}",
        commit=head,
        now=stamp,
    )
    entry, sig = ledger.append(store, [statement, signature])
    if fmt == "json":
        output.write_json(entry.to_json())
    output.err(
        f"recorded entry {entry.seq} (signature: entry {sig.seq}): {person.identity} approves "
        f"the policy {names}"
    )
    return 0


def run(*, ws: Workspace, seq: int, key: Path, fmt: str, now: datetime | None = None) -> int:
    """Sign an approval of the waiver in entry `seq`."""
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
    now = now or datetime.now(timezone.utc)
    _valid_now(envelope, roster, key, now)
    statement = signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector=NAME,
        signer=person.identity,
        summary=f"{person.identity} approves the waiver in entry {seq}",
        commit=head,
        now=now,
    )
    checked = trust.gather(root, head or "", recs)
    requested_by = str(target.statement.predicate.details.get("requested_by", ""))
    requester = waivers.email(requested_by)
    mine = checked.identities(requester) if requester else frozenset()
    theirs = frozenset().union(*(checked.identities(e) for e in person.emails))
    if mine & theirs:
        raise InputError(
            f"you ({person.identity}) requested this waiver ({requester}): a waiver needs "
            "another person's approval"
        )
    if not trust.requests(checked, seq, requested_by):
        raise InputError(
            f"entry {seq}: the request is not signed by its requester ({requested_by}) with a "
            "key in sdl-roster.yaml at HEAD, so an approval would not count: the requester asks "
            "again with `sdl-tracker waive … --key KEY` (their key in the roster)"
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


def _valid_now(envelope: Envelope, roster: Roster, key: Path, now: datetime) -> None:
    """InputError (exit 2, nothing appended) when the roster's dates for the key exclude now."""
    from sdl_tracker.gitdata import attest

    late = attest.outside_validity(envelope, roster, now)
    if late:
        raise InputError(
            f"--key {key}: {late}: it cannot sign now; sign with a key that is valid today "
            "(add it to the roster, a reviewed change)"
        )
