"""deps configuration: `[collectors.deps]` merged with the command line, and the source of
the declared dependencies (requirements files, pyproject/pylock, or the environment)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sdl_tracker import config as config_mod
from sdl_tracker.collectors.base import Context
from sdl_tracker.collectors.deps import pins
from sdl_tracker.errors import InputError
from sdl_tracker.formats.sbom.environment import NO_INTERPRETER, site_dirs

_SOURCES = ("auto", "requirements", "pyproject", "environment")
_KEYS = (
    "source",
    "requirements",
    "python",
    "osv_url",
    "osv_db",
    "report",
    "max_report_age_hours",
    "vex",
    "max_age_hours",
    "timeout",
)


@dataclass(frozen=True)
class Settings:
    """`[collectors.deps]` merged with the command-line options (which win)."""

    source: str = "auto"
    requirements: tuple[str, ...] = ("requirements.txt",)
    osv_url: str | None = None
    osv_db: Path | None = None
    report: Path | None = None
    max_report_age_hours: float = 24.0
    vex: tuple[str, ...] | None = None
    timeout: int = 15
    requirements_configured: bool = False
    python: str | None = None
    """The product's interpreter: the environment source audits its site-packages."""


@dataclass(frozen=True)
class Source:
    """Where the declared dependencies come from, and how pip-audit is pointed at them."""

    kind: str
    declared: pins.Declared
    arguments: tuple[str, ...] = ()


def settings(ctx: Context) -> Settings:
    cfg = ctx.config
    unknown = sorted(set(cfg) - set(_KEYS))
    if unknown:
        raise config_mod.unknown_key(ctx.root, "collectors.deps", unknown[0], _KEYS)
    source = cfg.get("source", "auto")
    if source not in _SOURCES:
        raise InputError(
            f"{config_mod.at(cfg, 'source')}[collectors.deps] source: expected one of "
            f"{', '.join(_SOURCES)}, got {source!r}"
        )
    _number(cfg, "max_age_hours", 24)  # read by `collect` for reaffirmation; checked here
    opt_db, opt_url = ctx.options.get("osv_db"), ctx.options.get("osv_url")
    cfg_report = None if (opt_db or opt_url) else _text(cfg, "report")
    cfg_db = None if opt_url else _text(cfg, "osv_db")
    osv_url = opt_url or _text(cfg, "osv_url")
    if osv_url and not osv_url.startswith(("http://", "https://")):
        raise InputError(
            f"{'' if opt_url else config_mod.at(cfg, 'osv_url')}osv_url: expected an http(s) URL "
            f"of an OSV query endpoint, got {osv_url!r}"
        )
    return Settings(
        source=source,
        requirements=_texts(cfg, "requirements") or ("requirements.txt",),
        osv_url=osv_url,
        osv_db=Path(opt_db) if opt_db else (ctx.root / cfg_db if cfg_db else None),
        report=ctx.from_report or (ctx.root / cfg_report if cfg_report else None),
        max_report_age_hours=_number(cfg, "max_report_age_hours", 24),
        vex=_texts(cfg, "vex"),
        timeout=int(_number(cfg, "timeout", 15)),
        requirements_configured="requirements" in cfg,
        python=_text(cfg, "python"),
    )


def _text(cfg: Mapping[str, object], key: str) -> str | None:
    value = cfg.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise InputError(
            f"{config_mod.at(cfg, key)}[collectors.deps] {key}: expected a string, got {value!r}"
        )
    return value


def _texts(cfg: Mapping[str, object], key: str) -> tuple[str, ...] | None:
    value = cfg.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(
            f"{config_mod.at(cfg, key)}[collectors.deps] {key}: expected a list of paths, "
            f"got {value!r}"
        )
    return tuple(value)


def _number(cfg: Mapping[str, object], key: str, default: float) -> float:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InputError(
            f"{config_mod.at(cfg, key)}[collectors.deps] {key}: expected a positive number, "
            f"got {value!r}"
        )
    return float(value)


def source(root: Path, s: Settings) -> Source:
    """Resolve `source` (auto: requirements.txt, else pylock/pyproject, else the configured
    interpreter's environment, else nothing). Never the environment sdl-tracker runs in."""
    kind = s.source
    if kind == "auto":
        if s.requirements_configured or (root / s.requirements[0]).is_file():
            kind = "requirements"
        elif pins.has_project(root):
            kind = "pyproject"
        elif s.python is not None:
            kind = "environment"
        else:
            return Source("none", pins.Declared((), ()))
    if kind == "requirements":
        files = [root / f for f in s.requirements]
        for name, path in zip(s.requirements, files):
            if not path.is_file():
                raise InputError(f"[collectors.deps] requirements: {name} does not exist in {root}")
        declared = pins.requirements(files, root)
        args = tuple(a for f in s.requirements for a in ("-r", f))
        # Exact pins need no resolution: no pip, no index (https://github.com/pypa/pip-audit#usage).
        offline = ("--no-deps", "--disable-pip") if declared.resolvable_offline else ()
        return Source(kind, declared, args + offline)
    if kind == "pyproject":
        if not pins.has_project(root):
            raise InputError(f"{root}: source = pyproject but no pylock.toml or [project] table")
        locked = ("--locked",) if pins.lockfiles(root) else ()
        return Source(kind, pins.pyproject(root), (*locked, "."))
    if s.python is None:
        raise InputError(
            f'[collectors.deps] source = "environment" names no environment: {NO_INTERPRETER}'
        )
    dirs = site_dirs(root, s.python, "[collectors.deps]")
    args = tuple(a for d in dirs for a in ("--path", str(d)))
    return Source(kind, pins.environment(dirs), args)
