"""`sdl-tracker cra report SEC-ID --stage STAGE`: draft an Article 14 report of the EU Cyber
Resilience Act (early warning, notification, final report) from the records."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options

if TYPE_CHECKING:
    from sdl_tracker.cra.clock import Submission
    from sdl_tracker.workspace import Workspace

NAME = "cra"
HELP = "EU Cyber Resilience Act: draft an Article 14 report from the records"
_STAGES = ("early-warning", "notification", "final")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cra_command", metavar="SUBCOMMAND")
    sub.required = True
    report = sub.add_parser("report", help="draft one stage's report as markdown or JSON")
    report.add_argument("issue", metavar="SEC-ID", help="the id of the security-issue record")
    report.add_argument("--stage", required=True, choices=_STAGES, help="which report")
    report.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="markdown (default) or json, on stdout or into --output",
    )
    report.add_argument("--output", "-o", type=Path, help="write the draft here")
    options.common(report)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        issue=args.issue,
        stage=args.stage,
        fmt=args.format,
        output_file=args.output,
    )


def run(
    *,
    ws: Workspace,
    issue: str,
    stage: str,
    fmt: str = "markdown",
    output_file: Path | None = None,
    now: datetime | None = None,
) -> int:
    """Write the draft; list the empty fields on stderr. Exit 0, or 2 on bad records."""
    from sdl_tracker.cra import report, sources

    now = now or datetime.now(timezone.utc)
    d = report.draft(sources.facts(ws, issue), stage, now, _signed(ws))
    text = (
        json.dumps(d, indent=2, ensure_ascii=False) + "\n"
        if fmt == "json"
        else report.markdown(d, now)
    )
    if output_file is None:
        output.out(text)
    else:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(text, encoding="utf-8")
        output.err(f"wrote {output_file}")
    empty = d["empty"]
    assert isinstance(empty, list)
    if empty:
        output.err(f"{len(empty)} field(s) still empty: " + "; ".join(map(str, empty)))
    return 0


def _signed(ws: Workspace) -> dict[tuple[str, str], Submission]:
    """The stages closed by submissions a product-security-lead signed (the rule of `status`
    and the gate)."""
    from sdl_tracker import ledger
    from sdl_tracker.conformance.assessment import cra_closing
    from sdl_tracker.conformance.evidence import records
    from sdl_tracker.cra import clock
    from sdl_tracker.gitdata import git

    store = ws.store()
    root = ws.repo()
    commit = git.resolve(root, "HEAD")
    if not store.exists() or commit is None:
        return {}
    return clock.signed(cra_closing(root, commit, records(ledger.entries(store))))
