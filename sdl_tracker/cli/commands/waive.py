"""`sdl-tracker waive REQ-ID|FINDING-ID`: record an approved, time-limited exception."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import CatalogError, InputError

if TYPE_CHECKING:
    from sdl_tracker.conformance.trust import Trust
    from sdl_tracker.formats.roster import Person, Roster
    from sdl_tracker.models import Statement
    from sdl_tracker.workspace import Workspace


NAME = "waive"
HELP = (
    "request a time-limited waiver for a requirement or a finding (signed with your key; an "
    "approver signs it)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", metavar="REQ-ID|FINDING-ID", help="e.g. SVV-4, B602, PYSEC-2018-28"
    )
    parser.add_argument("--reason", required=True, help="why the exception is acceptable")
    parser.add_argument(
        "--expires", required=True, metavar="DATE", help="last day it counts (YYYY-MM-DD, UTC)"
    )
    parser.add_argument(
        "--approver",
        required=True,
        metavar="'NAME <EMAIL>'",
        help="who is to approve it: someone other than you, with the approver role in "
        "sdl-roster.yaml, who then runs `sdl-tracker approve SEQ`",
    )
    parser.add_argument(
        "--justification",
        metavar="LABEL",
        help="a finding waiver that says the product is NOT AFFECTED, and why: "
        "component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
        "vulnerable_code_cannot_be_controlled_by_adversary or inline_mitigations_already_exist "
        "(`advisory --profile vex` then states it)",
    )
    options.person_key(parser)
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        target=args.target,
        reason=args.reason,
        expires=args.expires,
        approver=args.approver,
        fmt=args.format,
        justification=args.justification,
        key=args.key,
    )


def run(
    *,
    ws: Workspace,
    target: str,
    reason: str,
    expires: str,
    approver: str,
    fmt: str,
    now: datetime | None = None,
    justification: str | None = None,
    key: Path | None = None,
) -> int:
    """Record the waiver request; with a roster at HEAD (or `key`), signed by the requester's
    own key, so the requester is proved, not claimed (the signer's roster identity)."""
    from sdl_tracker import ledger
    from sdl_tracker.conformance import trust
    from sdl_tracker.conformance import waivers as waivers_mod
    from sdl_tracker.gitdata import git
    from sdl_tracker.policy import load as policy_mod

    now = now or datetime.now(timezone.utc)
    root = ws.repo()
    head = git.resolve(root, "HEAD")
    roster = trust.read_roster(root, head) if head else None
    if roster is not None and key is None:
        try:
            key = options.resolve_key(ws, None)
        except InputError as e:
            raise InputError(
                f"{e}: sdl-roster.yaml is committed, so a waiver request is signed by its "
                "requester (a person the roster lists with that key)"
            ) from e
    requester = git.identity(root)
    if roster is not None:
        person = roster.by_email(waivers_mod.email(requester) or "")
        requester = person.identity if person is not None else requester
    _check_target(target, ws.config.catalog)
    if not reason.strip():
        raise InputError("--reason is empty: say why the exception is acceptable")
    if justification is not None:
        if waivers_mod.REQUIREMENT_ID.match(target):
            raise InputError(
                f"--justification belongs to a finding waiver (a vulnerability id), not to "
                f"requirement {target}"
            )
        if justification not in waivers_mod.JUSTIFICATIONS:
            raise InputError(
                f"--justification {justification!r}: expected one of "
                f"{', '.join(waivers_mod.JUSTIFICATIONS)}"
            )
    if waivers_mod.email(approver) is None:
        raise InputError(
            f"--approver {approver!r}: give the approver as 'Name <email>' "
            "(the e-mail is what proves the approver is not the requester)"
        )
    if waivers_mod.same_person(approver, requester):
        raise InputError(
            f"the approver {approver!r} is the requester ({requester}, your git identity): "
            "a waiver needs someone else's approval"
        )
    expiry = waivers_mod.parse_expiry(expires)
    if expiry <= now:
        raise InputError(f"--expires {expires}: that is not in the future; give a later date")
    limit = policy_mod.resolve(None, ws.config.policy).approvals.waiver_max_days
    if (expiry - now).days > limit:
        raise InputError(
            f"--expires {expires}: the waiver would last {(expiry - now).days} days; the policy "
            f"allows at most {limit} (approvals.waiver_max_days): give an earlier date"
        )
    store = ws.store()
    if not store.exists():
        raise ws.no_ledger(store.location)

    def request(requested_by: str) -> Statement:
        return waivers_mod.statement(
            target=target,
            reason=reason.strip(),
            approver=approver.strip(),
            requested_by=requested_by,
            expires=expiry,
            commit=head,
            now=now,
            justification=justification,
        )

    statements = [request(requester)]
    if key is not None:
        statements = _signed(ws, statements[0], request, key, roster, now)
    entry, *signed = ledger.append(store, statements)
    if fmt == "json":
        output.write_json(entry.to_json())
    by = "".join(
        f", signed by {s.statement().predicate.recorded_by} (entry {s.seq})" for s in signed
    )
    output.err(
        f"recorded entry {entry.seq}: waiver for {target} until {expiry:%Y-%m-%d} in "
        f"{store.location}{by}, pending approval: {approver.strip()} "
        f"approves it with `sdl-tracker approve {entry.seq}` (their own key, listed in "
        "sdl-roster.yaml)"
    )
    if not signed:
        output.err(
            "note: the request is not signed (no sdl-roster.yaml at HEAD and no --key): an "
            "approval counts only for a request signed with the requester's key in the roster"
        )
    return 0


def _signed(
    ws: Workspace,
    statement: Statement,
    request: Callable[[str], Statement],
    key: Path,
    roster: Roster | None,
    now: datetime,
) -> list[Statement]:
    """The request and the requester's signature of it. With a roster, the requester is the
    key's owner there (asked again under that identity when git's user.email names someone
    else), and the key must be valid now and not the approver's."""
    from sdl_tracker.cli.commands.approve import _valid_now
    from sdl_tracker.conformance import signatures, trust
    from sdl_tracker.conformance import waivers as waivers_mod
    from sdl_tracker.gitdata import attest
    from sdl_tracker.ledger.chain import canonical

    envelope = attest.sign(key, canonical(statement))
    signer = statement.predicate.recorded_by
    if roster is not None:
        person, why = attest.signer(envelope, roster)
        if person is None:
            raise InputError(
                f"--key {key}: your signature does not check against sdl-roster.yaml: {why}"
            )
        _valid_now(envelope, roster, key, now)
        checked = trust.gather(ws.repo(), statement.commit or "", (), [signer])
        if not _is(checked, person, signer):
            statement = request(person.identity)
            envelope = attest.sign(key, canonical(statement))
        approver = waivers_mod.email(str(statement.predicate.details["approver"])) or ""
        if _is(checked, person, approver):
            raise InputError(
                f"the approver {approver!r} is you ({person.identity}, the owner of --key "
                f"{key}): a waiver needs someone else's approval"
            )
        signer = person.identity
    signature = signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector=NAME,
        signer=signer,
        summary=f"{signer} signs the request for a waiver of "
        f"{statement.predicate.details['target']}",
        commit=statement.commit,
        now=now,
    )
    return [statement, signature]


def _is(checked: Trust, person: Person, identity: str) -> bool:
    """Whether `identity` (`Name <email>` or an address) names `person` under any identity."""
    from sdl_tracker.conformance import waivers as waivers_mod

    address = waivers_mod.email(identity) or identity
    theirs = frozenset().union(*(checked.identities(e) for e in person.emails))
    return bool(checked.identities(address) & theirs)


def _check_target(target: str, catalog_id: str) -> None:
    from sdl_tracker.conformance import waivers as waivers_mod
    from sdl_tracker.policy import catalog as catalog_mod

    if waivers_mod.REQUIREMENT_ID.match(target):
        try:
            catalog_mod.owner(target, catalog_id)
        except CatalogError as e:
            raise InputError(str(e)) from e
    elif not waivers_mod.FINDING_ID.match(target):
        raise InputError(
            f"{target!r} is neither a requirement id (e.g. SVV-3) nor a finding id "
            "(e.g. B602, PYSEC-2018-28, CVE-2018-18074)"
        )
