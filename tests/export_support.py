"""Helpers of the export tests: schemas (with OSCAL's patterns made Python-compatible)."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from release_factory import Release

SCHEMAS = Path(__file__).resolve().parents[1].parent / "shared" / "schemas"


def copy_repo(released: Release, where: Path) -> Path:
    return Path(shutil.copytree(released.repo, where / "copy", symlinks=True))


def schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / name
    if not path.is_file():
        pytest.skip(f"schema {name} not available at {SCHEMAS}")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _unicode_class(prefix: str) -> str:
    """A Python character class with exactly the code points of Unicode category `prefix*`."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    parts = (re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    return "[" + "".join(parts) + "]"


def python_patterns(node: Any) -> Any:
    """NIST's OSCAL schema uses `\\p{L}` / `\\p{N}` (Unicode letters, numbers), which Python's
    `re` (and so jsonschema) rejects: rewrite them as the equivalent explicit character classes
    (built from `unicodedata`), keeping every pattern in force."""
    if isinstance(node, dict):
        return {
            k: (
                v.replace(r"\p{L}", _unicode_class("L")).replace(r"\p{N}", _unicode_class("N"))
                if k == "pattern" and isinstance(v, str)
                else python_patterns(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [python_patterns(v) for v in node]
    return node
