from __future__ import annotations

from pathlib import Path

import pytest

from sdl_tracker import config
from sdl_tracker.cli.main import main
from sdl_tracker.errors import ConfigError


def test_defaults_without_configuration(git_repo: Path) -> None:
    cfg = config.load(git_repo)
    assert (cfg.source, cfg.ledger_branch, cfg.ledger_dir, cfg.remote) == (
        None,
        "sdl-ledger",
        None,
        None,
    )


def test_dedicated_file_wins_over_pyproject(git_repo: Path) -> None:
    (git_repo / "pyproject.toml").write_text(
        '[tool.sdl-tracker.ledger]\nbranch = "from-pyproject"\n'
    )
    assert config.load(git_repo).ledger_branch == "from-pyproject"
    (git_repo / ".sdl-tracker.toml").write_text(
        '[ledger]\nbranch = "evidence"\ndir = "ledger-dir"\nremote = "origin"\n'
        '[collectors.sast]\npaths = ["src"]\n'
    )
    cfg = config.load(git_repo)
    assert cfg.ledger_branch == "evidence"
    assert cfg.ledger_dir == git_repo / "ledger-dir"
    assert cfg.remote == "origin"
    assert cfg.collector("sast") == {"paths": ["src"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("catalogue = 'x'\n", "unknown key 'catalogue'"),
        ("[ledger]\nbrnach = 'x'\n", "unknown key ledger.brnach"),
        ("[ledger]\nbranch = 3\n", "ledger.branch must be a string, got 3"),
        ("ledger = 'x'\n", "ledger must be a table"),
        ("[collectors]\nsast = 1\n", "collectors.sast must be a table"),
        ("[ledger\n", "invalid TOML"),
    ],
)
def test_mistakes_name_the_file_and_key(
    git_repo: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = git_repo / ".sdl-tracker.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        config.load(git_repo)
    assert main(["ledger", "log", "--repo", str(git_repo)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message.split(" ")[0] in err
