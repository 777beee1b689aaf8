from __future__ import annotations

import re
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
        ("[ledger]\nbrnach = 'x'\n", ":2: [ledger] unknown key 'brnach': did you mean 'branch'?"),
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
    with pytest.raises(ConfigError, match=re.escape(message)):
        config.load(git_repo)
    assert main(["ledger", "log", "--repo", str(git_repo)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message.split(" ")[0] in err


def test_a_misspelt_key_names_the_file_line_and_the_key_meant(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    path = git_repo / ".sdl-tracker.toml"
    path.write_text(
        'catalog = "iec62443-4-1:2018"\n\n[ledger]\nbranch = "sdl-ledger"\n\n'
        '[collectors.sast]\npaths = ["src"]\nsevrity_threshold = "medium"\n'
    )
    assert main(["collect", "--only", "sast", "--repo", str(git_repo)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}:8: [collectors.sast] unknown key 'sevrity_threshold': "
        "did you mean 'severity_threshold'?"
    ) in err


@pytest.mark.parametrize(
    ("text", "table", "key", "line"),
    [
        ("a = 1\n[x]\nb = 2\n", "x", "b", 3),
        ("[collectors]\nsast.pahts = []\n", "collectors.sast", "pahts", 2),
        ('[ "collectors" . "sast" ]  # scope\n\n  pahts = []\n', "collectors.sast", "pahts", 3),
        (
            "[collectors.deps]\nsauce = 1\n[collectors.sast]\nsauce = 2\n",
            "collectors.sast",
            "sauce",
            4,
        ),
        ("[x]\nb = 2\n", "y", "b", None),
        ("x = {b = 2}\n", "x", "b", None),  # an inline table: no line, the file is still named
    ],
)
def test_the_line_of_a_key_is_found_by_scanning_the_file(
    tmp_path: Path, text: str, table: str, key: str, line: int | None
) -> None:
    path = tmp_path / ".sdl-tracker.toml"
    path.write_text(text)
    assert config.key_line(path, table, key) == line


def test_in_pyproject_the_table_is_under_tool_sdl_tracker(git_repo: Path) -> None:
    (git_repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.sdl-tracker]\ncatalgo = "x"\n'
    )
    with pytest.raises(ConfigError) as caught:
        config.load(git_repo)
    assert str(caught.value).startswith(
        f"{git_repo / 'pyproject.toml'}:5: unknown key 'catalgo': did you mean 'catalog'?"
    )
