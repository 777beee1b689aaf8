"""The organisation view as text for people (a table) and as Markdown (strings only)."""

from __future__ import annotations

from sdl_tracker import output
from sdl_tracker.conformance.model import Status
from sdl_tracker.org.signatures import HOW, NOT_CHECKED
from sdl_tracker.org.status import NOTE, OrgStatus, Row


def ml(row: Row, practice: str) -> str:
    """`ML2`, `none` (level 0), or `-` when no level was recorded (or there is no verdict)."""
    levels = row.verdict.maturity if row.verdict else None
    if levels is None or practice not in levels:
        return "-"
    return f"ML{levels[practice]}" if levels[practice] else "none"


def gated(row: Row) -> str:
    """What the verdict gated: the release tag, else the commit."""
    v = row.verdict
    if v is None:
        return "-"
    return v.release or (f"commit {v.commit[:10]}" if v.commit else f"entry {v.entry.seq}")


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _cells(status: OrgStatus, row: Row) -> list[str]:
    return [
        row.repo,
        row.state,
        gated(row),
        *(ml(row, p) for p in status.practices),
        _count(row.count(Status.STALE)),
        _count(row.count(Status.INCOMPLETE)),
        _count(row.count(Status.NOT_DEMONSTRATED)),
        str(len(row.expiring)),
        row.checkpoint.text() if row.checkpoint else "-",
        f"{row.last_activity:%Y-%m-%d}" if row.last_activity else "-",
    ]


def _headers(status: OrgStatus) -> list[str]:
    return [
        "repository",
        "gate",
        "release",
        *status.practices,
        "stale",
        "incomplete",
        "not demonstrated",
        f"waivers <={status.within_days}d",
        "checkpoint",
        "last activity",
    ]


def notes(status: OrgStatus) -> list[str]:
    """One line per problem, missing maturity record and expiring waiver."""
    lines = []
    for row in status.rows:
        lines += [f"{row.repo}: {sentence}" for sentence in row.refused]
        if row.problem:
            lines.append(f"{row.repo}: {row.problem}")
        elif row.verdict and row.verdict.maturity is None:
            lines.append(f"{row.repo}: maturity levels not recorded in its verdict")
        signed = row.checkpoint
        if signed is not None and signed.why:
            lines.append(f"{row.repo}: {signed.why}")
        elif signed is not None and signed.verdict_checkpoint is None and signed.head_signed:
            seq = row.verdict.entry.seq if row.verdict else "?"
            lines.append(
                f"{row.repo}: its verdict (entry {seq}) is followed by no checkpoint although "
                "the chain is signed: appended without the CI key, the gate of a repository "
                "whose roster names a ci key does not count it"
            )
        if row.cra_overdue:
            lines.append(
                f"{row.repo}: CRA Article 14 report(s) OVERDUE: {', '.join(row.cra_overdue)}"
            )
        lines += [f"{row.repo}: signatures: {problem}" for problem in row.signatures.problems]
        for w in row.expiring:
            lines.append(
                f"{row.repo}: the waiver for {w.target} (entry {w.seq}) expires on "
                f"{w.expires:%Y-%m-%d} (in {w.days_left} days), {w.text()}: " + w.reason
            )
    unchecked = [r.repo for r in status.rows if r.signatures.state == NOT_CHECKED]
    if unchecked:
        lines.append(f"signatures not checked for {', '.join(unchecked)}: {HOW}")
    return lines


def table(status: OrgStatus) -> str:
    """A plain aligned table, one row per repository, then the waivers and problems."""
    if not status.rows:
        return f"no repository chains in {status.ledger}"
    lines = [output.table(_headers(status), [_cells(status, r) for r in status.rows]), ""]
    lines += [f"- {line}" for line in notes(status)]
    totals = status.to_json()["totals"]
    assert isinstance(totals, dict)
    lines.append(
        f"{totals['repositories']} repositories: {totals['passed']} passed, "
        f"{totals['failed']} failed, {totals['no_verdict']} without a verdict"
        + (f", {totals['unreadable']} unreadable" if totals["unreadable"] else "")
        + (f", {totals['diverged']} DIVERGED" if totals["diverged"] else "")
        + (f", {totals['bad_signatures']} with BAD SIGNATURES" if totals["bad_signatures"] else "")
        + f"; {totals['waivers_expiring']} waivers expire within {status.within_days} days"
    )
    lines.append(f"({NOTE})")
    return "\n".join(lines)


def markdown(status: OrgStatus) -> str:
    """`## sdl-tracker organisation status`, the table, the waivers, the note."""
    headers = _headers(status)
    lines = [
        "## sdl-tracker organisation status",
        "",
        f"Ledger `{status.ledger}`, {len(status.rows)} repositories, generated "
        f"{status.generated_at:%Y-%m-%dT%H:%M:%SZ}.",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines += ["| " + " | ".join(_cell(c) for c in _cells(status, r)) + " |" for r in status.rows]
    found = notes(status)
    lines += ["", f"### Waivers expiring within {status.within_days} days, and problems", ""]
    lines += [f"- {_cell(n)}" for n in found] or ["None."]
    lines += ["", f"_{NOTE}_", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").replace("<", "&lt;").split())
