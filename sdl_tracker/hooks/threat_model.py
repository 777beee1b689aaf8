"""sdl-threat-model (pre-commit): the threat models being committed must be valid (SR-2).

Every given file that is a threat model (`[collectors.threat-model] paths`, default the usual
names: threat-model.yaml, *.threagile.yaml, *.threatdragon.json, *.pytm.json, ...) is read with
the same loaders as the collector: schema, ids, links, statuses. Problems are `path:line: ...`.

The other half of SR-2 — files owned by a modelled component change while the model does not —
needs the commit message (a `Threat-Model: unchanged <reason>` trailer justifies it), which
does not exist yet when pre-commit hooks run, and pre-commit does not tell a hook which stage
it runs at. So `unmodelled()` below is called by sdl-commit-msg, at commit-msg time.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from sdl_tracker.hooks._records import Unmodelled

PROG = "sdl-threat-model"
_PLACE = re.compile(r"^(?P<name>.+?):(?P<line>\d+)(?::\d+)?: (?P<rest>.*)$", re.S)


def check(root: Path, filenames: Sequence[str]) -> list[str]:
    """`path:line: message` for each given threat-model file that does not load."""
    from sdl_tracker import config
    from sdl_tracker.collectors import threat_model as collector
    from sdl_tracker.errors import InputError
    from sdl_tracker.formats import threatmodel

    s = collector.settings(config.load(root).collector(collector.NAME))
    models = set(threatmodel.discover(root, s.paths)[0]) | set(s.owns or {})
    problems = []
    for name in filenames:
        if name not in models or not (root / name).is_file():
            continue
        try:
            threatmodel.read(root / name, name)
        except InputError as e:
            problems.append(_placed(name, str(e)))
    return problems


def _placed(name: str, message: str) -> str:
    """The loader's message as `path:line: message` (line 1 when it names none)."""
    found = _PLACE.match(message)
    if found and found["name"] == name:
        return f"{name}:{found['line']}: {found['rest']}"
    rest = message[len(name) + 2 :] if message.startswith(f"{name}: ") else message
    return f"{name}:1: {rest}"


def unmodelled(root: Path, staged: Sequence[str]) -> list[Unmodelled]:
    """Models whose components own staged files while the model is not staged itself.

    Reads the models as staged (the index), and only their component paths: validating them is
    sdl-threat-model's job, and the native format's schema check alone takes a second.
    """
    if not staged:
        return []
    from sdl_tracker import config

    table = config.load(root).collector("threat-model")  # the collector's NAME, not imported
    if _no_model(root, table):
        return []  # the usual case without a model: no YAML parser or importer imported
    from sdl_tracker.collectors import threat_model as collector
    from sdl_tracker.formats import threatmodel
    from sdl_tracker.gitdata import git
    from sdl_tracker.hooks._records import Unmodelled

    s = collector.settings(table)
    owns = s.owns or {}
    models = sorted(set(threatmodel.discover(root, s.paths)[0]) | set(owns))
    changed = set(staged)
    found = []
    for model in models:
        if model in changed:
            continue
        globs = (*_owned(root, model), *owns.get(model, ()))
        if not globs:
            continue
        out = git.run(
            root,
            "diff",
            "--cached",
            "--name-only",
            "--no-renames",
            "-z",
            "--",
            *(f":(glob){g}" for g in globs),
        ).stdout
        files = sorted({f for f in out.decode("utf-8", "replace").split("\0") if f} & changed)
        if files:
            found.append(Unmodelled(model, tuple(files)))
    return found


def _no_model(root: Path, table: Mapping[str, Any]) -> bool:
    """No model file and no `owns` (with a well-formed section: otherwise the full path runs,
    and its validation names the mistake)."""
    from sdl_tracker.formats.threatmodel_paths import DEFAULT_PATHS, discover

    paths = table.get("paths", DEFAULT_PATHS)
    if table.get("owns") or not isinstance(paths, (list, tuple)):
        return False
    if not all(isinstance(p, str) and p and not p.startswith("/") for p in paths):
        return False
    return not discover(root, paths)[0]


def _owned(root: Path, model: str) -> tuple[str, ...]:
    from sdl_tracker.formats import bounded, threatmodel
    from sdl_tracker.formats.threatmodel import detect, source
    from sdl_tracker.formats.threatmodel.model import ModelFormat
    from sdl_tracker.gitdata import git

    proc = git.run(root, "cat-file", "blob", f":{model}", check=False)
    raw = proc.stdout if proc.returncode == 0 else bounded.read(root / model, "threat_model", model)
    src = source.parse(model, raw)
    if detect.detect(src) is ModelFormat.NATIVE:
        return _native_paths(src.data)
    return detect.load(model, raw, threatmodel.includer(root)).owned_paths()


def _native_paths(data: Mapping[str, Any]) -> tuple[str, ...]:
    components = data.get("components") or []
    paths = (
        p
        for c in components
        if isinstance(c, dict)
        for p in (c.get("paths") or [])
        if isinstance(p, str) and p
    )
    return tuple(dict.fromkeys(paths))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("filenames", nargs="*", help="the files being committed")
    args = parser.parse_args(argv)
    if not args.filenames:
        return 0

    def body() -> int:
        from sdl_tracker import output

        root = _base.repo_root()
        problems = check(root, _base.relative(root, args.filenames))
        for line in problems:
            output.out(line)
        return 1 if problems else 0

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
