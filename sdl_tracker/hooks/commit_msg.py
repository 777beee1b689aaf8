"""sdl-commit-msg (commit-msg): trailer syntax, review trailers, threat-model justification.

- Trailers are read as git reads them (`git interpret-trailers --parse`; the rules are in
  sdl_tracker/hooks/trailers.py, held to git by a differential test), so what this hook
  accepts is exactly what the review collector reads later. Person trailers (`Reviewed-by`,
  `Signed-off-by`, ...) must be `Name <e-mail>`; a misspelt known key is pointed out.
- A commit touching `[hooks] security_critical_paths` needs a review trailer
  (`Security-Reviewed-by:`, `Reviewed-by:`, ...) or `Security-Review: <reason>`.
- A commit changing files owned by a threat model's components without changing the model
  needs `Threat-Model: unchanged <reason>` (SR-2; see sdl_tracker/hooks/threat_model.py).

When the message is accepted it leaves a marker for sdl-record (post-commit): the hooks ran.

It runs on every commit, so its usual path imports almost nothing (no argparse, pathlib,
subprocess, TOML or dataclasses): a repository without a configuration file and without a
threat model costs two git calls and the trailer rules' one (benchmarks/hooks.py). With a
configuration file, what it needs from a valid one is cached in the git directory, keyed by the
file's exact bytes (hooks/_settings_cache.py).
"""

from __future__ import annotations

import os
import re
import sys

from sdl_tracker.hooks import _base

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
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
_MARKER = "sdl-tracker/hooks-ran"  # _marker._NAME, without importing pathlib and gitdata.git


def message_trailers(text: str, root: str) -> list[tuple[str, str]]:
    """(key, value) of the message's trailers, as git parses them (with the repository's
    `trailer.*` and `core.commentChar` settings)."""
    from sdl_tracker.hooks import trailers

    if not trailers.possible(text):
        return []
    from sdl_tracker.gitdata import spawn

    code, raw = spawn.out(root, "config", "-z", "--get-regexp", trailers.CONFIG_PATTERN)
    rules = trailers.Rules.from_config(raw if code == 0 else b"") if code in (0, 1) else None
    if rules is None:  # a configuration git refuses or we do not model: git says it
        return _git_trailers(text, root)
    return trailers.parse(text, rules)


def _git_trailers(text: str, root: str) -> list[tuple[str, str]]:
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
    text = message_file.read_text(encoding="utf-8", errors="replace")
    found = problems(text, pairs, critical=critical, staged=staged, unmodelled=unmodelled)
    return [f"{message_file}:{line}: {message}" for line, message in found]


def problems(
    text: str,
    pairs: Sequence[tuple[str, str]],
    *,
    critical: Sequence[str] = (),
    staged: Sequence[str] = (),
    unmodelled: Sequence[Unmodelled] = (),
) -> list[tuple[int, str]]:
    """(line, problem) of the message `text`; empty when it is acceptable."""
    lines = text.splitlines()
    found = []
    reviewed = justified = False
    for key, value in pairs:
        lower = key.lower()
        if lower in (k.lower() for k in PERSON_KEYS):
            if not _PERSON.match(value):
                found.append(
                    (_line_of(lines, key), f"{key}: expected `Name <e-mail>`, got {value!r}")
                )
            elif lower in (k.lower() for k in REVIEW_KEYS):
                reviewed = True
        elif lower == "threat-model":
            matched = _UNCHANGED.match(value)
            if matched and matched["reason"]:
                justified = True
            else:
                found.append(
                    (
                        _line_of(lines, key),
                        f"{key}: expected `Threat-Model: unchanged <reason>`, got {value!r}",
                    )
                )
        elif lower == "security-review":
            reviewed = reviewed or bool(value)
            if not value:
                found.append((_line_of(lines, key), f"{key}: give the reason no review is needed"))
        elif lower not in _KNOWN:
            import difflib

            close = difflib.get_close_matches(lower, list(_KNOWN), n=1, cutoff=0.75)
            if close:
                found.append(
                    (
                        _line_of(lines, key),
                        f"unknown trailer {key!r}: did you mean {_KNOWN[close[0]]!r}?",
                    )
                )
    if critical and staged:
        import fnmatch

        touched = sorted({f for f in staged for pat in critical if fnmatch.fnmatch(f, pat)})
        if touched and not reviewed:
            found.append(
                (
                    1,
                    f"this commit changes security-critical paths ({_some(touched)}): "
                    "add a `Security-Reviewed-by: Name <e-mail>` (or Reviewed-by) trailer, or "
                    "`Security-Review: <reason>` explaining why no review is needed",
                )
            )
    if not justified:
        found.extend(
            (
                1,
                f"files owned by the threat model {u.model} changed "
                f"({_some(u.files)}) but the model did not: update {u.model} in this commit, or "
                "add the trailer `Threat-Model: unchanged <reason>`",
            )
            for u in unmodelled
        )
    return found


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


def _staged(root: str) -> list[str]:
    from sdl_tracker.gitdata import spawn

    code, out = spawn.out(root, "diff", "--cached", "--name-only", "--no-renames", "-z")
    if code != 0:  # git's own error, through gitdata.git
        from pathlib import Path

        return staged_files(Path(root))
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def _locate() -> tuple[str, str]:
    """The work tree root and the marker's path (as `_marker.locate`, without its imports)."""
    from sdl_tracker.gitdata import spawn

    code, out = spawn.out(None, "rev-parse", "--show-toplevel", "--git-path", _MARKER)
    lines = out.decode().splitlines() if code == 0 else []
    if len(lines) != 2:  # not a repository (its error says so), or a newline in a path
        from sdl_tracker.hooks import _marker

        root, marker = _marker.locate()
        return str(root), str(marker)
    return lines[0], os.path.join(os.getcwd(), lines[1])


def _mark(root: str, marker: str) -> None:
    """`_marker.write`: remember the tree about to be committed, for sdl-record."""
    from sdl_tracker.gitdata import spawn

    code, tree = spawn.out(root, "write-tree")
    if code != 0:
        from pathlib import Path

        from sdl_tracker.hooks import _marker

        _marker.write(Path(root), Path(marker))
        return
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, "w") as f:
        f.write(tree.decode().strip() + "\n")


def _configured(root: str) -> bool:
    """Whether config.load(root) may find a configuration: `.sdl-tracker.toml`, or a
    pyproject.toml that can hold `[tool.sdl-tracker]` (its name appears, or an escape that could
    spell it), so that most repositories need no TOML parser here."""
    if os.path.isfile(os.path.join(root, ".sdl-tracker.toml")):
        return True
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as f:
            data = f.read()
    except OSError:
        return False
    return any(s in data for s in (b"sdl-tracker", b"\\u", b"\\U"))


def _parser() -> argparse.ArgumentParser:
    import argparse
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
    return parser


def _arguments(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """MESSAGE_FILE and `--security-critical GLOB` (or `=GLOB`) options in their plain forms;
    None for anything else (`--help`, a mistake, an abbreviation), which argparse handles."""
    name: str | None = None
    critical: list[str] = []
    positional = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not positional and arg == "--":
            positional = True
        elif not positional and arg == "--security-critical":
            if i + 1 == len(argv) or argv[i + 1].startswith("-"):
                return None
            critical.append(argv[i + 1])
            i += 1
        elif not positional and arg.startswith("--security-critical="):
            critical.append(arg.partition("=")[2])
        elif name is None and (positional or not arg.startswith("-")):
            name = arg
        else:
            return None
        i += 1
    return None if name is None else (name, critical)


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    plain = _arguments(given)
    if plain is None:
        args = _parser().parse_args(given)  # exits on --help and on mistakes, as it always did
        plain = (str(args.message_file), list(args.security_critical))
    name, critical = plain
    return _base.guard(PROG, lambda: _run(name, critical))


def _run(name: str, critical: Sequence[str]) -> int:
    root, marker = _locate()
    configured = _configured(root)
    default_model = False  # unknown: the threat-model check reads the configuration itself
    if configured and not critical:
        critical, default_model = _settings(root, marker)
    with open(name, encoding="utf-8", errors="replace") as f:
        text = f.read()
    pairs = message_trailers(text, root)
    staged: list[str] = []
    unmodelled: list[Unmodelled] = []
    model = (configured and not default_model) or _has_default_model(root)
    if critical or model:
        staged = _staged(root)
        if staged and model:
            from pathlib import Path

            from sdl_tracker.hooks import threat_model

            unmodelled = threat_model.unmodelled(Path(root), staged)
    found = problems(text, pairs, critical=critical, staged=staged, unmodelled=unmodelled)
    if found:
        from pathlib import Path

        from sdl_tracker import output

        for line, message in found:
            output.out(f"{Path(name)}:{line}: {message}")
        return 1
    _mark(root, marker)
    return 0


def _settings(root: str, marker: str) -> tuple[Sequence[str], bool]:
    """`[hooks] security_critical_paths`, and whether `[collectors.threat-model]` keeps the
    default model places (no `paths`, no `owns`), from the cache of a valid configuration
    (hooks/_settings_cache.py), else read, validated (an error every time) and cached."""
    from sdl_tracker.hooks import _settings_cache

    cache = os.path.join(os.path.dirname(marker), _settings_cache.NAME)
    found = _settings_cache.config_file(root)
    kept = _settings_cache.lookup(cache, *found) if found is not None else None
    if kept is not None:
        return kept
    from pathlib import Path

    from sdl_tracker import config

    cfg = config.load(Path(root))
    paths = _base.hook_settings(cfg.section("hooks"), str(cfg.source or root))
    table = cfg.collector("threat-model")  # the collector's NAME, not imported
    default_model = not table.get("owns") and "paths" not in table
    # Kept only when the file read before validating is the file read after it.
    if found is not None and _settings_cache.config_file(root) == found:
        _settings_cache.store(cache, *found, paths.security_critical_paths, default_model)
    return paths.security_critical_paths, default_model


def _has_default_model(root: str) -> bool:
    from sdl_tracker.formats.threatmodel_paths import default_found

    return default_found(root)


if __name__ == "__main__":
    raise SystemExit(main())
