"""Commit message trailers parsed as `git interpret-trailers --parse` parses them, in Python.

sdl-commit-msg used to start `git interpret-trailers --parse` for every commit; this module
follows git's own rules instead (trailer.c and commit.c of git 2.39–2.47), so the hook needs no
process for it. A differential test holds it to the real command on a corpus of tricky
messages and on generated ones. The rules, in git's order:

- the message ends before a `---` line (followed by whitespace: a patch follows), before the
  scissors line `# ------------------------ >8 ------------------------` (`git commit -v`), and
  before its trailing comment and empty lines (and an old `Conflicts:` block);
- the first paragraph is the title and never holds trailers;
- the trailer block is the last paragraph, when all its lines are trailers (`Key: value`, or a
  configured separator, optional whitespace before it), or when it holds a git-generated line
  (`Signed-off-by: `, `(cherry picked from commit `) or a configured trailer and at least 25 %
  of its lines are trailers;
- a line starting with whitespace continues the trailer above it (unfolded into one space);
- comment lines are skipped; a configured `trailer.<name>.key` renames a matching token.

git's character classes are ASCII-only (`isspace` is space, tab, CR, LF), and so are these.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

_SPACE = " \t\n\r"
_CUT = "------------------------ >8 ------------------------\n"
_GENERATED = ("Signed-off-by: ", "(cherry picked from commit ")
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ITEM_VARIABLES = ("key", "command", "cmd", "where", "ifexists", "ifmissing")
#: `git config --get-regexp` pattern for everything `Rules.from_config` reads.
CONFIG_PATTERN = r"^trailer\.|^core\.comment(char|string)$"


class Rules:
    """git's configuration that changes how trailers are read (a plain class, not a dataclass:
    the commit-msg hook does not import `dataclasses`)."""

    __slots__ = ("comment", "items", "separators")

    def __init__(
        self,
        separators: str = ":",
        comment: str = "#",
        items: tuple[tuple[str, str | None], ...] = (),
    ) -> None:
        self.separators = separators
        """`trailer.separators`: the characters that end a token (default `:`)."""
        self.comment = comment
        """`core.commentChar` (or `core.commentString`): what starts a comment line."""
        self.items = items
        """(name, `trailer.<name>.key` or None) of each configured trailer, in config order."""

    @classmethod
    def from_config(cls, raw: bytes) -> Rules | None:
        """The rules from `git config -z --get-regexp CONFIG_PATTERN` output; None for a
        configuration git itself would refuse or that is not modelled here (a variable
        without a value), so that the caller asks git."""
        separators, comment = ":", "#"
        items: list[list[str | None]] = []  # [name, key], in the order git met them
        for entry in raw.decode("utf-8", "replace").split("\0")[:-1]:
            name, newline, value = entry.partition("\n")
            if not newline:
                return None  # `[trailer "x"] key` with no value: git fails or crashes
            if name in ("core.commentchar", "core.commentstring"):
                if value.lower() != "auto":  # "auto" is git commit's, not interpret-trailers'
                    comment = value
                continue
            rest = name[len("trailer.") :]
            if rest == "separators":
                separators = value
                continue
            title, dot, variable = rest.rpartition(".")
            if not dot or variable not in _ITEM_VARIABLES:
                continue
            folded = title.translate(_FOLD)
            item = next((i for i in items if str(i[0]).translate(_FOLD) == folded), None)
            if item is None:
                item = [title, None]
                items.append(item)
            if variable == "key":
                item[1] = value
        if not comment:
            return None
        return cls(separators, comment, tuple((str(n), k) for n, k in items))


DEFAULT = Rules()


def possible(text: str) -> bool:
    """False when no configuration can find a trailer in `text`: it has no blank line, so its
    title paragraph runs to its end (`git commit -m subject` writes such messages). The caller
    then need not ask git for the trailer settings."""
    lines = text.split("\n")
    if text.endswith("\n") or not text:  # what follows the last newline is no line
        lines.pop()
    return any(not line.strip(" \t\r") for line in lines)


def parse(text: str, rules: Rules = DEFAULT) -> list[tuple[str, str]]:
    """(token, value) of each trailer, as `git interpret-trailers --parse` prints them."""
    text = text.split("\0", 1)[0]  # git reads the message as a C string
    end = _end_of_message(text, rules.comment)
    start = _block_start(text, end, rules)
    return list(_trailers(text[start:end], rules))


def _next_line(text: str, pos: int) -> int:
    newline = text.find("\n", pos)
    return len(text) if newline < 0 else newline + 1


def _last_line(text: str, length: int) -> int:
    """Where the last line of text[:length] starts (its final newline belongs to it); -1 for
    an empty text."""
    if length <= 1:
        return length - 1
    return text.rfind("\n", 0, length - 1) + 1


def _blank(text: str, pos: int) -> bool:
    while pos < len(text) and text[pos] in " \t\r":
        pos += 1
    return pos == len(text) or text[pos] == "\n"


def _separator(text: str, pos: int, separators: str) -> int:
    """Offset from `pos` of the separator ending a `Token<optional whitespace>:` line; -1 when
    the line is not of that form (0 when it starts with the separator)."""
    whitespace = False
    for i in range(pos, len(text)):
        c = text[i]
        if c in separators:
            return i - pos
        if not whitespace and (c == "-" or (c.isascii() and c.isalnum())):
            continue
        if i != pos and c in " \t":
            whitespace = True
            continue
        break
    return -1


def _end_of_message(text: str, comment: str) -> int:
    """Where the message ends: before the patch, the scissors line and trailing comments."""
    end = len(text)
    pos = 0
    while pos < len(text):
        if text.startswith("---", pos) and pos + 3 < len(text) and text[pos + 3] in _SPACE:
            end = pos
            break
        pos = _next_line(text, pos)
    cutoff = end
    scissors = f"\n{comment} {_CUT}"
    if text.startswith(scissors[1:]):
        cutoff = 0
    else:
        found = text.find(scissors)
        if 0 <= found and found + 1 < end:  # git < 2.45 loops forever on one after the patch
            cutoff = found + 1
    run = bol = 0  # `run`: the start of trailing comment / empty lines (0: none, as git)
    conflicts = False
    while bol < cutoff:
        newline = text.find("\n", bol, end)
        following = end if newline < 0 else newline + 1
        if text.startswith(comment, bol, cutoff) or text[bol] == "\n":
            run = run or bol
        elif text.startswith("Conflicts:\n", bol):
            conflicts = True
            run = run or bol
        elif conflicts and text[bol] == "\t":
            pass  # a path in an old conflicts block
        elif run:
            run, conflicts = 0, False
        bol = following
    return run or cutoff


def _block_start(text: str, length: int, rules: Rules) -> int:
    """Where the trailer block starts in text[:length]; `length` when there is none."""
    pos = 0
    while pos < length:  # the title: up to the first blank line, comments aside
        if not text.startswith(rules.comment, pos, length) and _blank(text, pos):
            break
        pos = _next_line(text, pos)
    end_of_title = pos
    only_spaces, recognised = True, False
    trailers = others = possible_continuations = 0
    bol = length
    while True:
        bol = _last_line(text, bol)
        if bol < end_of_title:
            return length
        if text.startswith(rules.comment, bol, length):
            others += possible_continuations
            possible_continuations = 0
            continue
        if _blank(text, bol):
            if only_spaces:
                continue
            others += possible_continuations
            if (recognised and trailers * 3 >= others) or (trailers and not others):
                return _next_line(text, bol)
            return length
        only_spaces = False
        if text.startswith(_GENERATED, bol):
            trailers += 1
            possible_continuations = 0
            recognised = True
            continue
        at = _separator(text, bol, rules.separators)
        if at >= 1 and text[bol] not in _SPACE:
            trailers += 1
            possible_continuations = 0
            if not recognised:
                recognised = any(_matches(text[bol : bol + at], item, at) for item in rules.items)
        elif text[bol] in _SPACE:
            possible_continuations += 1
        else:
            others += 1 + possible_continuations
            possible_continuations = 0


def _matches(token: str, item: tuple[str, str | None], length: int) -> bool:
    """git's `token_matches_item`: the first `length` characters of the token equal those of
    the trailer's name or key, ignoring ASCII case."""
    name, key = item
    return _same(token, name, length) or (key is not None and _same(token, key, length))


def _same(a: str, b: str, length: int) -> bool:
    return len(b) >= length and a[:length].translate(_FOLD) == b[:length].translate(_FOLD)


def _trailers(block: str, rules: Rules) -> Iterator[tuple[str, str]]:
    lines: list[str] = []
    last: int | None = None
    for piece in _pieces(block):
        if last is not None and piece[0] in _SPACE:
            lines[last] += piece
            continue
        lines.append(piece)
        last = len(lines) - 1 if _separator(piece, 0, rules.separators) >= 1 else None
    for line in lines:
        if line.startswith(rules.comment):
            continue
        at = _separator(line, 0, rules.separators)
        if at < 1:
            continue
        token = line[:at].strip(_SPACE)
        value = _unfold(line[at + 1 :].strip(_SPACE))
        length = len(token)
        while length and not (token[length - 1].isascii() and token[length - 1].isalnum()):
            length -= 1
        for item in rules.items:
            if _matches(token, item, length):
                token = item[1] if item[1] is not None else token
                break
        if token.strip(_SPACE):  # git prints nothing for a token renamed to blanks
            yield token, value


def _pieces(block: str) -> Iterator[str]:
    """The lines of the block, each with its newline (the last one may have none)."""
    pos = 0
    while pos < len(block):
        following = _next_line(block, pos)
        yield block[pos:following]
        pos = following


def _unfold(value: str) -> str:
    """Continuation lines joined: a newline and the whitespace after it become one space."""
    if "\n" not in value:
        return value
    out = []
    i = 0
    while i < len(value):
        c = value[i]
        i += 1
        if c == "\n":
            while i < len(value) and value[i] in _SPACE:
                i += 1
            c = " "
        out.append(c)
    return "".join(out).strip(_SPACE)


def render(pairs: list[tuple[str, str]], rules: Rules = DEFAULT) -> str:
    """The pairs printed as `git interpret-trailers --parse` prints them (`Token: value`; no
    space is added after a token ending with a separator, as `Bug #42`)."""
    out = []
    for token, value in pairs:
        last = token.rstrip(_SPACE)[-1]
        joint = "" if last in rules.separators else f"{rules.separators[:1]} "
        out.append(f"{token}{joint}{value}\n")
    return "".join(out)
