"""Conformance as text for people: pre-commit-style status lines, practice summary, waivers.

Builds strings only; the commands hand them to `output.err`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sdl_tracker import output
from sdl_tracker.conformance.model import Conformance, RequirementResult, Status, Waiver
from sdl_tracker.models import Provenance

#: The mark shown beside each evidence line, per provenance class.
MARKS = {
    Provenance.VERIFIED: ("verified", "green"),
    Provenance.INGESTED: ("ingested", "cyan"),
    Provenance.ATTESTED: ("attested, unsigned", "yellow"),
    Provenance.SIGNED: ("signed", "green"),
}

LABELS = {
    Status.SATISFIED: ("Satisfied", "green"),
    Status.PARTIAL: ("Partial", "yellow"),
    Status.MISSING: ("Missing", "red"),
    Status.FAILING: ("Failing", "red"),
    Status.STALE: ("Stale", "yellow"),
    Status.NOT_DEMONSTRATED: ("Not demonstrated", "red"),
    Status.INCOMPLETE: ("Incomplete", "red"),
    Status.WAIVED: ("Waived", "magenta"),
    Status.NOT_APPLICABLE: ("Not applicable", "dim"),
}


def requirement_lines(result: RequirementResult) -> list[str]:
    """One dotted status line, then the reason and what to do when it is not satisfied."""
    label, color = LABELS[result.status]
    title = output.field(f"{result.requirement_id:<6} {result.title}")
    lines = [output.status_line(title, label, color)]
    if result.status is not Status.SATISFIED:
        lines.append(f"- {output.field(result.reason)}")
        if result.action:
            lines.append(f"  next: {output.field(result.action)}")
    counted = [ref for ref in result.evidence if ref.counted]
    if counted:
        lines.append(
            "  rests on: "
            + ", ".join(f"entry {ref.seq} {ref.kind} [{mark(ref.provenance)}]" for ref in counted)
        )
    return lines


def mark(provenance: Provenance) -> str:
    """`[verified]`-style mark of an evidence line, coloured when the terminal allows."""
    word, color = MARKS[provenance]
    return output.paint(word, color)


def unsigned_only_lines(conf: Conformance) -> list[str]:
    """The requirements met only on attestations nobody signed: a person's word alone."""
    found = [r.requirement_id for r in conf.requirements if r.unsigned_only]
    if not found:
        return ["", "resting only on unsigned attestations: none"]
    return [
        "",
        f"resting only on unsigned attestations ({len(found)}): {', '.join(found)}",
        "  (a person's statement recorded with `sdl-tracker record`, unsigned: "
        "`record --sign` makes it checkable)",
    ]


def status_text(conf: Conformance) -> str:
    """Every requirement grouped by practice, the practice summary, and the waivers."""
    lines = [
        f"commit {conf.commit[:10]}"
        + (f" (release {conf.release})" if conf.release else "")
        + f", policy {conf.policy} (sha256:{conf.policy_digest[:12]}…)",
    ]
    for practice in conf.practices:
        lines.append("")
        lines.append(output.paint(output.field(f"{practice.practice} - {practice.name}"), "blue"))
        for result in conf.requirements:
            if result.practice == practice.practice:
                lines.extend(requirement_lines(result))
    lines.append("")
    lines.append(practice_table(conf))
    lines.extend(unsigned_only_lines(conf))
    lines.extend(waiver_lines(conf.waivers))
    if conf.coverage is not None:
        lines += ["", *coverage_lines(conf)]
    return "\n".join(lines)


def practice_table(conf: Conformance) -> str:
    headers = (
        "practice",
        "ML (indicative)",
        "target",
        "met",
        "not met",
        "by tools",
        "by people",
        "name",
    )
    rows = []
    for p in conf.practices:
        met = sum(p.counts.get(s.value, 0) for s in Status if s.passes)
        total = sum(p.counts.values())
        tools, people = conf.rests_on(p.practice)
        rows.append(
            (
                p.practice,
                f"ML{p.maturity}" if p.maturity else "-",
                f"ML{p.target}" if p.target else "-",
                str(met),
                str(total - met),
                str(tools),
                str(people),
                p.name,
            )
        )
    return output.table(headers, rows)


def waiver_lines(waivers: Iterable[Waiver]) -> list[str]:
    found = sorted(waivers, key=lambda w: w.seq)
    if not found:
        return ["", "waivers: none"]
    lines = ["", "waivers:"]
    for w in found:
        state = w.state.upper() if not w.counts else w.state
        who = f"approved by {w.approved_by}" if w.approved_by else f"approver named {w.approver}"
        lines.append(
            output.field(
                f"  {w.target:<14} {state:<8} until {w.expires:%Y-%m-%d}  {who}, "
                f"requested by {w.requested_by} (entry {w.seq}): {w.reason}"
            )
        )
        if w.pending and not w.expired:
            lines.append(f"    {w.pending}")
    return lines


def tailoring_lines(conf: Conformance) -> list[str]:
    """The project policy's tailoring that a release verdict would not count, and what to do."""
    note = conf.tailoring_note
    if note is None:
        return []
    return [
        output.paint(output.field(f"note: {note.text()}"), "yellow"),
        f"  next: {output.field(note.action)}",
    ]


def coverage_lines(conf: Conformance) -> list[str]:
    """Checkpoint coverage, and the tool evidence not counted because no checkpoint covers it."""
    if conf.coverage is None:
        return []
    lines = conf.coverage.lines()
    colour = "yellow" if conf.coverage.not_counted or conf.coverage.own else "blue"
    return [output.paint(output.field(line), colour) for line in lines]


def counts_line(conf: Conformance) -> str:
    counts: dict[str, int] = {}
    for r in conf.requirements:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    return ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
