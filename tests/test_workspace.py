from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("kwargs", "hint"),
    [
        ({}, "sdl-tracker init"),
        ({"ledger_dir": Path("/srv/l")}, "sdl-tracker init --ledger-dir /srv/l"),
        (
            {"ledger_url": "postgresql://sdl:s3cret@db.example/sdl", "repo_name": "plc"},
            "sdl-tracker init --ledger postgresql://sdl@db.example/sdl --repo-name plc",
        ),
    ],
)
def test_the_init_hint_carries_the_user_s_flags_never_a_password(
    tmp_path: Path, kwargs: dict, hint: str
) -> None:
    from sdl_tracker.config import Config
    from sdl_tracker.workspace import Workspace

    ws = Workspace(root=tmp_path, config=Config(root=tmp_path), **kwargs)
    assert ws.init_hint() == hint
