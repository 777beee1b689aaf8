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
    from sdl_tracker.models import JSON
    from sdl_tracker.policy.model import RequirementPolicy
    from sdl_tracker.workspace import Workspace


NAME = "explain"
HELP = "one requirement: the rule, the evidence that counted or not, and why"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("requirement", metavar="REQ-ID", help="e.g. SR-2, or CRA-I-2a")
    parser.add_argument("--commit", metavar="REV", help="the commit to evaluate (default HEAD)")
    options.policy(parser)
    options.framework(parser)
    parser.set_defaults(framework=None)  # the requirement id names its framework
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        requirement=args.requirement,
        commit=args.commit,
        policy_file=args.policy,
        framework=args.framework,
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
    framework: str | None = None,
) -> int:
    from sdl_tracker.conformance import maturity
    from sdl_tracker.conformance.assessment import assess

    framework = framework or _framework_of(requirement)
    found = assess(
        ws,
        now=now or datetime.now(timezone.utc),
        rev=commit,
        policy_file=policy_file,
        framework=framework,
    )
    ids = [r.requirement_id for r in found.conformance.requirements]
    rid = next((i for i in ids if i.upper() == requirement.upper()), requirement.upper())
    if rid not in ids:
        close = suggest(rid, ids)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise InputError(
            f"unknown requirement {requirement!r}: {hint}"
            f"(`sdl-tracker catalog --catalog {found.policy.catalog.id}` lists the ids)"
        )
    result = found.conformance.result(rid)
    rp = found.policy.requirement(rid)
    practice = next(p for p in found.conformance.practices if p.practice == result.practice)
    people = _people(found, rid)
    if fmt == "json":
        output.write_json(
            {
                **({"roster": people} if people is not None else {}),
                "requirement": result.to_json(),
                "policy": rp.to_json(),
                "practice": practice.to_json(),
                "maturity_rules": list(maturity.RULES),
                "maturity_note": maturity.NOTE,
                **found.policy.catalog.notes(rid),
                **(
                    {"tailoring_note": found.conformance.tailoring_note.to_json()}
                    if found.conformance.tailoring_note
                    else {}
                ),
                **({"coverage": _coverage_json(found, rid)} if found.coverage else {}),
            }
        )
        return 0
    lines = _text(found, result, rp, practice)
    if people is not None:
        lines += ["", *_people_lines(found)]
    output.err("\n".join(lines))
    return 0


def _coverage_json(found: Assessment, rid: str) -> dict[str, JSON]:
    """The checkpoints' coverage, with the uncounted entries this requirement would have used."""
    assert found.coverage is not None
    mine: list[JSON] = [u.to_json() for u in found.coverage.not_counted if rid in u.requirements]
    return {**found.coverage.to_json(), "not_counted_here": mine}


def _coverage_lines(found: Assessment, rid: str) -> list[str]:
    from sdl_tracker.conformance import coverage

    if found.coverage is None:
        return []
    cov = found.coverage
    lines = [output.paint(output.field(cov.lines()[0]), "blue")]
    mine = [u for u in cov.not_counted if rid in u.requirements]
    for u in mine:
        lines.append(output.paint(output.field(f"- {u.text()}"), "yellow"))
    if mine:
        lines.append(f"  next: {coverage.ACTION}")
    elif cov.not_counted:
        lines.append(f"- {len(cov.not_counted)} uncovered entries not counted, none used by {rid}")
    return lines


#: Requirements for which the roster itself is evidence: who holds SDL roles, and their training.
_ROSTER_REQUIREMENTS = ("SM-2", "SM-4")


def _people(found: Assessment, rid: str) -> list[dict[str, JSON]] | None:
    """Every holder of an SDL role in the evaluated commit's roster, training current or not."""
    if rid not in _ROSTER_REQUIREMENTS or found.trust is None:
        return None
    roster = found.trust.roster
    if roster is None:
        return []
    today = found.conformance.evaluated_at.date()
    result: list[dict[str, JSON]] = []
    for person in roster.people:
        if not person.roles:
            continue
        current = [t for t in person.training if t.current(today)]
        result.append(
            {
                "person": person.identity,
                "roles": list(person.roles),
                "training_current": bool(current),
                "training": [
                    {
                        "course": t.course,
                        "date": t.taken.isoformat(),
                        "expires": t.expires.isoformat() if t.expires else None,
                        "current": t.current(today),
                    }
                    for t in person.training
                ],
            }
        )
    return result


def _people_lines(found: Assessment) -> list[str]:
    from sdl_tracker.formats.roster import FILE

    commit = found.conformance.commit[:10]
    roster = found.trust.roster if found.trust else None
    holders = [p for p in roster.people if p.roles] if roster else []
    if not holders:
        return [f"roster: no {FILE} at {commit} names anyone in an SDL role"]
    today = found.conformance.evaluated_at.date()
    lines = [f"roster ({FILE} at {commit}): {len(holders)} people in SDL roles"]
    for person in holders:
        state = (
            output.paint("training current", "green")
            if person.trained(today)
            else output.paint("NO current training", "red")
        )
        lines.append(f"  {person.identity}  [{', '.join(person.roles)}]  {state}")
        for t in person.training:
            until = f", expires {t.expires.isoformat()}" if t.expires else ""
            lines.append(f"      {t.course} ({t.taken.isoformat()}{until})")
    return lines


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
    lines += _catalog_lines(found, result.requirement_id)
    note = conf.tailoring_note
    if note is not None and result.requirement_id in note.requirements:
        lines.append(
            output.paint(
                output.field(
                    f"tailoring: {result.requirement_id}'s tailoring is not counted by the "
                    f"gate: {note.why}; {note.gate}"
                ),
                "yellow",
            )
        )
        lines.append(f"  next: {output.field(note.action)}")
    elif note is not None:
        lines += render.tailoring_lines(conf)
    if result.justification:
        lines.append(f"justification (not applicable): {output.field(result.justification)}")
    for kind, why in rp.not_applicable_parts if result.justification is None else ():
        lines.append(f"not applicable part ({kind}): {output.field(why)}")
    for w in result.waivers:
        state = w.state + (f" ({w.pending})" if w.pending else "")
        lines.append(
            output.field(
                f"waiver:    {w.target}: {state} until {w.expires:%Y-%m-%d}, approved by "
                f"{w.approver}, requested by {w.requested_by} (entry {w.seq}): {w.reason}"
            )
        )
    lines += _coverage_lines(found, result.requirement_id)
    lines += ["", "evidence considered:" if result.evidence else "evidence considered: none"]
    for ref in result.evidence:
        lines += _ref(ref)
    label = f"ML{practice.maturity}" if practice.maturity else "none"
    lines += ["", f"maturity of {practice.practice}: {label} ({maturity.NOTE})"]
    lines += [f"  {level}" for level in practice.levels]
    mine = practice.per_requirement.get(result.requirement_id, ())
    if mine:
        lines += ["", f"maturity evidence for {result.requirement_id}:"]
        lines += [output.field(f"  {line}") for line in mine]
    lines += ["", "the rule for each level:"] + [f"  {rule}" for rule in maturity.RULES]
    return lines


def _catalog_lines(found: Assessment, rid: str) -> list[str]:
    """The catalogue's notes: what an assessor will still ask for once the requirement is
    satisfied, and where a product assessment would show it."""
    catalog = found.policy.catalog
    lines = []
    if rid in catalog.assessor:
        ask = catalog.assessor[rid]
        lines.append(
            output.field(f"assessor:  when satisfied, an assessor will still ask for: {ask}")
        )
    hints = catalog.hints(rid)
    if hints is not None:
        lines.append(output.field(f"product:   {hints.line()}"))
    return lines


def _ref(ref: EvidenceRef) -> list[str]:
    from sdl_tracker.conformance.render import mark
    from sdl_tracker.models import format_time

    counted = (
        output.paint("counted", "green") if ref.counted else output.paint("not counted", "dim")
    )
    where = f"on {ref.commit[:10]}" if ref.commit else "no commit"
    entry = output.field(
        f"  entry {ref.seq:<5} {ref.kind:<22} [{mark(ref.provenance)}] result {ref.result:<10} "
        f"{where}, recorded {format_time(ref.recorded_at)}: "
    )
    lines = [entry + counted, f"      {output.field(ref.why)}" if ref.why else ""]
    lines += [f"      artifact {output.field(a.name)} sha256:{a.sha256}" for a in ref.artifacts]
    return [line for line in lines if line]


def _framework_of(requirement: str) -> str:
    """The framework whose catalogue defines the id (CRA-… ids are the CRA's), else 62443-4-1."""
    import os

    from sdl_tracker.policy import catalog

    given = requirement.upper()
    if given.startswith("CRA"):
        return "cra"
    if given in catalog.load().ids():
        return "iec62443-4-1"
    env = os.environ.get("SDL_TRACKER_FRAMEWORK", "")
    return env if env in ("iec62443-4-1", "cra") else "iec62443-4-1"


def suggest(given: str, ids: Sequence[str]) -> list[str]:
    """Requirement ids the user probably meant: the same letters and digits (`SVV4` is SVV-4),
    else the closest spellings."""
    import difflib
    import re

    def bare(text: str) -> str:
        return re.sub(r"[^A-Z0-9]", "", text.upper())

    same = [i for i in ids if bare(i) == bare(given)]
    return same or difflib.get_close_matches(given.upper(), list(ids), n=3, cutoff=0.6)
