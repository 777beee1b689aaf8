"""Which format a model file is in, decided from its content (never from running it)."""

from __future__ import annotations

import re

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import dragon, native, pytm, threagile
from sdl_tracker.formats.threatmodel.model import ModelFormat, ThreatModel
from sdl_tracker.formats.threatmodel.source import Source, parse

_PYTHON = re.compile(rb"^\s*(from\s+pytm\s+import|import\s+pytm)\b", re.M)


def detect(src: Source) -> ModelFormat:
    """The format of a parsed model file, or InputError listing what is understood."""
    data = src.data
    if threagile.is_threagile(data):
        return ModelFormat.THREAGILE
    if pytm.is_pytm(data):
        return ModelFormat.PYTM
    if native.is_native(data):
        return ModelFormat.NATIVE
    if dragon.is_dragon(data):
        return ModelFormat.THREAT_DRAGON
    raise InputError(
        f"{src.name}: not a threat model sdl-tracker understands: expected the native YAML "
        "(`version: 1`, `system`, `threats`), an OWASP Threat Dragon v2 JSON model "
        "(`summary`, `detail`), a Threagile YAML model (`threagile_version`) or a pytm JSON "
        "report (`findings`)"
    )


def load(name: str, raw: bytes, include: threagile.Include | None = None) -> ThreatModel:
    """Parse, detect and read a model file's bytes; `name` is what error messages call it (and,
    for `include`, its path in the repository)."""
    if name.endswith(".py") or _PYTHON.search(raw):
        raise InputError(
            f"{name}: this is a pytm script; sdl-tracker never runs model code. Run it "
            "yourself (`python tm.py --json threat-model.pytm.json`) and give sdl-tracker the "
            "JSON report"
        )
    src = parse(name, raw)
    fmt = detect(src)
    if fmt is ModelFormat.NATIVE:
        return native.load(src)
    if fmt is ModelFormat.THREAT_DRAGON:
        return dragon.load(src)
    if fmt is ModelFormat.THREAGILE:
        return threagile.load(src, include)
    return pytm.load(src)
