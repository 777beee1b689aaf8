"""`sdl-tracker record KIND FILE`: record a manual attestation (a file, a signer, a date)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

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
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        kind=args.kind,
        file=args.file,
        requirements=args.requirement,
        note=args.note,
        status=args.status,
        summary=args.summary,
        fmt=args.format,
    )


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
) -> int:
    from sdl_tracker import __version__, ledger
    from sdl_tracker.gitdata import git
    from sdl_tracker.models import Predicate, Result, ResultStatus, Statement, Tool
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
    if not requirements:
        requirements = [r.id for r in cat.requirements if kind in r.evidence]
    for rid in requirements:
        cat.requirement(rid)
    try:
        data = file.read_bytes()
    except OSError as e:
        raise InputError(f"{file}: cannot read ({e.strerror}); give the file to record") from e
    root = ws.repo() if ws.root is not None else None
    commit = git.resolve(root, "HEAD") if root is not None else None
    who = git.identity(root) if root is not None else "unknown <>"
    subject, blob = ledger.artifact(file.name, data)
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
                metrics={"bytes": len(data)},
            ),
            covers=(),
            note=note,
            recorded_by=who,
            recorded_at=now or datetime.now(timezone.utc),
        ),
    )
    store = ws.store()
    (entry,) = ledger.append(store, [statement], {subject.sha256: blob})
    if fmt == "json":
        output.write_json(entry.to_json())
    output.err(
        f"recorded entry {entry.seq}: {kind} for {', '.join(requirements) or '-'} "
        f"(sha256:{subject.sha256[:12]}…) in {store.location}"
    )
    return 0


def _suggest(given: str, kinds: Sequence[str]) -> list[str]:
    """Kinds the user probably meant: those containing the word (`pentest` is pentest_report),
    else the closest spellings."""
    import difflib

    word = given.lower().replace("-", "_")
    within = [k for k in kinds if word and word in k]
    return within[:3] or difflib.get_close_matches(word, list(kinds), n=3, cutoff=0.6)
