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
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from markupsafe import Markup

from sdl_tracker import __version__
from sdl_tracker.conformance import coverage
from sdl_tracker.conformance.maturity import RULES
from sdl_tracker.conformance.model import SEVERITY, PracticeResult, RequirementResult, Status
from sdl_tracker.exporters import documentation
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import format_time
from sdl_tracker.policy.catalog import Hints

if TYPE_CHECKING:
    import jinja2

NAME = "html"
PAGE = "#ffffff"
"""The page's background: every status colour stands out from it (WCAG non-text, 3:1)."""


@dataclass(frozen=True)
class Style:
    """How one status looks: a hue with its text colour (WCAG AA, 4.5:1) and an icon, so that
    colour is never the only signal (greyscale prints, colour-blind readers)."""

    color: str
    icon: str
    text: str = "#ffffff"


#: One line per status; a test checks that every status has one, with distinct hues and icons.
STYLES: dict[Status, Style] = {
    Status.SATISFIED: Style("#2e7d32", "\u2714"),  # heavy check mark
    Status.WAIVED: Style("#00695c", "\u2691"),  # flag
    Status.NOT_APPLICABLE: Style("#616161", "\u2298"),  # circled slash
    Status.PARTIAL: Style("#7c5e00", "\u25d0"),  # half-filled circle
    Status.STALE: Style("#b34700", "\u25f7"),  # clock face
    Status.NOT_DEMONSTRATED: Style("#6d4c41", "\u2205"),  # empty set: nothing to show it
    Status.MISSING: Style("#4a4a8c", "\u25cb"),  # empty circle: nothing there
    Status.INCOMPLETE: Style("#6a1b9a", "\u26a0"),  # warning sign
    Status.FAILING: Style("#b71c1c", "\u2716"),  # heavy cross
}
COLORS = {status: style.color for status, style in STYLES.items()}
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
    icon: str


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
    css, js = _asset("report.css") + status_css(), _asset("report.js")
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
        icons={s.value: style.icon for s, style in STYLES.items()},
        maturity_rules=RULES,
        shared_levels=_levels(conf.practices)[0],
        media=_media,
        files=_files(files),
        records={r.seq: r for r in source.records},
        assessor_note=partial(_assessor_note, source),
        hints=partial(_hints, source),
        time=format_time,
        css=Markup(css),
        js=Markup(js),
        csp=csp,
        generator=f"sdl-tracker {__version__}",
        coverage_action=coverage.ACTION,
    )


def _assessor_note(source: Source, r: RequirementResult) -> str | None:
    """What an assessor will still ask for, next to a satisfied requirement only."""
    if source.policy is None or r.status is not Status.SATISFIED:
        return None
    return source.policy.catalog.assessor.get(r.requirement_id)


def _hints(source: Source, rid: str) -> Hints | None:
    return source.policy.catalog.hints(rid) if source.policy else None


def _practices(source: Source) -> list[PracticeRow]:
    rows = []
    own = _levels(source.conformance.practices)[1]
    for i, p in enumerate(source.conformance.practices):
        total = sum(p.counts.values())
        bars, x = [], 0
        for status in reversed(SEVERITY):
            n = p.counts.get(status.value, 0)
            if not n:
                continue
            width = round(_BAR_WIDTH * n / total)
            bars.append(Bar(status.value, COLORS[status], x, width, n, STYLES[status].icon))
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
                levels=own[p.practice],
            )
        )
    return rows


def status_css() -> str:
    """The status badges, row markers and chart labels, from `STYLES`."""
    lines = []
    for status, style in STYLES.items():
        lines.append(f".st-{status.value} {{ background: {style.color}; color: {style.text}; }}")
        lines.append(
            f"tr.row-{status.value} td:first-child {{ border-left: 6px solid {style.color}; }}"
        )
    return "\n".join(lines) + "\n"


def _levels(
    practices: Sequence[PracticeResult],
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Level verdicts said once: the reasons worded the same for every practice go above the
    table (`ML2: roles not attested (…)`), each practice keeps its own (`ML2: no - SM-1 …`)."""
    parts = {p.practice: [_split(level) for level in p.levels] for p in practices}
    depth = min((len(v) for v in parts.values()), default=0)
    shared: list[list[str]] = []
    for i in range(depth):
        first, *rest = (v[i][1] for v in parts.values())
        common = [f for f in first if rest and not _MORE.match(f) and all(f in o for o in rest)]
        shared.append(common)
    once = tuple(f"ML{i + 1}: {'; '.join(c)}" for i, c in enumerate(shared) if c)
    own = {}
    for practice, levels in parts.items():
        lines = []
        for i, (head, fragments) in enumerate(levels):
            left = [f for f in fragments if i >= depth or f not in shared[i]]
            if left:
                lines.append(f"{head} - {'; '.join(left)}")
            else:
                lines.append(f"{head} (see above)" if fragments else head)
        own[practice] = tuple(lines)
    return once, own


_MORE = re.compile(r"and \d+ more$")


def _split(level: str) -> tuple[str, list[str]]:
    head, _, why = level.partition(" - ")
    return head, [f for f in why.split("; ") if f]


#: Media types `mimetypes` may not know on every platform.
_MEDIA = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".md": "text/markdown",
    ".sarif": "application/sarif+json",
    ".cdx.json": "application/vnd.cyclonedx+json",
    ".intoto.json": "application/vnd.in-toto+json",
}


def _media(name: str) -> str:
    """`JSON, application/json`: the extension and media type of an artifact, from its name (the
    package stores it under its SHA-256, without an extension)."""
    lowered = name.lower()
    for suffix, media in _MEDIA.items():
        if lowered.endswith(suffix):
            return f"{suffix[1:].upper()}, {media}"
    suffix = PurePosixPath(lowered).suffix
    if not suffix:
        return "no extension, application/octet-stream"
    guessed = mimetypes.guess_type("x" + suffix, strict=False)[0] or "application/octet-stream"
    return f"{suffix[1:].upper()}, {guessed}"


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
