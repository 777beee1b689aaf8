"""Typed reads of a raw `[collectors.<name>]` TOML table, with errors naming the key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sdl_tracker import config
from sdl_tracker.errors import ConfigError

#: Keys every collector section may carry (read by `cli/commands/collect.py`).
COMMON = ("max_age_hours",)


@dataclass(frozen=True)
class Table:
    """One collector's section; unknown keys are rejected when it is made."""

    name: str
    raw: Mapping[str, Any]
    known: Sequence[str]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.raw) - set(self.known) - set(COMMON))
        if unknown:
            raise config.unknown_key(
                None,
                f"collectors.{self.name}",
                unknown[0],
                {*self.known, *COMMON},
                source=getattr(self.raw, "source", None),
            )

    def _fail(self, key: str, expected: str) -> ConfigError:
        return config.error(
            self.raw,
            key,
            f"[collectors.{self.name}] {key}: expected {expected}, got {self.raw[key]!r}",
        )

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def string(self, key: str, default: str) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key, "-") if key in self.raw else None

    def strings(self, key: str, default: Sequence[str] = ()) -> tuple[str, ...]:
        value = self.raw.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return value
