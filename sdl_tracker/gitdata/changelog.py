"""Release notes: the section of one release, its security subsection, advisories it names.

Headings are Markdown ATX (`## 1.2.0`), setext and reStructuredText underlines (`1.2.0` over
`=====`; levels in order of first appearance, as docutils does); fenced code is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^([=\-~^\"'`*+#:.])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TOKEN = re.compile(r"[\w.+-]+")
_SECURITY = re.compile(r"security", re.IGNORECASE)
ADVISORY = re.compile(
    r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|"
    r"(?:PYSEC|RUSTSEC|GO|OSV)-\d{4}-\d+)\b"
)


@dataclass(frozen=True)
class Heading:
    line: int
    """0-based line index of the heading text."""
    level: int
    text: str
    end: int
    """Index of the first line after the heading (underline included)."""


@dataclass(frozen=True)
class ReleaseNotes:
    """What the notes say about one release."""

    release_heading: str | None
    release_line: int | None
    """1-based line of the release's heading."""
    security_heading: str | None
    security_line: int | None
    security_text: str
    advisories: tuple[str, ...]


def headings(lines: Sequence[str]) -> list[Heading]:
    found: list[Heading] = []
    underlines: dict[int, str] = {}  # heading line -> its underline character
    fenced = False
    for i, line in enumerate(lines):
        prev = lines[i - 1].strip() if i else ""
        u = None if fenced else _UNDERLINE.match(line)
        # `~~~~` under a line of text underlines it; after a blank line it opens a fence.
        if u and prev and not _UNDERLINE.match(prev) and not (found and found[-1].line == i - 1):
            underlines[i - 1] = u.group(1)
            found.append(Heading(i - 1, 0, prev, i + 1))
            continue
        if _FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else _ATX.match(line)
        if m:
            found.append(Heading(i, len(m.group(1)), m.group(2), i + 1))
    # Markdown (any `#` heading present): `=` is level 1 and `-` level 2. reStructuredText:
    # levels in the order the underline characters first appear.
    levels: dict[str, int] = {"=": 1, "-": 2} if len(underlines) < len(found) else {}
    for char in underlines.values():
        levels.setdefault(char, len(levels) + 1)
    return [
        replace(h, level=levels[underlines[h.line]]) if h.line in underlines else h for h in found
    ]


def versions(tag: str) -> set[str]:
    """The spellings of a release in headings: `v1.2.0` and `1.2.0` for tag `v1.2.0`."""
    bare = re.sub(r"^[A-Za-z_-]*(?=\d)", "", tag)
    return {tag, bare, f"v{bare}"}


def release_notes(text: str, tag: str) -> ReleaseNotes:
    """Find the heading naming `tag` (as a whole word) and its security subsection."""
    lines = text.splitlines()
    all_headings = headings(lines)
    names = versions(tag)
    release = next(
        (i for i, h in enumerate(all_headings) if names & set(_TOKEN.findall(h.text))), None
    )
    if release is None:
        return ReleaseNotes(None, None, None, None, "", ())
    head = all_headings[release]
    section = _section(all_headings, release, len(lines))
    inside = [
        i
        for i in range(release + 1, len(all_headings))
        if all_headings[i].line < section and _SECURITY.search(all_headings[i].text)
    ]
    if not inside:
        return ReleaseNotes(head.text, head.line + 1, None, None, "", ())
    sec = all_headings[inside[0]]
    stop = min(_section(all_headings, inside[0], len(lines)), section)
    body = "\n".join(lines[sec.end : stop])
    found = tuple(dict.fromkeys(m.group(1) for m in ADVISORY.finditer(body)))
    return ReleaseNotes(head.text, head.line + 1, sec.text, sec.line + 1, body, found)


def _section(all_headings: Sequence[Heading], index: int, total: int) -> int:
    """The line where the section opened by heading `index` ends."""
    level = all_headings[index].level
    for h in all_headings[index + 1 :]:
        if h.level <= level:
            return h.line
    return total
