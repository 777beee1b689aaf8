"""The input limits: bytes per kind of input, nesting depth, YAML nodes after alias expansion.

`config.load` applies the repository's `[limits]` (`use`); until then the defaults apply. The
readers that enforce them are in `bounded.py` (and `yamlcount.py` for YAML).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field

from sdl_tracker.errors import InputError

MiB = 1024 * 1024

#: Default size limit per kind of input, in bytes (`[limits] <kind> = ...` raises it).
SIZES: dict[str, int] = {
    "policy": 4 * MiB,
    "threat_model": 32 * MiB,
    "requirements": 8 * MiB,
    "report": 256 * MiB,
    "sbom": 128 * MiB,
    "junit": 256 * MiB,
    "issues": 16 * MiB,
    "advisory": 4 * MiB,
    "vex": 32 * MiB,
    "record": 100 * MiB,
    "support_policy": 1 * MiB,
}
DEPTH = 64
"""Nesting depth of JSON, YAML and XML documents (`[limits] depth`)."""
YAML_NODES = 1_000_000
"""YAML nodes after alias expansion (`[limits] yaml_nodes`)."""


class LimitError(InputError):
    """An input breaks a size, depth or expansion limit."""


@dataclass(frozen=True)
class Limits:
    """The input limits in force: bytes per kind, nesting depth, expanded YAML nodes."""

    sizes: Mapping[str, int] = field(default_factory=lambda: dict(SIZES))
    depth: int = DEPTH
    yaml_nodes: int = YAML_NODES

    def size(self, kind: str) -> int:
        return self.sizes.get(kind, SIZES[kind])


_DEFAULT = Limits()
_CURRENT: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("limits", default=None)


def use(limits: Limits) -> None:
    """Apply `limits` to every read from now on (the repository's `[limits]`)."""
    _CURRENT.set(limits)


def current() -> Limits:
    return _CURRENT.get() or _DEFAULT


def describe(size: int) -> str:
    """`100 MiB`, `512 KiB`, `17 bytes`."""
    for unit, scale in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def breach(name: str, what: str, key: str) -> LimitError:
    return LimitError(
        f"{name}: {what}; refused as a safety limit (raise it with `{key}` in the [limits] "
        "table of .sdl-tracker.toml if the file is genuine)"
    )


def check(data: bytes | str, name: str, kind: str) -> None:
    """Refuse content already in memory (from git, a pipe) that exceeds the limit of `kind`."""
    limit = current().size(kind)
    if len(data) > limit:
        raise too_big(name, kind, len(data), limit)


def too_big(name: str, kind: str, size: int, limit: int) -> LimitError:
    return breach(
        name,
        f"{describe(size) if size % 1024 == 0 else f'{size} bytes'} is larger than the "
        f"{describe(limit)} allowed for a {kind.replace('_', ' ')} file",
        f"{kind} = ...",
    )


def too_deep(name: str, limit: int) -> LimitError:
    return breach(name, f"nested deeper than {limit} levels", "depth = ...")
