"""What `init` finds in a repository before it writes the configuration: the release tag scheme,
the test reports, where the product's dependencies are declared or installed, and the packages the
build ships. Pure functions from the repository's facts to settings, each with the reason it was
chosen; `init` prints the reasons and writes the settings.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sdl_tracker.collectors.sast import scope as sast_scope

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

Value = str | tuple[str, ...]

DEFAULT_TAGS = "v*"
_VERSION_TAG = re.compile(r"^(?P<prefix>\D*?)\d+(?:\.\d+)+\S*$")
_REQUIREMENTS = re.compile(
    r"(?:^|/)requirements(?:[-_.][^/]*)?\.(?:txt|in)$|(?:^|/)requirements/[^/]+\.(?:txt|in)$"
)
_DEVELOPMENT = re.compile(r"dev|test|doc|lint|typ|build|ci\b|style|mypy|check|bench|example")
LOCK_FILES = ("pylock.toml", "uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
_JUNIT_OPTION = re.compile(r"--junit-?xml[= ]+[\"']?(?P<path>[^\s\"'${}]+\.xml)\b")
_JUNIT_SOURCES = ("pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini", "noxfile.py", "Makefile")


@dataclass(frozen=True)
class Setting:
    """One value `init` writes: `key = value` in `[section]`, and why."""

    section: str
    key: str
    value: Value
    why: str


@dataclass(frozen=True)
class Survey:
    settings: tuple[Setting, ...]
    notes: tuple[str, ...]
    """What was looked for and not found, or found and not chosen, with what to do."""


def survey(
    root: Path,
    tags: Sequence[str],
    files: Sequence[str],
    *,
    virtual_env: str | None = None,
    own_prefix: str | None = None,
) -> Survey:
    """Everything `init` proposes for the repository at `root` (tracked `files`, its `tags`).

    `virtual_env` is the active virtualenv ($VIRTUAL_ENV), `own_prefix` the one sdl-tracker runs
    in: that one is never chosen, its packages are the tool's, not the product's."""
    settings: list[Setting] = []
    notes: list[str] = []
    for part in (
        tag_scheme(tags),
        test_reports(root, files),
        dependencies(root, files, virtual_env, own_prefix),
        shipped(root, files),
    ):
        settings.extend(part.settings)
        notes.extend(part.notes)
    return Survey(tuple(settings), tuple(notes))


def tag_scheme(tags: Sequence[str]) -> Survey:
    """The glob that names release tags, from the prefix most version-like tags share."""
    prefixes = Counter(m["prefix"] for t in tags if (m := _VERSION_TAG.match(t)))
    if not prefixes:
        why = (
            f"none of the {len(tags)} tags looks like a version"
            if tags
            else "no tags yet: tag releases like v1.2.0"
        )
        pattern = DEFAULT_TAGS
    else:
        prefix, count = prefixes.most_common(1)[0]
        example = next(
            t for t in reversed(tags) if (m := _VERSION_TAG.match(t)) and m["prefix"] == prefix
        )
        pattern = DEFAULT_TAGS if prefix == "v" else f"{prefix}[0-9]*"
        why = f"{count} of {len(tags)} tags look like {example}"
    if pattern == DEFAULT_TAGS:
        return Survey((), (f"release tags: {DEFAULT_TAGS}, the default ({why})",))
    return Survey(
        (
            Setting("collectors.releases", "tag_pattern", pattern, why),
            Setting("collectors.review", "tag_pattern", pattern, "the same release tags"),
            Setting(
                "collectors.documents", "tag_pattern", pattern, "per-release documents: the same"
            ),
            Setting("hooks", "release_tags", pattern, "the pre-push gate checks these tags"),
        ),
        (),
    )


def test_reports(root: Path, files: Sequence[str]) -> Survey:
    """JUnit XML paths named by `--junitxml` in the test runner's or the CI's configuration."""
    sources = [f for f in files if f in _JUNIT_SOURCES or _is_ci(f)]
    found: dict[str, str] = {}
    for name in sources:
        text = _text(root / name)
        for m in _JUNIT_OPTION.finditer(text):
            path = PurePosixPath(m["path"]).as_posix().removeprefix("./")
            if not path.startswith(("/", "..")) and not path.startswith("sdl-reports/"):
                found.setdefault(path, name)
    if not found:
        return Survey(
            (),
            (
                "test reports: no --junitxml in "
                + (", ".join(sources) if sources else "pyproject.toml, tox.ini, setup.cfg or CI")
                + ": the tests collector reads junit.xml or reports/junit.xml; write one with "
                "`pytest --junitxml=reports/junit.xml`, or set [collectors.tests] junit",
            ),
        )
    paths = tuple(found)
    why = "; ".join(f"--junitxml {p} in {src}" for p, src in found.items())
    return Survey((Setting("collectors.tests", "junit", paths, why),), ())


def dependencies(
    root: Path, files: Sequence[str], virtual_env: str | None, own_prefix: str | None
) -> Survey:
    """Where the product's dependencies are: requirements files, pyproject, a lock, a venv."""
    notes: list[str] = []
    requirements = [f for f in files if _REQUIREMENTS.search(f)]
    product = [f for f in requirements if not _DEVELOPMENT.search(PurePosixPath(f).name.lower())]
    locks = [f for f in files if PurePosixPath(f).name in LOCK_FILES]
    project = _project(root / "pyproject.toml") if "pyproject.toml" in files else {}
    declared = project.get("dependencies", []) if project else None
    venv = _virtualenv(root, virtual_env, own_prefix, notes)
    settings: list[Setting] = []
    if "requirements.txt" in files:
        settings.append(Setting("collectors.deps", "source", "requirements", "requirements.txt"))
    elif isinstance(declared, list) or any(f == "pylock.toml" for f in locks):
        why = (
            "pylock.toml"
            if "pylock.toml" in locks
            else f"pyproject.toml [project] declares {len(declared or [])} dependencies"
        )
        settings.append(Setting("collectors.deps", "source", "pyproject", why))
    elif venv is not None:
        settings.append(
            Setting("collectors.deps", "source", "environment", f"the virtualenv {venv}")
        )
        settings.append(Setting("collectors.deps", "python", venv, "the product's interpreter"))
    elif product:
        settings.append(Setting("collectors.deps", "source", "requirements", "requirements files"))
        settings.append(
            Setting("collectors.deps", "requirements", tuple(product), ", ".join(product))
        )
    else:
        notes.append(
            "dependencies: no requirements file, pyproject.toml [project] dependencies, "
            "pylock.toml or project virtualenv (.venv): set [collectors.deps] source"
        )
    dev = sorted(set(requirements) - set(product))
    if dev:
        notes.append(f"development requirements, not audited as the product's: {', '.join(dev)}")
    other_locks = [f for f in locks if f != "pylock.toml"]
    if other_locks:
        notes.append(
            f"lock files {', '.join(other_locks)}: export them to requirements "
            "(e.g. `uv export --no-dev -o requirements.txt`) for an exact, offline audit"
        )
    if venv is not None:
        settings.append(
            Setting("collectors.sbom", "source", "environment", f"the virtualenv {venv}")
        )
        settings.append(Setting("collectors.sbom", "python", venv, "the product's interpreter"))
    elif product:
        settings.append(
            Setting("collectors.sbom", "source", "requirements", "no project virtualenv")
        )
        settings.append(
            Setting("collectors.sbom", "requirements", tuple(product), "the product's requirements")
        )
    else:
        notes.append(
            "sbom: no project virtualenv and no requirements file: install the product into "
            '.venv and set [collectors.sbom] python = ".venv/bin/python"'
        )
    return Survey(tuple(settings), tuple(notes))


def shipped(root: Path, files: Sequence[str]) -> Survey:
    """The packages the build includes (pyproject/setup.cfg), else the package directories:
    the same scope the sast collector takes when `paths` is not set, written down."""
    scope = sast_scope.shipped(files, lambda name: _text(root / name))
    if scope.paths == (".",):
        return Survey(
            (),
            ("sast scope: no package found: bandit scans every tracked Python file",),
        )
    left = scope.left_out
    note = (f"sast leaves out (not shipped): {', '.join(left)}",) if left else ()
    return Survey((Setting("collectors.sast", "paths", scope.paths, scope.how),), note)


def render(settings: Sequence[Setting]) -> str:
    """The settings as TOML tables, each value with its reason as a comment."""
    tables: dict[str, list[Setting]] = {}
    for s in settings:
        tables.setdefault(s.section, []).append(s)
    blocks = []
    for section, items in tables.items():
        lines = [f"[{section}]"]
        for s in items:
            lines.append(f"{s.key} = {render_value(s.value)}  # {s.why}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def render_value(value: Value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(json.dumps(v) for v in value) + "]"


def _is_ci(name: str) -> bool:
    return name.startswith(".github/workflows/") or name in (
        ".gitlab-ci.yml",
        "azure-pipelines.yml",
    )


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _toml_file(path: Path) -> Mapping[str, Any]:
    try:
        data = tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError:
        return {}
    return data


def _project(path: Path) -> Mapping[str, Any]:
    project = _toml_file(path).get("project")
    return project if isinstance(project, dict) else {}


def _virtualenv(
    root: Path, virtual_env: str | None, own_prefix: str | None, notes: list[str]
) -> str | None:
    """The product's virtualenv: .venv or venv in the work tree, else the active one."""
    candidates = [root / ".venv", root / "venv"]
    if virtual_env:
        candidates.append(Path(virtual_env))
    for venv in candidates:
        python = next(
            (p for p in (venv / "bin" / "python", venv / "Scripts" / "python.exe") if p.is_file()),
            None,
        )
        if python is None:
            continue
        if own_prefix and venv.resolve() == Path(own_prefix).resolve():
            notes.append(
                f"virtualenv {venv}: sdl-tracker runs in it, so its packages are the tool's; "
                "install sdl-tracker elsewhere (pipx) or set [collectors.deps] python"
            )
            continue
        try:
            return python.relative_to(root).as_posix()
        except ValueError:
            return str(python)
    return None
