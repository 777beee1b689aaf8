"""Capability security levels per zone and external interface (SR-4), and what needs one.

Zones are the threat model's trust boundaries. External interfaces are its data flows that cross
a trust boundary: a flow with `crosses:` (native format; Threat Dragon flows that cut a boundary
curve), one whose ends sit in different boundaries (Threagile and pytm boundaries, Threat Dragon
boxes: the members each importer found), or one with an end that is an external entity, actor or
user (every format); in the native format only `crosses:` and external ends count, since it
states the crossings itself.

The levels are stated in one machine-readable block, `security_levels:`, a mapping from the
threat model's zone or flow id to the level: `2` (SL-C), or `{sl_c: 2, sl_t: 3}` (either or
both, 1 to 4). It is a top-level key of `security-requirements.yaml`, or the front matter of the
security requirements document (`docs/security-requirements.md`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.supportpolicy import front_matter
from sdl_tracker.formats.threatmodel.model import ModelFormat, ThreatModel

KEY = "security_levels"
DOCUMENT = "docs/security-requirements.md"
_EXTERNAL = ("external", "actor", "user")
_EXAMPLE = "e.g. `TB-1: {sl_c: 2, sl_t: 2}` or `DF-1: 2`"


@dataclass(frozen=True)
class Level:
    sl_c: int | None
    sl_t: int | None

    def describe(self) -> str:
        parts = [f"SL-C {self.sl_c}" if self.sl_c else "", f"SL-T {self.sl_t}" if self.sl_t else ""]
        return "/".join(p for p in parts if p)


def needing(model: ThreatModel) -> list[tuple[str, str]]:
    """(id, what it is) of every zone and external interface of the model, in model order."""
    found = [(b.id, f"zone {b.id} ({b.name})") for b in model.trust_boundaries]
    zone_of: dict[str, set[str]] = {}
    for b in model.trust_boundaries:
        for c in b.components:
            zone_of.setdefault(c, set()).add(b.id)
    external = {
        c.id for c in model.components if any(w in c.kind.lower() for w in _EXTERNAL) and c.kind
    }
    for f in model.data_flows:
        # The native format says which flows cross (`crosses:`); elsewhere, membership tells.
        inside = model.format is not ModelFormat.NATIVE and zone_of.get(f.source, set()) != (
            zone_of.get(f.target, set())
        )
        crosses = bool(f.crosses) or inside or bool({f.source, f.target} & external)
        if crosses:
            found.append((f.id, f"interface {f.id} ({f.source} -> {f.target})"))
    return found


def read(root: Path, candidates: tuple[str, ...]) -> tuple[dict[str, Level], str] | None:
    """The stated levels and the file stating them (the first candidate with a
    `security_levels` block), or None when no candidate states any."""
    for name in candidates:
        path = root / name
        if not path.is_file():
            continue
        text = bounded.read(path, "requirements", name).decode("utf-8", errors="replace")
        block = text if name.endswith((".yaml", ".yml")) else front_matter(text, name)
        if block is None:
            continue
        try:
            data = bounded.yaml_load(block, name, "requirements")
        except (yaml.YAMLError, ValueError) as e:
            raise InputError(f"{name}: not valid YAML ({e})") from e
        if isinstance(data, dict) and KEY in data:
            return parse(data[KEY], name), name
    return None


def parse(raw: Any, name: str) -> dict[str, Level]:
    """InputError naming the file and the id of every malformed entry."""
    if not isinstance(raw, dict):
        raise InputError(
            f"{name}: {KEY}: expected a mapping of zone or interface id to level, {_EXAMPLE}"
        )
    found = {}
    for key, value in raw.items():
        where = f"{name}: {KEY}.{key}"
        if isinstance(value, int) and not isinstance(value, bool):
            value = {"sl_c": value}
        if not isinstance(value, dict) or not value or set(value) - {"sl_c", "sl_t"}:
            raise InputError(
                f"{where}: expected a level 1-4 or {{sl_c: N, sl_t: N}}, got {value!r}"
            )
        levels = {k: _level(where, k, v) for k, v in value.items()}
        found[str(key)] = Level(levels.get("sl_c"), levels.get("sl_t"))
    return found


def _level(where: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise InputError(f"{where}.{key}: expected a security level 1 to 4, got {value!r}")
    return value


def missing(model: ThreatModel, stated: Mapping[str, Level]) -> list[str]:
    """What needs a level and has none stated."""
    return [what for ident, what in needing(model) if ident not in stated]


ATTACK_SURFACE = "docs/attack-surface.md"


def interfaces(model: ThreatModel) -> list[tuple[str, str]]:
    """(id, what it is) of every external interface: the flows that cross a trust boundary."""
    zones = {b.id for b in model.trust_boundaries}
    return [(ident, what) for ident, what in needing(model) if ident not in zones]


def not_listed(model: ThreatModel, text: str | None) -> list[str]:
    """The external interfaces whose id does not appear, as a word, in the attack-surface
    document's text (all of them when there is no document)."""
    if text is None:
        return [what for _, what in interfaces(model)]
    return [
        what
        for ident, what in interfaces(model)
        if not re.search(rf"(?<![\w-]){re.escape(ident)}(?![\w-])", text)
    ]
