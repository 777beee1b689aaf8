"""Conformance as text for people: pre-commit-style status lines, practice summary, waivers.

Builds strings only; the commands hand them to `output.err`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sdl_tracker import output
from sdl_tracker.conformance.model import Conformance, RequirementResult, Status, Waiver

LABELS = {
    Status.SATISFIED: ("Satisfied", "green"),
    Status.PARTIAL: ("Partial", "yellow"),
    Status.MISSING: ("Missing", "red"),
    Status.FAILING: ("Failing", "red"),
    Status.STALE: ("Stale", "yellow"),
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
    return lines


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
    lines.extend(waiver_lines(conf.waivers))
    return "\n".join(lines)


def practice_table(conf: Conformance) -> str:
    headers = ("practice", "ML (indicative)", "target", "met", "not met", "name")
    rows = []
    for p in conf.practices:
        met = sum(p.counts.get(s.value, 0) for s in Status if s.passes)
        total = sum(p.counts.values())
        rows.append(
            (
                p.practice,
                f"ML{p.maturity}" if p.maturity else "-",
                f"ML{p.target}" if p.target else "-",
                str(met),
                str(total - met),
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
        state = "EXPIRED" if w.expired else "active"
        lines.append(
            output.field(
                f"  {w.target:<14} {state:<8} until {w.expires:%Y-%m-%d}  approved by "
                f"{w.approver}, requested by {w.requested_by} (entry {w.seq}): {w.reason}"
            )
        )
    return lines


def counts_line(conf: Conformance) -> str:
    counts: dict[str, int] = {}
    for r in conf.requirements:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    return ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
