"""Project configuration: `.sdl-tracker.toml`, or `[tool.sdl-tracker]` in `pyproject.toml`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdl_tracker.errors import ConfigError, InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.bounded import Limits

CONFIG_FILE = ".sdl-tracker.toml"
DEFAULT_BRANCH = "sdl-ledger"

#: Top-level keys and the sections later features read (validated by their owners).
_KNOWN = {
    "catalog",
    "policy",
    "ledger",
    "collect",
    "collectors",
    "hooks",
    "gate",
    "ci",
    "export",
    "limits",
    "advisory",
}
_SECTIONS = ("collect", "hooks", "gate", "ci", "export", "advisory")
_CONFIG_SIZE = bounded.MiB
_MAX_DEPTH = 1000
_UNITS = {"": 1, "B": 1, "KIB": 1024, "MIB": bounded.MiB, "GIB": 1024 * bounded.MiB}
_LEDGER_KEYS = {"branch", "dir", "url", "remote", "repo_name", "signing_key"}

TEMPLATE = """\
# sdl-tracker configuration (IEC 62443-4-1 evidence). Every key: docs/configuration.md.
catalog = "iec62443-4-1:2018"
# policy = "sdl-policy.yaml"          # project policy extending the default one

[ledger]
branch = "{branch}"                 # orphan branch holding the hash-chained ledger
# dir = "/srv/sdl-ledger"           # keep the ledger in a directory instead of the branch
# remote = "origin"                 # `sdl-tracker ci` fetches and pushes the branch here
# url = "postgresql://sdl@db.internal/sdl"   # a central ledger on PostgreSQL instead
# repo_name = "my-product"          # this repository's chain there (default: origin's name)
# signing_key = "/run/secrets/sdl-ci-key"   # CI key signing checkpoints (never commit it)

[collectors]
# Each collector has a section (docs/collectors/). For example:
# [collectors.deps]
# osv_db = "/srv/osv/pypa-advisory-database"   # offline vulnerability database
"""


class Section(dict[str, Any]):
    """A raw table of the configuration that remembers where it was read, so that its readers
    can name the file and line of a bad value (`error`, `at`): tomllib keeps no positions."""

    def __init__(self, data: Mapping[str, Any], source: Path | None, table: str) -> None:
        super().__init__(data)
        self.source = source
        """The configuration file, or None for the defaults."""
        self.table = table
        """Its dotted name inside sdl-tracker's configuration, e.g. `collectors.sast`."""

    def replaced(self, **values: Any) -> Section:
        """A copy with some values replaced (a hook's command-line options), same place."""
        return Section({**self, **values}, self.source, self.table)


def at(raw: Mapping[str, Any], key: str | None = None) -> str:
    """`file:line: ` where `key` is set in the configuration table `raw` (the table's header
    line when the key is not set on a line of its own, the file alone when neither is found);
    empty when `raw` was not read from a file."""
    source = getattr(raw, "source", None)
    if source is None:
        return ""
    table = getattr(raw, "table", "")
    line = (key_line(source, _in_file(source, table), key) if key else None) or table_line(
        source, _in_file(source, table)
    )
    return f"{source}:{line}: " if line else f"{source}: "


def error(raw: Mapping[str, Any], key: str | None, message: str) -> ConfigError:
    """A ConfigError for a value of `raw`, placed as `file:line: message` (see `at`)."""
    return ConfigError(f"{at(raw, key)}{message}")


def _in_file(source: Path, table: str) -> str:
    """The dotted name of a section in its file (`tool.sdl-tracker.` in pyproject.toml)."""
    if source.name == CONFIG_FILE:
        return table
    return ".".join(p for p in ("tool.sdl-tracker", table) if p)


@dataclass(frozen=True)
class Config:
    """The validated configuration of one repository."""

    root: Path
    """The repository's work tree root."""
    source: Path | None = None
    """The file it came from, or None when the defaults apply."""
    catalog: str = "iec62443-4-1:2018"
    policy: Path | None = None
    ledger_branch: str = DEFAULT_BRANCH
    ledger_dir: Path | None = None
    ledger_url: str | None = None
    ledger_repo_name: str | None = None
    """This repository's chain in a central (PostgreSQL) ledger (`ledger.repo_name`)."""
    remote: str | None = None
    ledger_signing_key: Path | None = None
    """`ledger.signing_key`: the CI key that signs checkpoints (else SDL_TRACKER_SIGNING_KEY)."""
    collectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Raw `collect`, `hooks`, `gate`, `ci`, `export` tables, validated by their readers."""
    limits: Limits = field(default_factory=Limits)
    """`[limits]`: size per input kind, nesting depth, expanded YAML nodes."""

    def collector(self, name: str) -> Section:
        """`[collectors.<name>]` as a `Section` (its readers can name file and line)."""
        found = self.collectors.get(name)
        if isinstance(found, Section):
            return found
        return Section(found or {}, self.source, f"collectors.{name}")

    def section(self, name: str) -> Section:
        """A top-level table (`hooks`, `gate`, ...) as a `Section`."""
        found = self.sections.get(name)
        return found if isinstance(found, Section) else Section(found or {}, self.source, name)


def find(root: Path) -> tuple[Path, Mapping[str, Any]] | None:
    """The config file of `root` and its table, or None when there is none."""
    dedicated = root / CONFIG_FILE
    if dedicated.is_file():
        return dedicated, _read(dedicated)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("sdl-tracker")
        if table is not None:
            return pyproject, table
    return None


def load(root: Path) -> Config:
    """Load and validate the configuration of the repository at `root` (defaults if none)."""
    found = find(root)
    cfg = Config(root=root) if found is None else parse(root, *found)
    bounded.use(cfg.limits)  # every reader of this repository's files applies them
    return cfg


def _read(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        if len(data) > _CONFIG_SIZE:
            raise ConfigError(
                f"{path}: {len(data)} bytes is larger than the 1 MiB a configuration may have"
            )
        return bounded.toml_loads(data.decode("utf-8"), str(path))
    except ValueError as e:  # tomllib.TOMLDecodeError, UnicodeDecodeError
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    except (OSError, InputError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from e


def parse(root: Path, path: Path, table: Mapping[str, Any]) -> Config:
    top = Section(table, path, "")
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise unknown_key(root, "", unknown[0], _KNOWN, source=path)
    ledger = _table(top, "ledger")
    bad = sorted(set(ledger) - _LEDGER_KEYS)
    if bad:
        raise unknown_key(root, "ledger", bad[0], _LEDGER_KEYS, source=path)
    tables = _table(top, "collectors")
    for name, section in tables.items():
        if not isinstance(section, dict):
            raise error(tables, name, f"collectors.{name} must be a table, got {section!r}")
    collectors = {name: Section(v, path, f"collectors.{name}") for name, v in tables.items()}
    policy = _str(top, "policy")
    ledger_dir = _str(ledger, "dir", "ledger.")
    signing_key = _str(ledger, "signing_key", "ledger.")
    return Config(
        root=root,
        source=path,
        catalog=_str(top, "catalog") or "iec62443-4-1:2018",
        policy=(root / policy) if policy else None,
        ledger_branch=_str(ledger, "branch", "ledger.") or DEFAULT_BRANCH,
        ledger_dir=(root / ledger_dir) if ledger_dir else None,
        ledger_url=_str(ledger, "url", "ledger.") or None,
        ledger_repo_name=_str(ledger, "repo_name", "ledger.") or None,
        remote=_str(ledger, "remote", "ledger.") or None,
        ledger_signing_key=(root / Path(signing_key).expanduser()) if signing_key else None,
        collectors=collectors,
        sections={k: _table(top, k) for k in _SECTIONS},
        limits=_limits(_table(top, "limits"), path),
    )


def unknown_key(
    root: Path | None, section: str, key: str, known: Iterable[str], *, source: Path | None = None
) -> ConfigError:
    """`file:line: [section] unknown key 'x': did you mean 'y'? (known: …)`: the file is `source`,
    else the configuration found under `root`; the line is found by a small scan of the file
    (tomllib keeps no positions); either is left out when unknown."""
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f": did you mean {close[0]!r}?" if close else ""
    if source is None and root is not None:
        source = _source(root)
    place = ""
    if source is not None:
        table = section if source.name == CONFIG_FILE else ".".join(["tool.sdl-tracker", section])
        line = key_line(source, table.strip("."), key) or table_line(source, table.strip("."))
        place = f"{source}:{line}: " if line else f"{source}: "
    where = f"[{section}] " if section else ""
    return ConfigError(f"{place}{where}unknown key {key!r}{hint} (known: {', '.join(names)})")


def _source(root: Path) -> Path | None:
    dedicated = root / CONFIG_FILE
    if dedicated.is_file():
        return dedicated
    pyproject = root / "pyproject.toml"
    return pyproject if pyproject.is_file() else None


def key_line(path: Path, table: str, key: str) -> int | None:
    """The 1-based line where `key` is set in `[table]` (or as a dotted key reaching it)."""
    wanted = ".".join(p for p in (table, key) if p)
    return next((n for n, name, header in _names(path) if not header and name == wanted), None)


def table_line(path: Path, table: str) -> int | None:
    """The 1-based line of the `[table]` header, else of the first key that sets it (a dotted
    key, or `name = { ... }`)."""
    if not table:
        return None
    for number, name, header in _names(path):
        if name == table or (not header and name.startswith(table + ".")):
            return number
    return None


def _names(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, full dotted name, is a header) of each `[table]` header and `key =` line: a small
    scan, as tomllib keeps no positions (multi-line strings are not understood)."""
    import re

    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    current = ""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?(\s*#.*)?", text)
        if header:
            current = _dotted(header.group(1))
            yield number, current, True
            continue
        found = re.match(r"([A-Za-z0-9_.\-\"' ]+?)\s*=", text)
        if found:
            yield number, ".".join(p for p in (current, _dotted(found.group(1))) if p), False


def _dotted(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


def _limits(table: Mapping[str, Any], source: Path) -> Limits:
    """`[limits]`: `<kind> = "200 MiB"` (or a byte count), `depth`, `yaml_nodes`."""
    known = sorted({*bounded.SIZES, "depth", "yaml_nodes"})
    sizes = dict(bounded.SIZES)
    depth, nodes = bounded.DEPTH, bounded.YAML_NODES
    for key, value in table.items():
        if key not in known:
            raise unknown_key(None, "limits", key, known, source=source)
        if key in ("depth", "yaml_nodes"):
            top = _MAX_DEPTH if key == "depth" else None
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise error(table, key, f"limits.{key} must be a positive whole number")
            if top is not None and value > top:
                raise error(table, key, f"limits.depth must be at most {top} (the YAML parser's)")
            depth, nodes = (value, nodes) if key == "depth" else (depth, value)
        else:
            sizes[key] = _size(value, f"{at(table, key)}limits.{key}")
    return Limits(sizes=sizes, depth=depth, yaml_nodes=nodes)


def _size(value: Any, what: str) -> int:
    number, unit = (value, "") if isinstance(value, int) else (None, "")
    if isinstance(value, str):
        text = value.strip().upper()
        digits = text.rstrip("KMGIB ")
        unit = text[len(digits) :].strip()
        number = int(digits) if digits.isdigit() else None
    if isinstance(number, bool) or number is None or number < 1 or unit not in _UNITS:
        raise ConfigError(f"{what} must be a size such as 200 MiB, 512 KiB or 1048576 (bytes)")
    return int(number) * _UNITS[unit]


def _table(table: Section, key: str) -> Section:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise error(table, key, f"{key} must be a table, got {value!r}")
    return Section(value, table.source, ".".join(p for p in (table.table, key) if p))


def _str(table: Mapping[str, Any], key: str, prefix: str = "") -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise error(table, key, f"{prefix}{key} must be a string, got {value!r}")
    return value
