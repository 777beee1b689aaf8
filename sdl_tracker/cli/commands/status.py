"""`sdl-tracker status`: every requirement's status for a commit, grouped by practice."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options

if TYPE_CHECKING:
    from sdl_tracker.workspace import Workspace


NAME = "status"
HELP = "every requirement's status for a commit, grouped by practice, with ML"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commit", metavar="REV", help="the commit to evaluate (default HEAD)")
    options.policy(parser)
    options.framework(parser)
    options.output_format(parser, ("table", "json", "markdown"))
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        commit=args.commit,
        policy_file=args.policy,
        fmt=args.format,
        framework=args.framework,
    )


def run(
    *,
    ws: Workspace,
    commit: str | None,
    policy_file: Path | None,
    fmt: str,
    now: datetime | None = None,
    framework: str = "iec62443-4-1",
) -> int:
    """Show the verdicts; exit 0 whatever they are (the gate is the command that fails)."""
    from sdl_tracker.conformance import render
    from sdl_tracker.conformance.assessment import assess
    from sdl_tracker.cra import view
    from sdl_tracker.exporters import markdown
    from sdl_tracker.exporters.base import Report

    now = now or datetime.now(timezone.utc)
    found = assess(ws, now=now, rev=commit, policy_file=policy_file, framework=framework)
    conf = found.conformance
    # The reporting clock runs in hours: its cases are judged again now, not when collected.
    signed = view.signed_submissions(found.records, found.trust.signers if found.trust else {})
    cra = view.newest((r.statement for r in found.records), conf.commit, now, signed)
    if fmt == "json":
        output.write_json({**conf.to_json(), **({"cra_cases": cra.cases} if cra else {})})
    elif fmt == "markdown":
        output.out(markdown.render(Report(conformance=conf)))
        if cra:
            output.out("\n".join(["", "```text", *view.lines(cra, now), "```"]))
    else:
        output.err(render.status_text(conf))
        output.err("")
        for line in render.tailoring_lines(conf):
            output.err(line)
        output.err(f"{render.counts_line(conf)} (maturity levels are indicative)")
        if cra:
            output.err("")
            output.err("\n".join(view.lines(cra, now)))
    return 0
