"""Components from an installed environment: the distributions the product's declared
dependencies reach, read with `importlib.metadata` (requires, licences).

Hashes are only taken from PEP 610 `direct_url.json` archive hashes: the RECORD file holds
hashes of installed files, not of the distributed wheel, so it is not used.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sdl_tracker.errors import InputError
from sdl_tracker.formats.sbom.model import Package, Project, Resolution

_SITE_DIRS = (
    "import json, sysconfig; "
    "print(json.dumps(sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')})))"
)
NO_INTERPRETER = (
    'set python = ".venv/bin/python" (the interpreter the product is installed in): '
    "sdl-tracker never reads the environment it runs in, whose packages are its own"
)


def site_dirs(root: Path, python: str, where: str) -> tuple[Path, ...]:
    """The site-packages directories of the interpreter `python` (relative to `root`)."""
    exe = Path(python) if Path(python).is_absolute() else root / python
    try:
        proc = subprocess.run(
            [str(exe), "-I", "-c", _SITE_DIRS], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InputError(
            f"{where} python: cannot run {exe}: {e}; create the virtualenv "
            f"(python -m venv .venv && .venv/bin/pip install .) or fix the path"
        ) from e
    try:
        dirs = json.loads(proc.stdout)
    except ValueError:
        dirs = None
    if proc.returncode != 0 or not isinstance(dirs, list):
        raise InputError(
            f"{where} python: {exe} did not report its site-packages "
            f"(exit {proc.returncode}): {proc.stderr.decode('utf-8', 'replace').strip()[:200]}"
        )
    return tuple(Path(d) for d in dirs if isinstance(d, str))


def resolve(project: Project, extras: Sequence[str], paths: Sequence[Path] | None) -> Resolution:
    """Walk the installed distributions reachable from the project's requirements.

    `paths` are the directories to search (site-packages); None means this interpreter's.
    """
    optional = dict(project.optional)
    problems = [
        f"extra {e!r} is not declared in [project.optional-dependencies]"
        for e in extras
        if e not in optional
    ]
    roots = [*(project.dependencies or ()), *(r for e in extras for r in optional.get(e, ()))]
    found: dict[str, Package] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    direct: set[str] = set()
    queue = [(text, "the product", frozenset({""})) for text in roots]
    while queue:
        text, parent, parent_extras = queue.pop(0)
        req = _requirement(text, parent, problems)
        if req is None or not _applies(req.marker, parent_extras):
            continue
        key = canonicalize_name(req.name)
        if parent == "the product":
            direct.add(key)
        dist = _distribution(req.name, paths)
        if dist is None:
            problems.append(f"{req.name} (required by {parent}) is not installed")
            continue
        if not req.specifier.contains(dist.version, prereleases=True):
            problems.append(
                f"{req.name} {dist.version} is installed but {parent} requires {req.specifier}"
            )
        wanted = frozenset({"", *(canonicalize_name(e) for e in req.extras)})
        if (key, wanted) in seen:
            continue
        seen.add((key, wanted))
        requires = [r for r in dist.requires or () if _applies(_marker(r), wanted)]
        previous = found.get(key)
        found[key] = _package(dist, requires, previous)
        queue.extend((r, dist.metadata["Name"], wanted) for r in requires)
    return Resolution(
        packages=tuple(found[k] for k in sorted(found)),
        direct=tuple(sorted(direct)),
        problems=tuple(dict.fromkeys(problems)),
        sources=("pyproject.toml",),
    )


def fingerprint(paths: Sequence[Path] | None) -> str:
    """sha256 over the sorted `name==version` of every distribution on the search path."""
    found = (
        metadata.distributions()
        if paths is None
        else metadata.distributions(path=[str(p) for p in paths])
    )
    names = sorted({f"{canonicalize_name(d.metadata['Name'] or '')}=={d.version}" for d in found})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def _requirement(text: str, parent: str, problems: list[str]) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement as e:
        problems.append(f"{parent} declares an invalid requirement {text!r}: {e}")
        return None


def _marker(text: str) -> Marker | None:
    try:
        return Requirement(text).marker
    except InvalidRequirement:
        return None


def _applies(marker: Marker | None, extras: frozenset[str]) -> bool:
    return marker is None or any(marker.evaluate({"extra": e}) for e in sorted(extras))


def _distribution(name: str, paths: Sequence[Path] | None) -> metadata.Distribution | None:
    if paths is None:
        try:
            return metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None
    return next(iter(metadata.distributions(name=name, path=[str(p) for p in paths])), None)


def _package(dist: metadata.Distribution, requires: list[str], old: Package | None) -> Package:
    children: set[str] = {canonicalize_name(Requirement(r).name) for r in requires}
    if old is not None:  # reached again with more extras: union of what they pull in
        children |= set(old.requires or ())
    return Package(
        name=dist.metadata["Name"],
        version=dist.version,
        licenses=_licenses(dist),
        hashes=_archive_hashes(dist),
        requires=tuple(sorted(children)),
    )


def _licenses(dist: metadata.Distribution) -> tuple[str, ...]:
    meta = dist.metadata
    expression = _field(meta, "License-Expression")
    if expression:
        return (expression,)
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    declared = _field(meta, "License")
    # The License field sometimes holds a whole licence text: only a short name is a licence id.
    if declared and declared.upper() != "UNKNOWN" and "\n" not in declared and len(declared) < 80:
        return (declared,)
    return tuple(dict.fromkeys(classifiers))


def _field(meta: metadata.PackageMetadata, name: str) -> str:
    values = meta.get_all(name) or []
    return str(values[0]).strip() if values else ""


def _archive_hashes(dist: metadata.Distribution) -> tuple[str, ...]:
    text = dist.read_text("direct_url.json")
    if not text:
        return ()
    try:
        info = json.loads(text).get("archive_info", {})
    except (ValueError, AttributeError):
        return ()
    hashes = dict(info.get("hashes") or {})
    if "hash" in info and "=" in str(info["hash"]):
        alg, _, value = str(info["hash"]).partition("=")
        hashes.setdefault(alg, value)
    return tuple(
        f"{a}:{v}" for a, v in sorted(hashes.items()) if a in ("sha256", "sha384", "sha512")
    )
