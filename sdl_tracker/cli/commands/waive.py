"""`sdl-tracker waive REQ-ID|FINDING-ID`: record an approved, time-limited exception."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import CatalogError, InputError

if TYPE_CHECKING:
    from sdl_tracker.workspace import Workspace


NAME = "waive"
HELP = "request a time-limited waiver for a requirement or a finding (an approver signs it)"


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
) -> int:
    from sdl_tracker import ledger
    from sdl_tracker.conformance import waivers as waivers_mod
    from sdl_tracker.gitdata import git
    from sdl_tracker.policy import load as policy_mod

    now = now or datetime.now(timezone.utc)
    root = ws.repo()
    requester = git.identity(root)
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
    statement = waivers_mod.statement(
        target=target,
        reason=reason.strip(),
        approver=approver.strip(),
        requested_by=requester,
        expires=expiry,
        commit=git.resolve(root, "HEAD"),
        now=now,
        justification=justification,
    )
    (entry,) = ledger.append(store, [statement])
    if fmt == "json":
        output.write_json(entry.to_json())
    output.err(
        f"recorded entry {entry.seq}: waiver for {target} until {expiry:%Y-%m-%d} in "
        f"{store.location}, pending approval: {approver.strip()} approves it with "
        f"`sdl-tracker approve {entry.seq}` (their own key, listed in sdl-roster.yaml)"
    )
    return 0


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
