"""sdl-commit-msg (commit-msg): trailer syntax, review trailers, threat-model justification.

- Trailers are parsed by git itself (`git interpret-trailers --parse`), so what this hook
  accepts is exactly what the review collector reads later. Person trailers (`Reviewed-by`,
  `Signed-off-by`, ...) must be `Name <e-mail>`; a misspelt known key is pointed out.
- A commit touching `[hooks] security_critical_paths` needs a review trailer
  (`Security-Reviewed-by:`, `Reviewed-by:`, ...) or `Security-Review: <reason>`.
- A commit changing files owned by a threat model's components without changing the model
  needs `Threat-Model: unchanged <reason>` (SR-2; see sdl_tracker/hooks/threat_model.py).

When the message is accepted it leaves a marker for sdl-record (post-commit): the hooks ran.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sdl_tracker.hooks._records import Unmodelled

PROG = "sdl-commit-msg"
REVIEW_KEYS = ("Reviewed-by", "Acked-by", "Approved-by", "Security-Reviewed-by")
PERSON_KEYS = (*REVIEW_KEYS, "Co-authored-by", "Signed-off-by")
OTHER_KEYS = ("Security-Review", "Threat-Model")
_KNOWN = {k.lower(): k for k in (*PERSON_KEYS, *OTHER_KEYS)}
_PERSON = re.compile(r"^[^<>]+ <[^<>@\s]+@[^<>\s]+>$")
_UNCHANGED = re.compile(r"^unchanged\b\s*(?P<reason>.*)$", re.I)
_SHOWN = 3


def trailers(text: str, root: Path) -> list[tuple[str, str]]:
    """(key, value) of the message's trailers, as git parses them."""
    import subprocess

    out = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout
    pairs = []
    for line in out.splitlines():
        key, _, value = line.partition(":")
        pairs.append((key.strip(), value.strip()))
    return pairs


def check(
    message_file: Path,
    pairs: Sequence[tuple[str, str]],
    *,
    critical: Sequence[str] = (),
    staged: Sequence[str] = (),
    unmodelled: Sequence[Unmodelled] = (),
) -> list[str]:
    """Problems as `file:line: message`; empty when the message is acceptable."""
    lines = message_file.read_text(encoding="utf-8", errors="replace").splitlines()
    problems = []
    reviewed = justified = False
    for key, value in pairs:
        lower = key.lower()
        where = f"{message_file}:{_line_of(lines, key)}"
        if lower in (k.lower() for k in PERSON_KEYS):
            if not _PERSON.match(value):
                problems.append(f"{where}: {key}: expected `Name <e-mail>`, got {value!r}")
            elif lower in (k.lower() for k in REVIEW_KEYS):
                reviewed = True
        elif lower == "threat-model":
            found = _UNCHANGED.match(value)
            if found and found["reason"]:
                justified = True
            else:
                problems.append(
                    f"{where}: {key}: expected `Threat-Model: unchanged <reason>`, got {value!r}"
                )
        elif lower == "security-review":
            reviewed = reviewed or bool(value)
            if not value:
                problems.append(f"{where}: {key}: give the reason no review is needed")
        elif lower not in _KNOWN:
            import difflib

            close = difflib.get_close_matches(lower, list(_KNOWN), n=1, cutoff=0.75)
            if close:
                problems.append(
                    f"{where}: unknown trailer {key!r}: did you mean {_KNOWN[close[0]]!r}?"
                )
    touched = sorted({f for f in staged for pat in critical if fnmatch.fnmatch(f, pat)})
    if touched and not reviewed:
        problems.append(
            f"{message_file}:1: this commit changes security-critical paths ({_some(touched)}): "
            "add a `Security-Reviewed-by: Name <e-mail>` (or Reviewed-by) trailer, or "
            "`Security-Review: <reason>` explaining why no review is needed"
        )
    if not justified:
        problems.extend(
            f"{message_file}:1: files owned by the threat model {u.model} changed "
            f"({_some(u.files)}) but the model did not: update {u.model} in this commit, or add "
            "the trailer `Threat-Model: unchanged <reason>`"
            for u in unmodelled
        )
    return problems


def _some(items: Sequence[str]) -> str:
    return ", ".join(items[:_SHOWN]) + ("…" if len(items) > _SHOWN else "")


def _line_of(lines: Sequence[str], key: str) -> int:
    for number in range(len(lines), 0, -1):
        if lines[number - 1].lower().startswith(key.lower() + ":"):
            return number
    return len(lines) or 1


def staged_files(root: Path) -> list[str]:
    """The paths this commit changes (the index against HEAD)."""
    from sdl_tracker.gitdata import git

    out = git.run(root, "diff", "--cached", "--name-only", "--no-renames", "-z").stdout
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def main(argv: Sequence[str] | None = None) -> int:
    from pathlib import Path

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("message_file", type=Path)
    parser.add_argument(
        "--security-critical",
        action="append",
        default=[],
        metavar="GLOB",
        help="paths that need a review trailer (repeatable; default: [hooks] "
        "security_critical_paths), e.g. 'src/crypto/*'",
    )
    args = parser.parse_args(argv)

    def body() -> int:
        from sdl_tracker import output
        from sdl_tracker.hooks import _marker, threat_model

        root, marker = _marker.locate()
        critical = args.security_critical or _base.settings(root).security_critical_paths
        staged = staged_files(root)
        text = args.message_file.read_text(encoding="utf-8", errors="replace")
        problems = check(
            args.message_file,
            trailers(text, root),
            critical=critical,
            staged=staged,
            unmodelled=threat_model.unmodelled(root, staged),
        )
        for problem in problems:
            output.out(problem)
        if not problems:
            _marker.write(root, marker)
        return 1 if problems else 0

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
