"""The security requirements file (`security-requirements.yaml`): SR-3 / SR-4 made checkable.

Each requirement has an id (what tests and mitigations name), its text, the target capability
security level (SL-C 1-4) and the IEC 62443-4-2 / 3-3 capability it refines. The shape is fixed
by `sdl_tracker/formats/threatmodel/schemas/security-requirements.schema.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sdl_tracker.formats import bounded
from sdl_tracker.formats.threatmodel.source import parse, validate

DEFAULT_PATH = "security-requirements.yaml"
SCHEMA = "security-requirements.schema.json"


@dataclass(frozen=True)
class SecurityRequirement:
    id: str
    text: str
    security_level: int
    """Target SL-C, 1 to 4."""
    capabilities: tuple[str, ...]
    """IEC 62443-4-2 / 3-3 capabilities it refines, e.g. `("CR 1.1",)`."""
    title: str = ""


def load(name: str, raw: bytes) -> tuple[SecurityRequirement, ...]:
    """The requirements in a file's bytes, or InputError naming the file, line and place."""
    src = parse(name, raw, "requirements")
    validate(src, SCHEMA)
    seen: dict[str, int] = {}
    result = []
    for i, r in enumerate(src.data["requirements"]):
        if r["id"] in seen:
            raise src.error(
                ["requirements", i, "id"],
                f"{r['id']!r} is already used by requirements[{seen[r['id']]}]; ids must be unique",
            )
        seen[r["id"]] = i
        capability = r["capability"]
        result.append(
            SecurityRequirement(
                id=r["id"],
                text=r["text"],
                security_level=r["security_level"],
                capabilities=tuple(capability) if isinstance(capability, list) else (capability,),
                title=r.get("title", ""),
            )
        )
    return tuple(result)


def read(root: Path, relative: str) -> tuple[SecurityRequirement, ...] | None:
    """The requirements file at `root/relative`, or None when there is none."""
    path = root / relative
    if not path.is_file():
        return None
    return load(relative, bounded.read(path, "requirements", relative))
