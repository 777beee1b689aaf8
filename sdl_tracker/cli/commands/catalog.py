"""`sdl-tracker catalog`: the requirements, grouped by practice."""

from __future__ import annotations

import argparse

from sdl_tracker import output
from sdl_tracker.cli import options

NAME = "catalog"
HELP = "list the requirements, grouped by practice"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--practice", help="only this practice (SM, SR, SD, SI, SVV, DM, SUM, SG)")
    parser.add_argument("--catalog", default="iec62443-4-1:2018", help="catalogue id")
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(practice=args.practice, fmt=args.format, catalog_id=args.catalog)


def run(*, practice: str | None, fmt: str, catalog_id: str) -> int:
    from sdl_tracker.policy import catalog as catalog_mod

    cat = catalog_mod.load(catalog_id)
    practices = [cat.practice(practice.upper())] if practice else list(cat.practices)
    if fmt == "json":
        output.write_json(
            {
                "catalog": cat.id,
                "title": cat.title,
                "practices": [
                    {
                        "id": p.id,
                        "number": p.number,
                        "name": p.name,
                        "requirements": [
                            {
                                "id": r.id,
                                "clause": r.clause,
                                "title": r.title,
                                "intent": r.intent,
                                "evidence": list(r.evidence),
                                "automation": r.automation,
                                **(
                                    {"supported_by": list(r.supported_by), "form": r.form}
                                    if r.form is not None
                                    else {}
                                ),
                                **cat.notes(r.id),
                            }
                            for r in cat.in_practice(p.id)
                        ],
                    }
                    for p in practices
                ],
                "evidence_kinds": dict(cat.evidence_kinds),
                "attestable": sorted(cat.attestable),
                "produced_by": dict(cat.produced_by),
            }
        )
        return 0
    output.err(f"{cat.title} ({cat.id})")
    width = max(7, *(len(r.id) + 1 for r in cat.requirements))
    for p in practices:
        reqs = cat.in_practice(p.id)
        output.err()
        output.err(output.paint(f"Practice {p.number} - {p.name} ({p.id}, {len(reqs)})", "blue"))
        for r in reqs:
            form = f", {r.form}" if r.form else ""
            output.err(f"  {r.id:<{width}}{r.title}  [{r.automation}{form}]")
            pad = " " * (width + 2)
            output.err(output.paint(f"{pad}evidence: {', '.join(r.evidence)}", "dim"))
            if r.supported_by:
                supported = ", ".join(r.supported_by)
                output.err(output.paint(f"{pad}supported by: {supported}", "dim"))
    total = sum(len(cat.in_practice(p.id)) for p in practices)
    output.err()
    output.err(f"{total} requirements in {len(practices)} practice(s)")
    return 0
