"""threat-model: the product's threat model(s), checked and stored (SR-2, SD-1, SD-2, SVV-2).

Reads every model file found at the configured paths (or `--from-report FILE`), in the native
YAML format or imported from OWASP Threat Dragon v2, Threagile or a pytm JSON report, and
yields one `threat_model` evidence per file: the original bytes and a normalised JSON as
artifacts, metrics `threats`, `mitigated`, `accepted`, `open`, and the checks of
`assess` beside it (treatment, tests, staleness against git history).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sdl_tracker import __version__
from sdl_tracker import config as config_mod
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.threat_model.assess import DEFAULT_MAX_AGE_DAYS, assess
from sdl_tracker.collectors.threat_model.history import history
from sdl_tracker.formats import bounded, threatmodel
from sdl_tracker.formats.threatmodel import levels
from sdl_tracker.formats.threatmodel import requirements as secreqs
from sdl_tracker.formats.threatmodel.model import Component, ThreatModel
from sdl_tracker.gitdata import git
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

NAME = "threat-model"
PROVIDES = ("SR-2", "SR-4", "SD-1", "SD-2", "SVV-2")
_TOOL = Tool(name="sdl-tracker threat-model", version=__version__)
_KEYS = ("paths", "max_age_days", "requirements", "owns", "max_age_hours", "attack_surface")


@dataclass(frozen=True)
class Settings:
    """The validated `[collectors.threat-model]` table."""

    paths: tuple[str, ...] = threatmodel.DEFAULT_PATHS
    configured: bool = False
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    requirements: str = secreqs.DEFAULT_PATH
    owns: Mapping[str, tuple[str, ...]] | None = None
    attack_surface: str = levels.ATTACK_SURFACE
    """The document listing the product's entry points (SVV-3), by their threat-model ids."""


def settings(config: Mapping[str, Any]) -> Settings:
    where = f"[collectors.{NAME}]"
    unknown = sorted(set(config) - set(_KEYS))
    if unknown:
        source = getattr(config, "source", None)
        raise config_mod.unknown_key(None, f"collectors.{NAME}", unknown[0], _KEYS, source=source)
    paths = config.get("paths")
    if paths is not None and not _relative_list(paths):
        raise config_mod.error(
            config,
            "paths",
            f"{where} paths: expected a list of repository-relative paths or "
            f'globs, e.g. ["threat-model.yaml"]; got {paths!r}',
        )
    age = config.get("max_age_days", DEFAULT_MAX_AGE_DAYS)
    if isinstance(age, bool) or not isinstance(age, int) or age <= 0:
        raise config_mod.error(
            config,
            "max_age_days",
            f"{where} max_age_days: expected a positive number of days, got {age!r}",
        )
    requirements = config.get("requirements", secreqs.DEFAULT_PATH)
    if not isinstance(requirements, str) or not _relative_list([requirements]):
        raise config_mod.error(
            config,
            "requirements",
            f"{where} requirements: expected a repository-relative file path, got {requirements!r}",
        )
    surface = config.get("attack_surface", levels.ATTACK_SURFACE)
    if not isinstance(surface, str) or not _relative_list([surface]):
        raise config_mod.error(
            config,
            "attack_surface",
            f"{where} attack_surface: expected a repository-relative file path, got {surface!r}",
        )
    owns = config.get("owns", {})
    if not isinstance(owns, dict) or not all(_relative_list(v) for v in owns.values()):
        raise config_mod.error(
            config,
            "owns",
            f"{where} owns: expected a table of model path -> list of globs, e.g. "
            f'{{"app.threatdragon.json" = ["src/**"]}}; got {owns!r}',
        )
    return Settings(
        paths=tuple(paths) if paths is not None else threatmodel.DEFAULT_PATHS,
        configured=paths is not None,
        max_age_days=age,
        requirements=requirements,
        owns={str(k): tuple(v) for k, v in owns.items()},
        attack_surface=surface,
    )


def _relative_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, str) and p and not p.startswith("/") and ".." not in Path(p).parts
        for p in value
    )


def inputs(ctx: Context) -> Mapping[str, str]:
    s = settings(ctx.config)
    found, _ = threatmodel.discover(ctx.root, s.paths)
    digests = {
        f"sha256:{p}": _sha256(ctx.root / p)
        for p in [*found, s.requirements]
        if (ctx.root / p).is_file()
    }
    tree = git.tree_ids(ctx.root, ctx.commit, ["."]).get(".", "")
    # Owned files may be anywhere, and the model ages every day: both re-run the checks.
    return {"tree:.": tree, **digests, "date": ctx.now.date().isoformat()}


def collect(ctx: Context) -> Iterator[Evidence]:
    s = settings(ctx.config)
    requirements = secreqs.read(ctx.root, s.requirements)
    if ctx.from_report is not None:
        targets = [_target(ctx.root, ctx.from_report)]
    else:
        found, unmatched = threatmodel.discover(ctx.root, s.paths)
        if not found or (s.configured and unmatched):
            yield _missing(s, unmatched if found else list(s.paths))
            if not found:
                return
        targets = [(ctx.root / p, p) for p in found]
    # Read every model before yielding: a malformed one fails the run with nothing appended.
    models = [(threatmodel.read(path, name), path, name) for path, name in targets]
    stated = levels.read(ctx.root, (s.requirements, levels.DOCUMENT))
    surface = ctx.root / s.attack_surface
    surface_text = (
        bounded.read(surface, "requirements", s.attack_surface).decode("utf-8", errors="replace")
        if surface.is_file()
        else None
    )
    for (model, raw), path, name in models:
        model = _with_owned(model, (s.owns or {}).get(name, ()))
        inside = _inside(ctx.root, path)
        hist = history(ctx.root, ctx.commit, name, model.owned_paths()) if inside else None
        result = assess(
            model,
            hist,
            requirements,
            now=ctx.now,
            max_age_days=s.max_age_days,
            requirements_file=s.requirements,
        )
        normalised = json.dumps(model.to_json(), indent=2, sort_keys=True, ensure_ascii=False)
        # SR-4: a capability security level stated for each zone and external interface.
        without = levels.missing(model, stated[0] if stated else {})
        metrics = {
            **result.metrics,
            "zones_and_interfaces": len(levels.needing(model)),
            "without_level": len(without),
            "interfaces": len(levels.interfaces(model)),
        }
        details: dict[str, JSON] = {
            **result.details,
            "without_level": list[JSON](without),
            "security_levels_file": stated[1] if stated else None,
            # SVV-3: every interface crossing a trust boundary listed in the attack surface.
            "not_in_attack_surface": list[JSON](levels.not_listed(model, surface_text)),
            "attack_surface_file": s.attack_surface if surface_text is not None else None,
        }
        yield Evidence(
            kind="threat_model",
            tool=_TOOL,
            requirements=PROVIDES,
            result=Result(result.status, result.summary, metrics),
            covers=(
                name,
                *model.includes,
                *model.owned_paths(),
                *([stated[1]] if stated else []),
                *([s.attack_surface] if surface_text is not None else []),
            )
            if inside
            else (),
            artifacts=(
                (name, raw),
                *((inc, (ctx.root / inc).read_bytes()) for inc in model.includes),
                (f"{name}.normalised.json", normalised.encode() + b"\n"),
            ),
            details=details,
        )


def _target(root: Path, report: Path) -> tuple[Path, str]:
    path = report if report.is_absolute() else Path.cwd() / report
    if _inside(root, path):
        return path, path.resolve().relative_to(root.resolve()).as_posix()
    return path, str(report)


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _with_owned(model: ThreatModel, owns: tuple[str, ...]) -> ThreatModel:
    if not owns:
        return model
    extra = Component("config:owns", f"[collectors.{NAME}] owns", "", owns)
    return replace(model, components=(*model.components, extra))


def _missing(s: Settings, patterns: list[str]) -> Evidence:
    looked = ", ".join(patterns)
    if s.configured:
        summary = (
            f"no threat model at the configured path(s) {looked}: fix "
            f"[collectors.{NAME}] paths or add the model"
        )
    else:
        summary = (
            f"no threat model found (looked for {looked}): write threat-model.yaml (see "
            f"docs/collectors/threat-model.md) or set [collectors.{NAME}] paths"
        )
    return Evidence(
        kind="threat_model",
        tool=_TOOL,
        requirements=PROVIDES,
        result=Result(ResultStatus.INCOMPLETE, summary, {}),
        details={"missing": list[JSON](patterns)},
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
