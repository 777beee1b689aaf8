"""What every hook shares: the repository, the `[hooks]` settings, error handling.

Cheap to import on purpose (only `os`): a hook given no file it checks must return before the
interpreter has done much more than start (benchmarks/hooks.py: at most twice `python -c
pass`), so pathlib, dataclasses, TOML, git and the tools are imported where they are needed.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # `typing` itself costs a third of the interpreter's start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from sdl_tracker.hooks._records import HookSettings

_KEYS = ("security_critical_paths", "release_tags", "sbom")


def repo_root() -> Path:
    """The work tree the hook runs in (pre-commit and git both run hooks at its top)."""
    from pathlib import Path

    from sdl_tracker.gitdata import git

    return git.toplevel(Path.cwd())


def hook_settings(table: Mapping[str, Any], where: str) -> HookSettings:
    """Validate the raw `[hooks]` table; ConfigError naming the file, line and key (`where`
    when `table` is not a `config.Section` that knows its file)."""
    from sdl_tracker import config
    from sdl_tracker.errors import ConfigError
    from sdl_tracker.hooks._records import DEFAULT_RELEASE_TAGS, DEFAULT_SBOM, HookSettings

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{config.at(table, key) or f'{where}: '}hooks.{key}: {message}")

    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        source = getattr(table, "source", None)
        raise config.unknown_key(None, "hooks", unknown[0], _KEYS, source=source)
    paths = table.get("security_critical_paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise fail(
            "security_critical_paths",
            f'expected a list of globs, e.g. ["src/auth/*"], got {paths!r}',
        )
    values = {}
    for key, default in (("release_tags", DEFAULT_RELEASE_TAGS), ("sbom", DEFAULT_SBOM)):
        value = table.get(key, default)
        if not isinstance(value, str) or not value:
            raise fail(key, f"expected a non-empty string, got {value!r}")
        values[key] = value
    return HookSettings(tuple(paths), values["release_tags"], values["sbom"])


def settings(root: Path) -> HookSettings:
    """`[hooks]` of the repository's configuration (defaults when there is none)."""
    from sdl_tracker import config

    cfg = config.load(root)
    return hook_settings(cfg.section("hooks"), str(cfg.source or root))


def relative(root: Path, filenames: Sequence[str]) -> list[str]:
    """The given file names as repository-relative POSIX paths (pre-commit already gives those)."""
    from pathlib import Path

    cwd = Path.cwd()
    result = []
    for name in filenames:
        path = Path(name)
        if not path.is_absolute() and cwd == root:
            result.append(path.as_posix())
            continue
        try:
            result.append((cwd / path).resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            result.append(path.as_posix())  # outside the repository: reported as given
    return result


def guard(prog: str, body: Callable[[], int]) -> int:
    """Run a hook's body; an SdlError (bad configuration or input) is printed, exit 2."""
    from sdl_tracker.errors import SdlError

    try:
        return body()
    except SdlError as e:
        from sdl_tracker import output

        output.err(f"{prog}: error: {e.diagnostics()}")
        return 2


def under_pre_commit() -> bool:
    """Whether the pre-commit framework runs this hook (in its own isolated environment)."""
    return os.environ.get("PRE_COMMIT") == "1"
