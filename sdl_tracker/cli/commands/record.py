"""`sdl-tracker record KIND FILE`: record a manual attestation (a file, a signer, a date)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sdl_tracker.models import JSON, Statement
    from sdl_tracker.policy.catalog import Catalog
    from sdl_tracker.workspace import Workspace


NAME = "record"
HELP = "record an attestation: a file, a signer, a date"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", help="evidence kind, e.g. pentest_report, training_record")
    parser.add_argument("file", type=Path, help="the file to store (report, PDF, record)")
    parser.add_argument(
        "--requirement",
        "-r",
        action="append",
        default=[],
        metavar="ID",
        help="requirement it supports (repeatable; default: every requirement "
        "whose evidence includes KIND)",
    )
    parser.add_argument("--note", default="", help="free text kept with the entry")
    parser.add_argument("--summary", help="one-line summary (default: '<kind> attested: <file>')")
    parser.add_argument(
        "--status",
        choices=("pass", "fail", "info", "incomplete"),
        default="pass",
        help="result the attestation reports (default pass)",
    )
    parser.add_argument(
        "--allow-outside",
        action="store_true",
        help="record FILE even if it is a symlink that leads out of the repository "
        "(the entry then names the resolved path)",
    )
    parser.add_argument(
        "--sign",
        action="store_true",
        help="sign the attestation with your own key (a DSSE envelope stored with it); it "
        "counts as signed when sdl-roster.yaml lists the key",
    )
    submission = parser.add_argument_group(
        "cra_submission", "what was sent to the EU single reporting platform (kind cra_submission)"
    )
    submission.add_argument("--issue", metavar="SEC-ID", help="the security issue it reports")
    submission.add_argument(
        "--stage", choices=_CRA_STAGES, help="the Article 14 stage the report closes"
    )
    submission.add_argument(
        "--submitted-at", metavar="TIME", help="when it was sent, e.g. 2026-11-03T07:40:00Z"
    )
    submission.add_argument("--reference", help="the reference the platform gave the report")
    options.person_key(parser)
    options.output_format(parser)
    options.common(parser)


_CRA_STAGES = ("early-warning", "notification", "final")
_CRA_KIND = "cra_submission"


def main(args: argparse.Namespace) -> int:
    ws = options.workspace(args)
    return run(
        ws=ws,
        kind=args.kind,
        file=args.file,
        requirements=args.requirement,
        note=args.note,
        status=args.status,
        summary=args.summary,
        fmt=args.format,
        allow_outside=args.allow_outside,
        key=options.resolve_key(ws, args.key) if args.sign else None,
        submission=_submission(args),
    )


def _submission(args: argparse.Namespace) -> dict[str, str] | None:
    given = {
        "issue": args.issue,
        "stage": args.stage,
        "submitted_at": args.submitted_at,
        "reference": args.reference,
    }
    return {k: v for k, v in given.items() if v is not None} or None


def run(
    *,
    ws: Workspace,
    kind: str,
    file: Path,
    requirements: Sequence[str],
    note: str,
    status: str,
    summary: str | None,
    fmt: str,
    now: datetime | None = None,
    allow_outside: bool = False,
    key: Path | None = None,
    submission: dict[str, str] | None = None,
) -> int:
    """Record a person's statement; with `key`, sign it too (both entries in one append).

    A `cra_submission` carries `submission`: issue, stage, submitted_at, reference."""
    from sdl_tracker import __version__, ledger
    from sdl_tracker.gitdata import git
    from sdl_tracker.models import Predicate, Provenance, Result, ResultStatus, Statement, Tool
    from sdl_tracker.policy import catalog as catalog_mod

    cat = catalog_mod.load(ws.config.catalog)
    if kind not in cat.evidence_kinds:
        close = _suggest(kind, sorted(cat.evidence_kinds))
        if close:
            raise InputError(
                f"unknown evidence kind {kind!r}: did you mean {' or '.join(close)}? "
                "(`sdl-tracker catalog --format json` lists every kind)"
            )
        raise InputError(
            f"unknown evidence kind {kind!r}; expected one of the catalogue's kinds "
            f"(`sdl-tracker catalog --format json` lists them): "
            f"{', '.join(sorted(cat.evidence_kinds))}"
        )
    _check_attestable(cat, kind)
    details: dict[str, JSON] = dict(_cra_details(kind, submission))
    if not requirements:
        requirements = [r.id for r in cat.requirements if kind in r.evidence]
    for rid in requirements:
        catalog_mod.owner(rid, cat.id)  # an item of another shipped framework (CRA-…) too
    root = ws.repo() if ws.root is not None else None
    real, size, resolved = _check(file, root, allow_outside)
    commit = git.resolve(root, "HEAD") if root is not None else None
    who = git.identity(root) if root is not None else "unknown <>"
    # Hashed here and copied by the store in pieces, checked again: constant memory.
    subject, blob = ledger.artifact_file(file.name, real, size)
    statement = Statement(
        commit=commit,
        artifacts=(subject,),
        predicate=Predicate(
            kind=kind,
            collector="record",
            tool=Tool(name="sdl-tracker", version=__version__),
            requirements=tuple(requirements),
            result=Result(
                status=ResultStatus(status),
                summary=summary or f"{kind} attested: {file.name}",
                metrics={"bytes": size},
            ),
            covers=(),
            note=note,
            details={**details, **({"resolved_path": resolved} if resolved else {})},
            recorded_by=who,
            recorded_at=now or datetime.now(timezone.utc),
            provenance=Provenance.ATTESTED,
        ),
    )
    statements = [statement]
    if key is not None:
        statements.append(_signature(statement, key, who, root))
    store = ws.store()
    entry, *signed = ledger.append(store, statements, {subject.sha256: blob})
    if fmt == "json":
        output.write_json(entry.to_json())
    for sig in signed:
        output.err(f"signed: entry {sig.seq} holds your signature over entry {entry.seq}")
    output.err(
        f"recorded entry {entry.seq}: {output.field(kind)} for "
        f"{output.field(', '.join(requirements) or '-')} "
        f"(sha256:{subject.sha256[:12]}…) in {store.location}"
    )
    return 0


def _cra_details(kind: str, submission: dict[str, str] | None) -> dict[str, str]:
    """A cra_submission's issue, stage, time (UTC) and platform reference, all required."""
    from sdl_tracker.cra import clock

    if kind != _CRA_KIND:
        if submission:
            raise InputError(f"{_option(next(iter(submission)))} belongs to kind {_CRA_KIND} only")
        return {}
    given = submission or {}
    missing = [k for k in ("issue", "stage", "submitted_at", "reference") if not given.get(k)]
    if missing:
        raise InputError(
            f"{_CRA_KIND} needs --issue SEC-ID, --stage ({'|'.join(_CRA_STAGES)}), --submitted-at "
            f"TIME and --reference REF; missing: {', '.join(_option(m) for m in missing)}"
        )
    at = clock.when(f"record {_CRA_KIND}", "--submitted-at", given["submitted_at"].strip())
    assert at is not None
    stage = {"early-warning": "early_warning", "final": "final_report"}.get(
        given["stage"], given["stage"]
    )
    return {
        "issue": given["issue"].strip(),
        "stage": stage,
        "submitted_at": clock.utc_text(at),
        "reference": given["reference"].strip(),
    }


def _option(key: str) -> str:
    return "--" + key.replace("_", "-")


def _check(file: Path, root: Path | None, allow_outside: bool) -> tuple[Path, int, str | None]:
    """The real path and size of a regular file within the `record` size limit, and its
    resolved path when it is a symlink leading out of the repository (refused unless
    `allow_outside`)."""
    from sdl_tracker.formats import bounded

    real = Path(os.path.realpath(file))
    resolved = None
    if not _inside(real, root) and (
        file.is_symlink() or _inside(Path(os.path.abspath(file)), root)
    ):
        if not allow_outside:
            raise InputError(
                f"{file}: a symlink to {real}, outside the repository; refusing to store what "
                "it points to (pass --allow-outside if you mean it: the entry then names "
                f"{real})"
            )
        resolved = str(real)
    try:
        return real, bounded.size(real, "record", str(file)), resolved
    except bounded.LimitError:
        raise
    except InputError as e:
        raise InputError(f"{e}; give the file to record") from e


def _inside(path: Path, root: Path | None) -> bool:
    if root is None:
        return False
    return any(path.is_relative_to(r) for r in {root.absolute(), Path(os.path.realpath(root))})


def _signature(statement: Statement, key: Path, who: str, root: Path | None = None) -> Statement:
    from sdl_tracker.conformance import signatures
    from sdl_tracker.conformance.trust import read_roster
    from sdl_tracker.gitdata import attest, git
    from sdl_tracker.ledger.chain import canonical

    envelope = attest.sign(key, canonical(statement))
    p = statement.predicate
    head = git.resolve(root, "HEAD") if root is not None else None
    roster = read_roster(root, head) if root is not None and head else None
    late = attest.outside_validity(envelope, roster, p.recorded_at) if roster else ""
    if late:  # the key's roster dates exclude now: exit 2, nothing appended
        raise InputError(
            f"--sign {key}: {late}: it cannot sign now; sign with a key that is valid today "
            "(add it to the roster, a reviewed change)"
        )
    return signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector="record",
        signer=who,
        summary=f"{who} signs the {p.kind} attestation ({p.result.summary})",
        commit=statement.commit,
        now=p.recorded_at,
    )


def _check_attestable(cat: Catalog, kind: str) -> None:
    """Only a person's statement may be recorded; a tool's output comes from its collector."""
    if kind in cat.attestable:
        return
    producer = cat.producer(kind)
    made = (
        f"it is produced by {producer}"
        if producer
        else "no collector produces it yet, so sdl-tracker cannot demonstrate it"
    )
    raise InputError(
        f"{kind!r} is evidence a tool makes, not a person's statement: `record` does not take "
        f"it; {made}. Kinds `record` takes: {', '.join(sorted(cat.attestable))}"
    )


def _suggest(given: str, kinds: Sequence[str]) -> list[str]:
    """Kinds the user probably meant: those containing the word (`pentest` is pentest_report),
    else the closest spellings."""
    import difflib

    word = given.lower().replace("-", "_")
    within = [k for k in kinds if word and word in k]
    return within[:3] or difflib.get_close_matches(word, list(kinds), n=3, cutoff=0.6)
