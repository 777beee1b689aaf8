"""Text from outside made safe for where it is shown: the terminal, JSON, XML, markdown.

Strings from the repository — commit messages, ids, titles, notes, summaries, file names — may
hold control characters (ESC, CR, NUL...), bidi overrides or Unicode line separators that redraw a
terminal line, reorder what a reader sees or make XML ill-formed. Each is shown as a visible
escape (`\\x1b`, `\\u202e`), so the reader sees that something was there; escapes are printable
ASCII, so applying a function twice changes nothing.
"""

from __future__ import annotations

#: C0 but tab and newline, DEL, C1, the bidi controls (ALM, LRM, RLM, the embeddings and
#: overrides, the isolates) and the Unicode line and paragraph separators.
UNSAFE = (
    *(c for c in range(0x20) if c not in (0x09, 0x0A)),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)


def _shown(c: int) -> str:
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


_TERMINAL = {c: _shown(c) for c in UNSAFE}
_LINE = {**_TERMINAL, 0x09: "\\t", 0x0A: "\\n"}
_JSON = {c: f"\\u{c:04x}" for c in UNSAFE if c >= 0x7F}
#: What XML 1.0 forbids (C0 but tab/newline/CR, surrogates, U+FFFE/U+FFFF), shown as escapes;
#: the other unsafe characters too (XML allows them; a CI log printing the message must not).
_XML = {**_LINE, 0x0A: "\n", 0xFFFE: "\\ufffe", 0xFFFF: "\\uffff"}
_XML.update({c: _shown(c) for c in range(0xD800, 0xE000)})


def terminal(text: str) -> str:
    """`text` for a terminal: unsafe characters escaped, tabs and newlines kept."""
    return text.translate(_TERMINAL)


def line(text: object) -> str:
    """One value from outside for a single line (an id in a status line): newlines and tabs
    escaped too."""
    return str(text).translate(_LINE)


def json_document(dumped: str) -> str:
    """JSON text from `json.dumps(..., ensure_ascii=False)` with C1, bidi controls and line
    separators as `\\uXXXX` (json escapes C0 itself): the same JSON value, no raw control."""
    return dumped.translate(_JSON)


def xml(text: str) -> str:
    """Text for an XML attribute or element: nothing XML 1.0 forbids, nothing unsafe, newlines
    kept."""
    return text.translate(_XML)


def markup(value: object) -> object:
    """A template value (jinja2 `finalize`): strings as `xml`, HTML-escaped afterwards by the
    template's autoescape; markup built by the template and other values unchanged."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return xml(value)
    return value
