"""Markdown: the verdict, what is not met and what to do, maturity, waivers — for a CI summary."""

from __future__ import annotations

from sdl_tracker.conformance.model import Status
from sdl_tracker.exporters.base import Report
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import format_time

NAME = "markdown"


def render(report: Report) -> str:
    conf = report.conformance
    what = f"release {conf.release}" if conf.release else f"commit `{conf.commit[:12]}`"
    if report.passed is None:
        title = f"## sdl-tracker status: {what}"
    else:
        title = f"## sdl-tracker gate: {'✅ passed' if report.verdict else '❌ failed'} — {what}"
    lines = [
        title,
        "",
        f"Commit `{_code(conf.commit)}`, policy `{_code(conf.policy)}` "
        f"(sha256 `{conf.policy_digest[:16]}`), "
        f"evaluated {format_time(conf.evaluated_at)}.",
        "",
    ]
    note = conf.tailoring_note
    if note is not None:
        lines += [
            f"> **Tailoring not counted by the gate:** {_cell(note.why)}; {_cell(note.gate)}: "
            f"{', '.join(note.requirements)}. Next: {_cell(note.action)}.",
            "",
        ]
    if conf.coverage is not None and (conf.coverage.not_counted or conf.coverage.own):
        lines += ["> **Checkpoints:** " + _cell(conf.coverage.lines()[0]), ">"]
        lines += [f"> {_cell(line)}" for line in conf.coverage.lines()[1:]]
        lines.append("")
    unmet = [r for r in conf.requirements if not r.status.passes]
    if unmet:
        lines += ["### Requirements not met", "", "| Requirement | Status | Why | Next step |"]
        lines.append("|---|---|---|---|")
        for r in unmet:
            lines.append(
                f"| {r.requirement_id} {_cell(r.title)} | {r.status.value} | {_cell(r.reason)} "
                f"| {_cell(r.action)} |"
            )
        lines.append("")
    if report.regressions:
        lines += [f"### Worse than at {report.baseline} (ratchet)", ""]
        lines += [f"- **{rid}**: {_cell(text)}" for rid, text in report.regressions]
        lines.append("")
    lines += [
        "### Maturity per practice (indicative: the tool shows the evidence, the assessor decides)",
        "",
        "| Practice | Level | Target | Met | Not met |",
        "|---|---|---|---|---|",
    ]
    for p in conf.practices:
        met = sum(n for s, n in p.counts.items() if Status(s).passes)
        level = f"ML{p.maturity}" if p.maturity else "—"
        target = f"ML{p.target}" if p.target else "—"
        unmet_count = sum(p.counts.values()) - met
        lines.append(f"| {p.practice} {p.name} | {level} | {target} | {met} | {unmet_count} |")
    lines += ["", "### Waivers", ""]
    if not conf.waivers:
        lines.append("None.")
    for w in sorted(conf.waivers, key=lambda w: w.seq):
        state = f"**{w.state}**" if not w.counts else w.state
        lines.append(
            f"- `{_code(w.target)}` {state} until {w.expires:%Y-%m-%d}: {_cell(w.reason)} "
            f"(approved by {_cell(w.approver)}, requested by {_cell(w.requested_by)}, "
            f"entry {w.seq})"
        )
    lines += ["", "<details><summary>All requirements</summary>", ""]
    lines += ["| Requirement | Status | Why |", "|---|---|---|"]
    for r in conf.requirements:
        lines.append(
            f"| {r.requirement_id} {_cell(r.title)} | {r.status.value} | {_cell(r.reason)} |"
        )
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text from outside for one table cell or list item: one line, control characters as
    visible escapes, `|` escaped; `<` and `&` escaped outside code spans only (inside one GitHub
    shows `&lt;` literally, and a code span is never read as HTML)."""
    parts = safe_text.line(" ".join(text.split())).replace("|", "\\|").split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code span at all
        parts = ["\\`".join(parts)]
    return "`".join(p if i % 2 else _html_escape(p) for i, p in enumerate(parts))


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _code(text: str) -> str:
    """Text from outside inside a code span of ours."""
    return safe_text.line(text).replace("`", "'")
