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
_NOT_SHIPPED = {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks"}
_NOT_SHIPPED |= {"scripts", "tools", "build", "dist", "site", "venv", ".venv", "node_modules"}


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
    """The packages the build includes (pyproject/setup.cfg), else the package directories."""
    paths, how = _declared_packages(root, files)
    if not paths:
        paths, how = _package_dirs(files), "package directories (with __init__.py)"
    if not paths:
        return Survey(
            (),
            ("sast scope: no package found: bandit scans every tracked Python file",),
        )
    left = sorted(
        {f.split("/")[0] for f in files if f.endswith(".py")} - {p.split("/")[0] for p in paths}
    )
    note = (f"sast leaves out (not shipped): {', '.join(left)}",) if left else ()
    return Survey((Setting("collectors.sast", "paths", tuple(paths), how),), note)


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


def _declared_packages(root: Path, files: Sequence[str]) -> tuple[list[str], str]:
    data = _toml_file(root / "pyproject.toml") if "pyproject.toml" in files else {}
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    setuptools = tool.get("setuptools", {})
    if isinstance(setuptools, dict) and isinstance(setuptools.get("packages"), list):
        names = [p for p in setuptools["packages"] if isinstance(p, str)]
        where = (
            setuptools.get("package-dir", {}).get("", "")
            if isinstance(setuptools.get("package-dir"), dict)
            else ""
        )
        tops = sorted({n.split(".")[0] for n in names})
        return [
            f"{where}/{t}".lstrip("/") for t in tops
        ], "pyproject.toml [tool.setuptools] packages"
    wheel = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    if isinstance(wheel, dict) and isinstance(wheel.get("packages"), list):
        return [
            p for p in wheel["packages"] if isinstance(p, str)
        ], "pyproject.toml hatch wheel packages"
    poetry = tool.get("poetry", {})
    if isinstance(poetry, dict) and isinstance(poetry.get("packages"), list):
        found = [
            f"{p.get('from', '')}/{p['include']}".lstrip("/")
            for p in poetry["packages"]
            if isinstance(p, dict) and isinstance(p.get("include"), str)
        ]
        return found, "pyproject.toml [tool.poetry] packages"
    flit = tool.get("flit", {}).get("module", {})
    if isinstance(flit, dict) and isinstance(flit.get("name"), str):
        return [_locate(flit["name"], files)], "pyproject.toml [tool.flit.module]"
    return [], ""


def _locate(name: str, files: Sequence[str]) -> str:
    for base in (name, f"src/{name}"):
        if any(f.startswith(f"{base}/") for f in files):
            return base
    return f"{name}.py" if f"{name}.py" in files else name


def _package_dirs(files: Sequence[str]) -> list[str]:
    """Top-level (or src/) directories holding an __init__.py, not tests, docs or examples."""
    found = set()
    for f in files:
        parts = PurePosixPath(f).parts
        if parts[-1] != "__init__.py":
            continue
        if len(parts) >= 3 and parts[0] == "src":
            found.add(f"src/{parts[1]}")
        elif len(parts) >= 2 and parts[0] != "src":
            found.add(parts[0])
    return sorted(p for p in found if p.split("/")[-1].lower() not in _NOT_SHIPPED)
