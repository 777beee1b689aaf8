"""`sdl-tracker explain REQ-ID`: the rule, every entry considered and why it counted or not."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sdl_tracker.conformance.assessment import Assessment
    from sdl_tracker.conformance.model import EvidenceRef, PracticeResult, RequirementResult
    from sdl_tracker.policy.model import RequirementPolicy
    from sdl_tracker.workspace import Workspace


NAME = "explain"
HELP = "one requirement: the rule, the evidence that counted or not, and why"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("requirement", metavar="REQ-ID", help="e.g. SR-2")
    parser.add_argument("--commit", metavar="REV", help="the commit to evaluate (default HEAD)")
    options.policy(parser)
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        requirement=args.requirement,
        commit=args.commit,
        policy_file=args.policy,
        fmt=args.format,
    )


def run(
    *,
    ws: Workspace,
    requirement: str,
    commit: str | None,
    policy_file: Path | None,
    fmt: str,
    now: datetime | None = None,
) -> int:
    from sdl_tracker.conformance import maturity
    from sdl_tracker.conformance.assessment import assess

    found = assess(ws, now=now or datetime.now(timezone.utc), rev=commit, policy_file=policy_file)
    rid = requirement.upper()
    ids = [r.requirement_id for r in found.conformance.requirements]
    if rid not in ids:
        close = suggest(rid, ids)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise InputError(
            f"unknown requirement {requirement!r}: {hint}(`sdl-tracker catalog` lists the ids)"
        )
    result = found.conformance.result(rid)
    rp = found.policy.requirement(rid)
    practice = next(p for p in found.conformance.practices if p.practice == result.practice)
    if fmt == "json":
        output.write_json(
            {
                "requirement": result.to_json(),
                "policy": rp.to_json(),
                "practice": practice.to_json(),
                "maturity_rules": list(maturity.RULES),
                "maturity_note": maturity.NOTE,
            }
        )
        return 0
    output.err("\n".join(_text(found, result, rp, practice)))
    return 0


def _text(
    found: Assessment, result: RequirementResult, rp: RequirementPolicy, practice: PracticeResult
) -> list[str]:
    from sdl_tracker.conformance import maturity, render
    from sdl_tracker.models import format_time

    conf = found.conformance
    lines = render.requirement_lines(result)
    lines += [
        "",
        f"practice:  {practice.practice} {practice.name}",
        f"rule:      {result.rule}",
        f"expects:   {', '.join(e.value for e in rp.expects)}; evidence at most "
        f"{rp.max_age_days} days old unless the rule says otherwise",
        f"process documents (ML2): {', '.join(rp.process)}",
        f"policy:    {conf.policy} (sha256:{conf.policy_digest[:16]}…) from "
        f"{', '.join(found.policy.sources)}",
        f"commit:    {conf.commit}, evaluated {format_time(conf.evaluated_at)}",
    ]
    if result.justification:
        lines.append(f"justification (not applicable): {result.justification}")
    if result.waiver is not None:
        w = result.waiver
        state = "expired" if w.expired else "active"
        lines.append(
            f"waiver:    {state} until {w.expires:%Y-%m-%d}, approved by {w.approver}, requested "
            f"by {w.requested_by} (entry {w.seq}): {w.reason}"
        )
    lines += ["", "evidence considered:" if result.evidence else "evidence considered: none"]
    for ref in result.evidence:
        lines += _ref(ref)
    label = f"ML{practice.maturity}" if practice.maturity else "none"
    lines += ["", f"maturity of {practice.practice}: {label} ({maturity.NOTE})"]
    lines += [f"  {level}" for level in practice.levels]
    lines += ["", "the rule for each level:"] + [f"  {rule}" for rule in maturity.RULES]
    return lines


def _ref(ref: EvidenceRef) -> list[str]:
    from sdl_tracker.models import format_time

    mark = output.paint("counted", "green") if ref.counted else output.paint("not counted", "dim")
    where = f"on {ref.commit[:10]}" if ref.commit else "no commit"
    lines = [
        f"  entry {ref.seq:<5} {ref.kind:<22} result {ref.result:<10} {where}, recorded "
        f"{format_time(ref.recorded_at)}: {mark}",
        f"      {ref.why}" if ref.why else "",
    ]
    lines += [f"      artifact {a.name} sha256:{a.sha256}" for a in ref.artifacts]
    return [line for line in lines if line]


def suggest(given: str, ids: Sequence[str]) -> list[str]:
    """Requirement ids the user probably meant: the same letters and digits (`SVV4` is SVV-4),
    else the closest spellings."""
    import difflib
    import re

    def bare(text: str) -> str:
        return re.sub(r"[^A-Z0-9]", "", text.upper())

    same = [i for i in ids if bare(i) == bare(given)]
    return same or difflib.get_close_matches(given.upper(), list(ids), n=3, cutoff=0.6)
