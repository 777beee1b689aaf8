"""The Python trailer parser against the real `git interpret-trailers --parse`, message by
message: a corpus of tricky messages under several git configurations, and generated ones."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl_tracker.hooks import trailers
from sdl_tracker.hooks.trailers import Rules

CUT = "# ------------------------ >8 ------------------------"
_VERSION = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
_FOUND = re.search(r"(\d+)\.(\d+)", _VERSION)
GIT = (int(_FOUND[1]), int(_FOUND[2])) if _FOUND else (0, 0)

# (git -c options, the same configuration as Rules)
CONFIGS: dict[str, tuple[tuple[str, ...], Rules]] = {
    "default": ((), Rules()),
    "separators": (("trailer.separators=#:",), Rules(separators="#:")),
    "keys": (
        ("trailer.sign.key=Signed-off-by", "trailer.Bug.where=end", "trailer.rev.key=Reviewed-by"),
        Rules(items=(("sign", "Signed-off-by"), ("Bug", None), ("rev", "Reviewed-by"))),
    ),
    "comment": (("core.commentChar=;",), Rules(comment=";")),
    "all": (
        ("trailer.separators==:#", "trailer.ticket.key=Ticket #", "core.commentChar=%"),
        Rules(separators="=:#", comment="%", items=(("ticket", "Ticket #"),)),
    ),
}

CORPUS = [
    "Subject\n\nBody.\n\nSigned-off-by: Ada <ada@x.org>\nReviewed-by: Grace <g@x.org>\n",
    "Subject only\n",
    "Key: in the title\n",
    "Key: title\nOther: title too\n\nKey: body\n",
    "",
    "\n\n\n",
    "Subject\n\nReviewed-by: Grace <g@x.org>",  # no final newline
    "\nKey: after a leading blank line\n",
    # the 25 % rule: a git-generated trailer lets other lines in, up to 3 of them per trailer
    "S\n\nSigned-off-by: A <a@x>\nnot a trailer\nnor this\nnor that\n",
    "S\n\nSigned-off-by: A <a@x>\nnot a trailer\nnor this\nnor that\nnor this one\n",
    "S\n\nFoo: bar\nnot a trailer\n",
    "S\n\n(cherry picked from commit 0123abc)\nKey: v\nx\ny\n",
    "S\n\n(cherry picked from commit 0123abc)\nx\ny\nz\nw\n",
    "S\n\nSigned-off-by:no space after the colon\nKey: v\nplain\n",
    # configured trailers count as recognised; their keys rename the token
    "S\n\nsign: Ada <ada@x.org>\nplain line\n",
    "S\n\nrev: Grace <g@x.org>\nBug #42\nticket: 7\n",
    "S\n\nSIGN: upper case\nSi: a prefix of a configured name\n",
    # continuation lines
    "S\n\nKey: long\n  continued\n\tagain\nOther: x\n",
    "S\n\n  starts with a space: no\nKey: v\n",
    "S\n\nKey: v\n \n",
    "S\n\nKey:\n  value on the next line\n",
    "S\n\nA: b\n  c\nplain\n  d\nSigned-off-by: A <a@x>\n",
    # separators and tokens
    "S\n\nKey : spaced\nKey\t:tabbed\nKey two: no\n",
    "S\n\n-: dash token\n--: two\nx-y_z: underscore\n",
    "S\n\n: empty token\nKey:\n",
    "S\n\nBug #42\nTicket #7\nKey: v\n",
    "S\n\nKey=v\nOther: w\n",
    "S\n\nClé: non-ASCII token\nKey: é value\n",
    "S\n\nKey: value: with colon\nURL: https://x.org/a:b\n",
    "S\n\nKey: a\x0bb\nK2: c\x0c\n",
    # patch part, comments, scissors, conflicts
    "S\n\nKey: v\n---\nPatch: no\n",
    "S\n\nKey: v\n--- a/file\n+++ b/file\n",
    "S\n\nKey: v\n----\nNot-a-patch: yes\n",
    "S\n\nKey: v\n---",
    "S\n\nKey: v\n# a comment\n# another\n\n",
    "S\n\nKey: v\n# a comment between\nOther: w\n",
    "S\n\n# comment\nKey: v\n",
    "# comment title\nS\n\nKey: v\n",
    f"S\n\nKey: v\n{CUT}\n# Do not modify or remove the line above.\nKey: after\n",
    f"{CUT}\nKey: v\n",
    f"S\n\nKey: v\n\n{CUT}\ndiff --git a/x b/x\n",
    "S\n\nKey: v\nConflicts:\n\tpath/one\n\tpath/two\n",
    "S\n\nKey: v\nConflicts:\n\tpath\nmore\n",
    "S\n\nKey: v\n; semicolon comment\n% percent comment\n",
    "S\n\nKey: v\x00Hidden: after a NUL\n",
    "S\n\nKey: v\r\nOther: w\r\n",
    "S\n\nKey: v\n\n\nOther: w\n",
    "S\n\nKey: a\n\nKey: b\n",
    "S\n" + "\n".join(f"K{i}: {i}" for i in range(200)) + "\n",
]


def _git_parse(text: str, options: Sequence[str]) -> str:
    """What `git interpret-trailers --parse` prints for this message."""
    config = [arg for option in options for arg in ("-c", option)]
    proc = subprocess.run(
        ["git", *config, "interpret-trailers", "--parse"],
        input=text.encode(),
        capture_output=True,
        timeout=20,
        check=True,
    )
    return proc.stdout.decode()


def _git_hangs(text: str, comment: str) -> bool:
    """git before 2.45 loops forever on a scissors line after a `---` line (fixed in git by
    "wt-status: don't find scissors line beyond buf len")."""
    if GIT >= (2, 45):
        return False
    text = text.split("\0", 1)[0]
    patch = re.search(r"^---[ \t\n\r]", text, re.M)
    scissors = text.find(f"\n{comment} {CUT[2:]}\n")
    return bool(patch) and scissors >= 0 and scissors + 1 > patch.start()


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_corpus_parses_as_git_parses_it(config: str) -> None:
    options, rules = CONFIGS[config]
    for text in CORPUS:
        if _git_hangs(text, rules.comment):
            continue
        parsed = trailers.parse(text, rules)
        assert trailers.render(parsed, rules) == _git_parse(text, options), text
        assert trailers.possible(text) or not parsed, text


def test_the_rules_are_read_from_git_config() -> None:
    options = (
        "trailer.separators=#:",
        "trailer.Sign.key=Signed-off-by",
        "trailer.sign.where=end",
        "trailer.bug.ifexists=add",
        "trailer.a.b.key=Dotted",
        "trailer.ignored.unknown=x",
        "core.commentChar=;",
    )
    config = [arg for option in options for arg in ("-c", option)]
    raw = subprocess.run(
        ["git", *config, "config", "-z", "--get-regexp", trailers.CONFIG_PATTERN],
        capture_output=True,
        check=True,
    ).stdout
    rules = Rules.from_config(raw)
    assert rules is not None
    assert (rules.separators, rules.comment) == ("#:", ";")
    assert rules.items == (("Sign", "Signed-off-by"), ("bug", None), ("a.b", "Dotted"))


@pytest.mark.parametrize(
    ("raw", "comment"),
    [(b"", "#"), (b"core.commentchar\nauto\x00", "#"), (b"core.commentstring\n//\x00", "//")],
)
def test_comment_settings(raw: bytes, comment: str) -> None:
    rules = Rules.from_config(raw)
    assert rules is not None and rules.comment == comment


@pytest.mark.parametrize("raw", [b"trailer.x.key\x00", b"core.commentchar\n\x00"])
def test_a_configuration_git_refuses_is_left_to_git(raw: bytes) -> None:
    assert Rules.from_config(raw) is None


_LINES = st.sampled_from(
    [
        "",
        " ",
        "plain text",
        "Key: value",
        "Key : spaced",
        "Reviewed-by: Grace <g@x.org>",
        "Signed-off-by: Ada <ada@x.org>",
        "Signed-off-by:Ada",
        "(cherry picked from commit 0123abc)",
        "  continued",
        "\tcontinued",
        "# comment",
        "; comment",
        "---",
        "--- a/x",
        "----",
        CUT,
        "Conflicts:",
        "\tpath",
        "Bug #42",
        "sign: Ada",
        "rev: Grace",
        ": no token",
        "-: dash",
        "Clé: é",
        "x=y",
    ]
)
_MESSAGES = st.builds(
    lambda lines, noise, end: "\n".join(lines + noise) + end,
    st.lists(_LINES, max_size=12),
    st.lists(st.text(alphabet=" \t:#;=-aK\r", max_size=8), max_size=2),
    st.sampled_from(["", "\n", "\n\n"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_MESSAGES, config=st.sampled_from(sorted(CONFIGS)))
def test_generated_messages_parse_as_git_parses_them(text: str, config: str) -> None:
    options, rules = CONFIGS[config]
    if _git_hangs(text, rules.comment):
        return
    parsed = trailers.parse(text, rules)
    assert trailers.render(parsed, rules) == _git_parse(text, options)
    assert trailers.possible(text) or not parsed  # no blank line: no trailers, whatever the rules


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("Subject\n", False),
        ("Subject", False),
        ("S\nKey: v\n", False),
        ("S\n\nKey: v", True),
        ("S\n \t\r\nKey: v\n", True),
        ("", False),
        ("\n", True),
    ],
)
def test_messages_without_a_blank_line_have_no_trailers(text: str, possible: bool) -> None:
    assert trailers.possible(text) is possible
