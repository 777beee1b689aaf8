"""sbom: a CycloneDX 1.6 JSON SBOM of the product, built and validated with cyclonedx-python-lib.

Components come from the installed environment (the distributions the product's declared
dependencies reach) or from pinned requirements files; or an existing CycloneDX SBOM (JSON or
XML) is validated and ingested instead. Anything that cannot be resolved to an exact version
makes the evidence incomplete, naming it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sdl_tracker import config as config_mod
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.bounded import LimitError
from sdl_tracker.formats.sbom import built as built_mod
from sdl_tracker.formats.sbom import environment, requirements
from sdl_tracker.formats.sbom.model import Project, Resolution, read_project
from sdl_tracker.gitdata import git
from sdl_tracker.models import Result, ResultStatus, Tool

NAME = "sbom"
KIND = "sbom"
PROVIDES = ("SM-9", "SM-10", "SUM-3")
ARTIFACT = "sbom.cdx.json"
SOURCES = ("environment", "requirements")
LOCK_FILES = ("pyproject.toml", "poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "pylock.toml")
_KEYS = {
    "source",
    "requirements",
    "extras",
    "python",
    "site_packages",
    "ingest",
    "max_age_hours",
    "dist",
}


@dataclass(frozen=True)
class Settings:
    """The validated `[collectors.sbom]` table."""

    source: str = "environment"
    requirements: tuple[str, ...] = ("requirements.txt",)
    extras: tuple[str, ...] = ()
    site_packages: tuple[Path, ...] | None = None
    """Where the environment source reads distributions (from `python` or `site_packages`)."""
    ingest: str | None = None
    python: str | None = None
    """The product's interpreter (`python`), whose site-packages the environment source reads."""
    dist: str = built_mod.DIST
    """Where the built wheel / sdist of the product is looked for (the SBOM's subject)."""


def settings(ctx: Context) -> Settings:
    """Read `[collectors.sbom]`; ConfigError naming the key when a value is wrong."""
    cfg = ctx.config
    unknown = sorted(set(cfg) - _KEYS)
    if unknown:
        raise config_mod.unknown_key(ctx.root, "collectors.sbom", unknown[0], _KEYS)
    source = cfg.get("source", "environment")
    if source not in SOURCES:
        raise config_mod.error(
            cfg,
            "source",
            f"[collectors.sbom] source: expected one of {', '.join(SOURCES)}, got {source!r}",
        )
    ingest = cfg.get("ingest")
    if ingest is not None and not isinstance(ingest, str):
        raise config_mod.error(
            cfg, "ingest", f"[collectors.sbom] ingest: expected a file path, got {ingest!r}"
        )
    paths = _list(cfg, "site_packages")
    python = cfg.get("python")
    if python is not None and (not isinstance(python, str) or not python):
        raise config_mod.error(
            cfg, "python", f"[collectors.sbom] python: expected a path, got {python!r}"
        )
    if python is not None and paths is not None:
        raise config_mod.error(
            cfg, "site_packages", "[collectors.sbom]: give python or site_packages, not both"
        )
    dist = cfg.get("dist", built_mod.DIST)
    if not isinstance(dist, str) or not dist or dist.startswith("/") or ".." in Path(dist).parts:
        raise config_mod.error(
            cfg,
            "dist",
            f"[collectors.sbom] dist: expected a repository-relative directory, got {dist!r}",
        )
    site = tuple(ctx.root / p for p in paths) if paths is not None else None
    if python is not None and source == "environment":
        site = environment.site_dirs(ctx.root, python, "[collectors.sbom]")
    return Settings(
        source=source,
        requirements=_list(cfg, "requirements") or Settings.requirements,
        extras=_list(cfg, "extras") or (),
        site_packages=site,
        ingest=ingest,
        python=python,
        dist=dist,
    )


def _list(cfg: Mapping[str, object], key: str) -> tuple[str, ...] | None:
    value = cfg.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise config_mod.error(
            cfg, key, f"[collectors.sbom] {key}: expected a list of strings, got {value!r}"
        )
    return tuple(value)


def inputs(ctx: Context) -> Mapping[str, str]:
    """Digests of pyproject, lock and requirements files (or the ingested SBOM), the installed
    distributions (source = environment) and the release tag on the commit."""
    s = settings(ctx)
    if s.ingest is not None:
        return {f"file:{s.ingest}": _digest(_ingest_path(ctx, s))}
    names = [n for n in LOCK_FILES if (ctx.root / n).is_file()]
    if s.source == "requirements":
        names.extend(requirements.resolve(ctx.root, s.requirements).sources)
    result = {f"file:{n}": _digest(ctx.root / n) for n in dict.fromkeys(names)}
    if s.source == "environment" and s.site_packages is not None:
        result["env:distributions"] = environment.fingerprint(s.site_packages)
    tag = _tag(ctx)
    if tag:
        result["git:tag"] = tag
    project = read_project(ctx.root)
    for b in built_mod.find(ctx.root, s.dist, project.name, project.version):
        result[f"built:{b.path}"] = b.sha256
    return result


def collect(ctx: Context) -> Iterator[Evidence]:
    # Imported here: the JSON schema validator takes about a second to import, and every
    # `collect` imports every collector module.
    from sdl_tracker.formats.sbom import document

    s = settings(ctx)
    if ctx.from_report is not None or s.ingest is not None:
        yield _ingest(ctx.from_report or _ingest_path(ctx, s))
        return
    project = read_project(ctx.root)
    resolution = _resolve(ctx, s, project)
    built = built_mod.find(ctx.root, s.dist, project.name, project.version)
    wrong = built_mod.problems(ctx.root, built, project.name, project.version)
    if wrong:
        resolution = dataclasses.replace(resolution, problems=(*resolution.problems, *wrong))
    tag = _tag(ctx)
    data = document.build(
        project, resolution, commit=ctx.commit, tag=tag, time=_time(ctx), built=built
    )
    count = len(resolution.packages)
    product = f"{project.name} {project.version or tag or ctx.commit[:12]}"
    if built:
        product += f", built as {', '.join(b.path for b in built)}"
    metrics = {"components": count, "built_artifacts": len(built)}
    if resolution.problems:
        shown = "; ".join(resolution.problems[:5])
        more = f" (+{len(resolution.problems) - 5} more)" if len(resolution.problems) > 5 else ""
        result = Result(
            ResultStatus.INCOMPLETE,
            f"{count} components of {product}, but {len(resolution.problems)} requirements "
            f"could not be resolved: {shown}{more}; pin (name==version) or install them, "
            "then collect again",
            metrics,
        )
    else:
        result = Result(
            ResultStatus.PASS,
            f"{count} components of {product} from {_from(s)} (CycloneDX 1.6)",
            metrics,
        )
    yield Evidence(
        kind=KIND,
        tool=Tool(document.LIBRARY, document.library_version()),
        requirements=PROVIDES,
        result=result,
        covers=resolution.sources,
        artifacts=((ARTIFACT, data),),
        details={
            "source": s.source,
            "python": s.python,
            "site_packages": [str(p) for p in s.site_packages or ()],
            "problems": list(resolution.problems),
            # What the SBOM describes: the built files (SVV-3, composition of what ships).
            "built": [{"path": b.path, "sha256": b.sha256} for b in built],
        },
    )


def _resolve(ctx: Context, s: Settings, project: Project) -> Resolution:
    if s.source == "requirements":
        return requirements.resolve(ctx.root, s.requirements)
    if project.dependencies is None:
        problem = (
            "pyproject.toml declares no static [project] dependencies (missing or dynamic); "
            'declare them, or set source = "requirements" in [collectors.sbom]'
        )
        return Resolution(packages=(), direct=(), problems=(problem,))
    if s.site_packages is None:
        problem = f'source = "environment" names no environment: {environment.NO_INTERPRETER}'
        return Resolution(packages=(), direct=(), problems=(problem,))
    return environment.resolve(project, s.extras, s.site_packages)


def _from(s: Settings) -> str:
    if s.source == "requirements":
        return ", ".join(s.requirements)
    if s.python is not None:
        return f"the environment of {s.python}"
    return "the environment in " + ", ".join(str(p) for p in s.site_packages or ())


def _ingest(path: Path) -> Evidence:
    from sdl_tracker.formats.sbom import document

    try:
        data = bounded.read(path, "sbom")
    except LimitError:
        raise
    except InputError as e:
        raise InputError(f"{e}; check --from-report or `ingest` in [collectors.sbom]") from e
    inventory = document.validate(data, str(path))
    count = len(inventory.components)
    product = inventory.product
    described = f" of {product.name} {product.version or ''}".rstrip() if product else ""
    return Evidence(
        kind=KIND,
        tool=Tool(document.LIBRARY, document.library_version()),
        requirements=PROVIDES,
        result=Result(
            ResultStatus.PASS,
            f"{count} components{described} in the ingested CycloneDX {inventory.spec_version} "
            f"{inventory.format.upper()} SBOM {path.name}",
            {"components": count},
        ),
        artifacts=((f"sbom.cdx.{inventory.format}", data),),
        details={"ingested": path.name, "spec_version": inventory.spec_version},
    )


def _ingest_path(ctx: Context, s: Settings) -> Path:
    path = ctx.root / str(s.ingest)
    if not path.is_file():
        raise InputError(
            f"{path}: no such SBOM (named by `ingest` in [collectors.sbom]); "
            "generate it first or fix the path"
        )
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tag(ctx: Context) -> str | None:
    proc = git.run(ctx.root, "describe", "--tags", "--exact-match", ctx.commit, check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _time(ctx: Context) -> datetime:
    stamp = git.out(ctx.root, "show", "-s", "--format=%cI", ctx.commit)
    return datetime.fromisoformat(stamp).astimezone(timezone.utc)
