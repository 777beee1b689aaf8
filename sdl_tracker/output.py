"""The only terminal writer: human text on stderr, machine output on stdout, colour on a TTY.

Nothing from the repository reaches the terminal raw: every line written here goes through
`neutralise`, which shows control characters (C0, DEL, C1 — among them ESC and CR), bidi
overrides and Unicode line separators as visible escapes (`\x1b`, `\u202e`), so an id, a
title or a commit message cannot move the cursor, redraw a line or reorder what is shown. Our
own colours are the only escape sequences let through. Text that must stay on one line (an id,
a summary inside a status line) goes through `field`, which escapes newlines too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

from sdl_tracker.formats import text as safe_text

_COLORS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "dim": "2"}
_color = False
WIDTH = 79

#: Our own colour sequences (`paint`), the only escapes let through to the terminal.
_OURS = re.compile("(\x1b\\[(?:" + "|".join(["0", *_COLORS.values()]) + ")m)")


neutralise = safe_text.terminal
"""`text` with every unsafe character shown as an escape (tab and newline kept)."""
field = safe_text.line
"""One value from outside (an id, a title, a summary) for a single line: newlines and tabs
escaped too."""


def _safe(text: str) -> str:
    if "\x1b" not in text:
        return neutralise(text)
    parts = _OURS.split(text)  # odd indexes: our colour sequences
    return "".join(p if i % 2 else neutralise(p) for i, p in enumerate(parts))


def set_color(mode: str) -> None:
    """`auto` (colour only when stderr is a TTY and NO_COLOR is unset), `always`, `never`."""
    global _color
    if mode == "always":
        _color = True
    elif mode == "never":
        _color = False
    else:
        _color = (
            sys.stderr.isatty()
            and "NO_COLOR" not in os.environ
            and os.environ.get("TERM") != "dumb"
        )


def paint(text: str, color: str) -> str:
    return f"\033[{_COLORS[color]}m{text}\033[0m" if _color and color in _COLORS else text


def err(text: str = "", stream: TextIO | None = None) -> None:
    """A human line on stderr."""
    print(_safe(text), file=stream or sys.stderr)


def out(text: str) -> None:
    """A machine line on stdout."""
    text = _safe(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def write_json(data: Any) -> None:
    # json escapes C0 itself; C1, bidi controls and separators become \\uXXXX (the same JSON)
    out(safe_text.json_document(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)))


def write_bytes(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def status_line(label: str, status: str, color: str, width: int = WIDTH) -> str:
    """pre-commit's layout: `label.......Status` padded to `width`."""
    label = field(label)
    dots = max(width - len(label) - len(status), 3)
    return f"{label}{'.' * dots}{paint(status, color)}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain aligned text table (no colour), as a string."""
    rows = [[field(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
    return "\n".join(lines)


@contextlib.contextmanager
def progress(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr (rich) while work runs; `advance(label)` starts the next step.

    Only on a terminal: CI logs get the status lines alone.
    """
    if not sys.stderr.isatty():
        yield lambda label: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task("", total=total)
        started = False

        def advance(label: str) -> None:
            nonlocal started
            if started:
                bar.advance(task)
            started = True
            bar.update(task, description=label)

        yield advance
        bar.update(task, completed=total)
