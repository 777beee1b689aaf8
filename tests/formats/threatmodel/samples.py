"""Where the real-world sample models live (outside the repository; tests skip without them)."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "samples"
SCHEMAS = Path(__file__).resolve().parents[3] / ".." / "shared" / "schemas"
DATA = Path(__file__).resolve().parents[2] / "data" / "threatmodel"


def sample(relative: str) -> Path:
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"sample {relative} not available at {SAMPLES}")
    return path


def schema(name: str) -> Path:
    path = SCHEMAS / name
    if not path.is_file():
        pytest.skip(f"schema {name} not available at {SCHEMAS}")
    return path
