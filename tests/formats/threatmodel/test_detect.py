from __future__ import annotations

import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel import load
from sdl_tracker.formats.threatmodel.model import ModelFormat

from .samples import DATA


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("threat-model.yaml", ModelFormat.NATIVE),
        ("app.threatdragon.json", ModelFormat.THREAT_DRAGON),
        ("updater.threagile.yaml", ModelFormat.THREAGILE),
        ("updater.pytm.json", ModelFormat.PYTM),
    ],
)
def test_format_comes_from_the_content_not_the_name(name: str, fmt: ModelFormat) -> None:
    assert load("model.txt", (DATA / name).read_bytes()).format is fmt


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("tm.py", b"#!/usr/bin/env python3\nprint('hello')\n"),
        ("model.txt", b"#!/usr/bin/env python3\nfrom pytm import TM, Actor\ntm = TM('x')\n"),
    ],
)
def test_pytm_scripts_are_never_run(name: str, raw: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    raw += f"open({str(marker)!r}, 'w')\n".encode()
    with pytest.raises(InputError, match="this is a pytm script; sdl-tracker never runs"):
        load(name, raw)
    assert not marker.exists()


@pytest.mark.parametrize("raw", [b"a: 1\n", b"[1, 2]", b"", b"just text\n"])
def test_unknown_content_lists_the_formats(raw: bytes) -> None:
    with pytest.raises(InputError, match="not a threat model sdl-tracker understands"):
        load("x.yaml", raw)
