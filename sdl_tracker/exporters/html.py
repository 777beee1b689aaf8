"""`index.html`: the auditor's self-contained report (jinja2, autoescape on).

Everything is inline — CSS, a small script, the SVG chart — and a Content-Security-Policy
(`default-src 'none'`, the style and script allowed by their SHA-256 only) keeps the page from
loading anything or running anything else, even if a string slipped through escaping. Every
string that came from a repository (commit messages, summaries, notes, file names) reaches the
page through jinja2's autoescaping. Links to `artifacts/<sha256>`, `statements/…` and the other
package files are relative, so the page works offline from the unpacked package.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from markupsafe import Markup

from sdl_tracker import __version__
from sdl_tracker.conformance.model import SEVERITY, Status
from sdl_tracker.exporters import documentation
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import format_time

if TYPE_CHECKING:
    import jinja2

NAME = "html"
COLORS = {
    Status.SATISFIED: "#2e7d32",
    Status.WAIVED: "#7b1fa2",
    Status.NOT_APPLICABLE: "#9e9e9e",
    Status.PARTIAL: "#f9a825",
    Status.STALE: "#ef6c00",
    Status.NOT_DEMONSTRATED: "#6d4c41",
    Status.MISSING: "#c62828",
    Status.INCOMPLETE: "#ad1457",
    Status.FAILING: "#b71c1c",
}
_BAR_WIDTH = 360
_ROW_HEIGHT = 26


@dataclass(frozen=True)
class Bar:
    """One coloured segment of a practice's bar in the chart."""

    status: str
    color: str
    x: int
    width: int
    count: int


@dataclass(frozen=True)
class PracticeRow:
    practice: str
    name: str
    level: str
    target: str
    y: int
    bars: tuple[Bar, ...]
    total: int
    levels: tuple[str, ...]
    tools: int = 0
    """Counted entries a tool made here or ingested."""
    people: int = 0
    """Counted entries a person stated (attested or signed)."""
    unsigned_only: tuple[str, ...] = ()
    """Requirements met only on unsigned attestations."""


def render(report: Report) -> str:
    return view(Source(conformance=report.conformance))


def view(source: Source, files: Sequence[str] = ()) -> str:
    """The page; `files` are the package's files to list (none for a stand-alone page)."""
    conf = source.conformance
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"style-src '{_digest(css)}'; script-src '{_digest(js)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        conf=conf,
        framework=source.policy.catalog.title.split(":")[0] if source.policy else "IEC 62443-4-1",
        documentation=documentation.index(source),
        flags=documentation.flags,
        source=source,
        release=source.release,
        gate=source.gate,
        practices=_practices(source),
        chart_height=_ROW_HEIGHT * len(conf.practices) + 8,
        bar_width=_BAR_WIDTH,
        statuses=[(s.value, COLORS[s]) for s in reversed(SEVERITY)],
        colors={s.value: c for s, c in COLORS.items()},
        files=_files(files),
        records={r.seq: r for r in source.records},
        time=format_time,
        css=Markup(css),
        js=Markup(js),
        csp=csp,
        generator=f"sdl-tracker {__version__}",
    )


def _practices(source: Source) -> list[PracticeRow]:
    rows = []
    for i, p in enumerate(source.conformance.practices):
        total = sum(p.counts.values())
        bars, x = [], 0
        for status in reversed(SEVERITY):
            n = p.counts.get(status.value, 0)
            if not n:
                continue
            width = round(_BAR_WIDTH * n / total)
            bars.append(Bar(status.value, COLORS[status], x, width, n))
            x += width
        tools, people = source.conformance.rests_on(p.practice)
        rows.append(
            PracticeRow(
                tools=tools,
                people=people,
                unsigned_only=tuple(
                    r.requirement_id
                    for r in source.conformance.requirements
                    if r.practice == p.practice and r.unsigned_only
                ),
                practice=p.practice,
                name=p.name,
                level=f"ML{p.maturity}" if p.maturity else "none",
                target=f"ML{p.target}" if p.target else "",
                y=4 + i * _ROW_HEIGHT,
                bars=tuple(bars),
                total=total,
                levels=p.levels,
            )
        )
    return rows


@dataclass(frozen=True)
class Files:
    listed: tuple[str, ...]
    artifacts: int
    statements: int


def _files(files: Sequence[str]) -> Files | None:
    if not files:
        return None
    inner = ("artifacts/", "statements/")
    return Files(
        listed=tuple(sorted(f for f in files if not f.startswith(inner))),
        artifacts=sum(f.startswith("artifacts/") for f in files),
        statements=sum(f.startswith("statements/") for f in files),
    )


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # only the HTML view needs it: keeps `gate` start-up fast

    return jinja2.Environment(
        loader=jinja2.PackageLoader("sdl_tracker.exporters", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=safe_text.markup,  # control characters as visible escapes, then HTML-escaped
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _asset(name: str) -> str:
    return (resources.files("sdl_tracker.exporters") / "templates" / name).read_text(
        encoding="utf-8"
    )


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
