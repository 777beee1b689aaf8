"""sdl-secrets (pre-commit): detect-secrets on the files being committed (SM-8).

Fails on every secret that the detect-secrets baseline (`[collectors.secrets] baseline`, default
`.secrets.baseline`) does not list, reported as `path:line: type` — never the secret itself.
A text file that cannot be decoded was not scanned, so it fails too (never a silent pass).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

PROG = "sdl-secrets"


def check(root: Path, filenames: Sequence[str], baseline: str | None, *, index: bool) -> list[str]:
    """Problems as `path:line: message`; empty when no unbaselined secret is staged.

    With `index`, a file whose work-tree copy differs from the index is scanned as staged (the
    plain git hook: nothing stashed the unstaged changes away, as pre-commit does).
    """
    import tempfile
    from pathlib import Path

    from sdl_tracker.collectors import secrets
    from sdl_tracker.gitdata import git

    name = baseline or _configured_baseline(root)
    known = secrets.load_baseline(root, name)
    staged = _differs(root, filenames) if index else []
    result = secrets.scan_files(root, [f for f in filenames if f not in staged], known)
    found, unreadable = list(result.findings), list(result.unreadable)
    if staged:
        with tempfile.TemporaryDirectory(prefix="sdl-secrets-") as tmp:
            for file in staged:
                target = Path(tmp, file)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(git.run(root, "cat-file", "blob", f":{file}").stdout)
            other = secrets.scan_files(Path(tmp), staged, known)
        found.extend(other.findings)
        unreadable.extend(other.unreadable)
    if known:
        fix = f"or, if it is a false positive, audit it into {name}"
    else:
        fix = f"or, if it is a false positive, baseline it (`detect-secrets scan > {name}`)"
    problems = [
        f"{f.path}:{f.line}: {f.type}: remove it (and rotate it if it is real), {fix}"
        for f in sorted(found, key=lambda f: (f.path, f.line))
    ]
    problems.extend(
        f"{path}:1: not scanned: the file cannot be decoded as text; re-encode it as UTF-8"
        for path in unreadable
    )
    return problems


def _differs(root: Path, filenames: Sequence[str]) -> list[str]:
    """Which of `filenames` are staged with further changes in the work tree."""
    import os

    from sdl_tracker.gitdata import git

    out = git.run(root, "diff", "--name-only", "--no-renames", "-z").stdout
    changed = set(os.fsdecode(out).split("\0"))
    return [f for f in filenames if f in changed]


def _configured_baseline(root: Path) -> str:
    from sdl_tracker import config
    from sdl_tracker.collectors.secrets import DEFAULT_BASELINE

    table = config.load(root).collector("secrets")
    value = table.get("baseline", DEFAULT_BASELINE)
    if not isinstance(value, str) or not value:
        raise config.error(
            table, "baseline", f"[collectors.secrets] baseline: expected a file path, got {value!r}"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("filenames", nargs="*", help="the files to scan (the staged files)")
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="detect-secrets baseline (default: [collectors.secrets] baseline, else "
        ".secrets.baseline)",
    )
    args = parser.parse_args(argv)
    if not args.filenames:
        return 0

    def body() -> int:
        from sdl_tracker import output

        root = _base.repo_root()
        files = _base.relative(root, args.filenames)
        problems = check(root, files, args.baseline, index=not _base.under_pre_commit())
        for line in problems:
            output.out(line)
        return 1 if problems else 0

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
