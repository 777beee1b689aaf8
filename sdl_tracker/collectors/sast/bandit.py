"""Running bandit for the sast collector: its configuration, the files to scan, one bandit run.

bandit is given the tracked Python files at HEAD by name (never `-r .`, which would also scan
untracked files such as a virtualenv inside the work tree). `bandit -r .` applies the project's
exclusions to `./`-prefixed paths, so `excluded_by_bandit` reproduces that selection first;
the file names bandit reports stay `./a.py`, as with `-r .`, so existing baselines match.
"""

from __future__ import annotations

import configparser
import fnmatch
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from sdl_tracker import config as config_mod
from sdl_tracker.errors import ConfigError, InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.findings import Level
from sdl_tracker.gitdata import git

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

INSTALL_HINT = "pip install bandit"
KEYS = (
    "paths",
    "exclude",
    "config",
    "ini",
    "baseline",
    "severity_threshold",
    "confidence",
    "bandit",
    "max_age_hours",
)
# bandit's default `--exclude` (bandit.core.constants.EXCLUDE); an ini `exclude` replaces it.
_BANDIT_EXCLUDE = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".eggs", "*.egg")
_WHERE = "[collectors.sast]"


@dataclass(frozen=True)
class SastConfig:
    """The `[collectors.sast]` section, validated, with the bandit config files found."""

    paths: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    config: str | None = None
    """bandit `-c` file; default `pyproject.toml` when it has a `[tool.bandit]` table."""
    ini: str | None = None
    """bandit `--ini` file; default `.bandit` when present."""
    baseline: str | None = None
    severity_threshold: Level = Level.HIGH
    confidence: Level = Level.LOW
    bandit: str | None = None
    """A bandit executable to run instead of the one installed with sdl-tracker."""
    paths_set: bool = False
    """Whether `paths` was configured; if not, the collector scans the shipped packages."""

    @classmethod
    def load(cls, raw: Mapping[str, Any], root: Path) -> SastConfig:
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise config_mod.unknown_key(root, "collectors.sast", unknown[0], KEYS)
        config = _file(raw, "config", root)
        if config is None and _has_tool_bandit(root / "pyproject.toml"):
            config = "pyproject.toml"
        age = raw.get("max_age_hours", 1)
        if isinstance(age, bool) or not isinstance(age, (int, float)) or age <= 0:
            raise config_mod.error(
                raw,
                "max_age_hours",
                f"{_WHERE} max_age_hours: expected a positive number, got {age!r}",
            )
        ini = _file(raw, "ini", root)
        if ini is None and (root / ".bandit").is_file():
            ini = ".bandit"
        return cls(
            paths=tuple(_relative(raw, p) for p in _strings(raw, "paths", ["."])) or (".",),
            exclude=tuple(_strings(raw, "exclude", [])),
            config=config,
            ini=ini,
            baseline=_file(raw, "baseline", root),
            severity_threshold=_level(raw, "severity_threshold", Level.HIGH),
            confidence=_level(raw, "confidence", Level.LOW),
            bandit=_string(raw, "bandit"),
            paths_set="paths" in raw,
        )

    def files(self) -> tuple[str, ...]:
        """The configuration files bandit reads (repository-relative)."""
        return tuple(f for f in (self.config, self.ini, self.baseline) if f)


def _string(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise config_mod.error(
            raw, key, f"{_WHERE} {key}: expected a non-empty string, got {value!r}"
        )
    return value


def _strings(raw: Mapping[str, Any], key: str, default: list[str]) -> list[str]:
    value = raw.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise config_mod.error(
            raw, key, f"{_WHERE} {key}: expected a list of paths or patterns, got {value!r}"
        )
    return value


def _relative(raw: Mapping[str, Any], path: str) -> str:
    parts = [p for p in PurePosixPath(path).parts if p != "."]
    if path.startswith("/") or ".." in parts:
        raise config_mod.error(raw, "paths", f"{_WHERE} paths: {path!r} is outside the repository")
    return "/".join(parts) or "."


def _file(raw: Mapping[str, Any], key: str, root: Path) -> str | None:
    name = _string(raw, key)
    if name is not None and not (root / name).is_file():
        raise config_mod.error(
            raw,
            key,
            f"{_WHERE} {key}: {name} does not exist in {root}; create it or remove the key",
        )
    return name


def _level(raw: Mapping[str, Any], key: str, default: Level) -> Level:
    value = raw.get(key, default.value)
    choices = ("low", "medium", "high")
    if not isinstance(value, str) or value.lower() not in choices:
        raise config_mod.error(
            raw, key, f"{_WHERE} {key}: expected one of {', '.join(choices)}, got {value!r}"
        )
    return Level(value.upper())


def _has_tool_bandit(pyproject: Path) -> bool:
    if not pyproject.is_file():
        return False
    try:
        return "bandit" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{pyproject}: cannot read it to look for [tool.bandit]: {e}") from e


def tracked_python(root: Path, commit: str, paths: Sequence[str]) -> list[str]:
    """Tracked `*.py` files under `paths` at `commit` (regular files only), sorted."""
    specs = [] if "." in paths else list(paths)
    listing = git.run(root, "ls-tree", "-r", "-z", commit, "--", *specs).stdout
    files = []
    for item in listing.split(b"\0"):
        meta, _, name = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob" and parts[0] != b"120000":
            path = os.fsdecode(name)
            if path.endswith(".py"):
                files.append(path)
    return sorted(files)


def excluded(files: Iterable[str], patterns: Sequence[str]) -> set[str]:
    """Files matching one of our `exclude` globs, or under a directory that does."""
    return {
        f
        for f in files
        if any(fnmatch.fnmatch(f, p) or fnmatch.fnmatch(f, p.rstrip("/") + "/*") for p in patterns)
    }


def excluded_by_bandit(root: Path, cfg: SastConfig, files: Iterable[str]) -> set[str]:
    """Files `bandit -r .` would leave out under the project's bandit configuration."""
    ini_exclude = _ini_options(root / cfg.ini).get("exclude") if cfg.ini else None
    strings = list(_config_exclude_dirs(root / cfg.config) if cfg.config else [])
    for path in ini_exclude.split(",") if ini_exclude else _BANDIT_EXCLUDE:
        if path:
            strings.append(os.path.join(path, "*") if (root / path).is_dir() else path)
    # bandit's rule: fnmatch against the glob, or the string anywhere in the path.
    return {f for f in files if any(fnmatch.fnmatch(f"./{f}", s) or s in f"./{f}" for s in strings)}


def _ini_options(path: Path) -> Mapping[str, str]:
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        return dict(parser.items("bandit"))
    except (configparser.Error, UnicodeDecodeError):
        return {}  # bandit ignores an unreadable ini file too (with a warning)


def _config_exclude_dirs(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
        data = (
            bounded.toml_loads(text, str(path)).get("tool", {}).get("bandit", {})
            if path.suffix == ".toml"
            else bounded.yaml_load(text, str(path), "policy")
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError, InputError):
        return []  # bandit itself then fails on the file, and the evidence is incomplete
    value = data.get("exclude_dirs") if isinstance(data, dict) else None
    return [str(v) for v in value] if isinstance(value, list) else []


def changed(root: Path, commit: str, specs: Sequence[str], watched: set[str]) -> list[str]:
    """Which of `watched` differ in the work tree (or index) from `commit`."""
    args = [] if "." in specs else list(specs)
    out = git.run(
        root,
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--ignore-submodules",
        commit,
        "--",
        *args,
    ).stdout
    return sorted(name for name in os.fsdecode(out).split("\0") if name in watched)


@dataclass(frozen=True)
class Bandit:
    """How to run bandit, and its version."""

    command: tuple[str, ...]
    version: str
    importable: bool = False
    """bandit is the package installed beside sdl-tracker (`run_in_process` can run it)."""


def importable(cfg: SastConfig) -> bool:
    """No bandit executable is configured and bandit is installed beside sdl-tracker: `locate`
    picks it, and `run_in_process` can run it (without reading its version)."""
    return cfg.bandit is None and importlib.util.find_spec("bandit") is not None


def locate(cfg: SastConfig) -> Bandit | None:
    """The configured bandit, else the one importable here, else `bandit` beside the interpreter."""
    if importable(cfg):
        return Bandit(
            (sys.executable, "-m", "bandit"), importlib.metadata.version("bandit"), importable=True
        )
    exe = (
        shutil.which(cfg.bandit)
        if cfg.bandit
        else shutil.which("bandit", path=str(Path(sys.executable).parent)) or shutil.which("bandit")
    )
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, "--version"], capture_output=True, check=False)
    except OSError:
        return None
    words = proc.stdout.decode("utf-8", "replace").split("\n", 1)[0].split()
    return Bandit((exe,), words[-1] if proc.returncode == 0 and words else "unknown")


@dataclass(frozen=True)
class Ran:
    """bandit finished (exit 0 or 1) and wrote its JSON report."""

    report: bytes


@dataclass(frozen=True)
class Failed:
    """bandit could not run or wrote no report."""

    reason: str


def _options(cfg: SastConfig) -> list[str]:
    return [
        part
        for flag, value in (("-c", cfg.config), ("--ini", cfg.ini), ("-b", cfg.baseline))
        if value
        for part in (flag, value)
    ]


def run(root: Path, bandit: Bandit, cfg: SastConfig, files: Sequence[str]) -> Ran | Failed:
    """One bandit run over `files` (relative to `root`), JSON report only."""
    options = _options(cfg)
    with tempfile.TemporaryDirectory(prefix="sdl-tracker-sast-") as tmp:
        report = Path(tmp) / "bandit.json"
        command = [*bandit.command, "-f", "json", "-o", str(report), "-q", *options]
        try:
            proc = subprocess.run(
                [*command, "--", *files], cwd=root, capture_output=True, check=False
            )
        except FileNotFoundError:
            return Failed(f"{bandit.command[0]} not found: `{INSTALL_HINT}`")
        except OSError as e:
            return Failed(f"bandit could not start ({e}): narrow [collectors.sast] paths")
        return _outcome(proc.returncode, report, proc.stderr.decode("utf-8", "replace"), options)


def run_in_process(root: Path, cfg: SastConfig, files: Sequence[str]) -> Ran | Failed:
    """`run` with the bandit installed beside sdl-tracker, in this process.

    The same bandit command line (`bandit.cli.main.main` given the argument list `run` passes,
    from `root`), so its configuration files, baseline, exclusions and exit codes are bandit's
    own, without starting a second interpreter. Its log goes where `run` captures it; an
    exception inside bandit is a failure, as a crash of the subprocess would be.
    """
    import contextlib
    import io

    from bandit.cli import main as bandit_main

    options = _options(cfg)
    log = io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    with tempfile.TemporaryDirectory(prefix="sdl-tracker-sast-") as tmp:
        report = Path(tmp) / "bandit.json"
        sys.argv = ["bandit", "-f", "json", "-o", str(report), "-q", *options, "--", *files]
        try:
            os.chdir(root)
            # stdout as the subprocess's (read and dropped); bandit's formatters need its name
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                with contextlib.redirect_stderr(log):
                    bandit_main.main()
            code: object = 0
        except SystemExit as e:
            code = 0 if e.code is None else e.code
        except Exception as e:  # noqa: BLE001 - any bug in bandit is a failed run, reported
            return Failed(f"bandit crashed: {type(e).__name__}: {e}")
        finally:
            sys.argv = saved_argv
            os.chdir(saved_cwd)
        return _outcome(code if isinstance(code, int) else 1, report, log.getvalue(), options)


def _outcome(code: int, report: Path, stderr: str, options: Sequence[str]) -> Ran | Failed:
    """bandit's exit code and report as `Ran`, or why it failed (its last log line)."""
    if code in (0, 1) and report.is_file():
        return Ran(report.read_bytes())
    lines = stderr.strip().splitlines()
    # bandit logs `[main]\tERROR\tmessage`: keep the message.
    last = lines[-1].split("\t")[-1].strip() if lines else "no output"
    used = f" ({' '.join(options)})" if options else ""
    return Failed(f"bandit exited {code}: {last}: fix bandit's configuration{used}")
