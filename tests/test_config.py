from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sdl_tracker import config
from sdl_tracker.cli.main import main
from sdl_tracker.errors import ConfigError, SdlError

CONFIG = config.CONFIG_FILE


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
        ("[ledger]\nbranch = 3\n", ":2: ledger.branch must be a string, got 3"),
        ("\nledger = 'x'\n", ":2: ledger must be a table"),
        ("[collectors]\nsast = 1\n", ":2: collectors.sast must be a table"),
        ("[limits]\n\ndepth = 0\n", ":3: limits.depth must be a positive whole number"),
        ("[limits]\nsbom = 'lots'\n", ":2: limits.sbom must be a size such as 200 MiB"),
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


def _releases(root: Path) -> object:
    from sdl_tracker.collectors.tables import Table

    return Table(
        "releases", config.load(root).collector("releases"), ("tag_pattern", "notes")
    ).string("tag_pattern", "v*")


def _review(root: Path) -> object:
    from sdl_tracker.collectors import review
    from sdl_tracker.collectors.base import Context

    return review.settings(Context(root, "0" * 40, config.load(root).collector("review"), _NOW))


def _threat_model(root: Path) -> object:
    from sdl_tracker.collectors import threat_model

    return threat_model.settings(config.load(root).collector("threat-model"))


def _hooks(root: Path) -> object:
    from sdl_tracker.hooks import _base

    return _base.settings(root)


def _sast(root: Path) -> object:
    from sdl_tracker.collectors.sast.bandit import SastConfig

    return SastConfig.load(config.load(root).collector("sast"), root)


def _with_context(module_name: str, name: str = "") -> Callable[[Path], object]:
    name = name or module_name

    def read(root: Path) -> object:
        from importlib import import_module

        from sdl_tracker.collectors.base import Context

        module = import_module(f"sdl_tracker.collectors.{module_name}")
        ctx = Context(root, "0" * 40, config.load(root).collector(name), _NOW)
        return module.settings(ctx)

    return read


_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("file", "text", "read", "message"),
    [
        (
            CONFIG,
            '[collectors.releases]\nnotes = "x"\ntag_pattern = 3\n',
            _releases,
            ":3: [collectors.releases] tag_pattern: expected a non-empty string, got 3",
        ),
        (
            CONFIG,
            "[collectors.review]\n\nrnage = 1\n",
            _review,
            ":3: [collectors.review] unknown key 'rnage'",
        ),
        (
            CONFIG,
            "[collectors.review]\npr_merge_counts_as_review = 1\n",
            _review,
            ":2: [collectors.review] pr_merge_counts_as_review: expected true or false, got 1",
        ),
        (
            CONFIG,
            "[collectors]\nthreat-model.max_age_days = 0\n",  # a dotted key
            _threat_model,
            ":2: [collectors.threat-model] max_age_days: expected a positive number of days",
        ),
        (
            CONFIG,
            '[collectors.threat-model]\npaths = ["/etc/passwd"]\n',
            _threat_model,
            ":2: [collectors.threat-model] paths: expected a list of repository-relative",
        ),
        (
            CONFIG,
            "[collectors.threat-model]\nmodels = []\n",
            _threat_model,
            ":2: [collectors.threat-model] unknown key 'models'",
        ),
        (
            CONFIG,
            "[hooks]\nsbom = ''\n",
            _hooks,
            ":2: hooks.sbom: expected a non-empty string, got ''",
        ),
        (
            CONFIG,
            "[hooks]\nsecurity_critical = []\n",
            _hooks,
            ":2: [hooks] unknown key 'security_critical': did you mean 'security_critical_paths'?",
        ),
        (
            CONFIG,
            '[collectors]\nsast = { paths = ["../up"] }\n',  # an inline table: its line
            _sast,
            ":2: [collectors.sast] paths: '../up' is outside the repository",
        ),
        (
            CONFIG,
            '[collectors.sbom]\nsource = "pip"\n',
            _with_context("sbom"),
            ":2: [collectors.sbom] source: expected one of",
        ),
        (
            CONFIG,
            '[collectors.tests]\n\njunit = "report.xml"\n',
            _with_context("tests"),
            ":3: [collectors.tests] junit: expected a list of repository-relative paths",
        ),
        (
            CONFIG,
            "[collectors.secrets]\nbaseline = 1\n",
            _with_context("secrets"),
            ":2: [collectors.secrets] baseline: expected a file path, got 1",
        ),
        (
            CONFIG,
            "[collectors.deps]\ntimeout = -1\n",
            _with_context("deps.config", "deps"),
            ":2: [collectors.deps] timeout: expected a positive number, got -1",
        ),
        (
            "pyproject.toml",
            '[project]\nname = "x"\n\n[tool.sdl-tracker.collectors.releases]\ntag_pattern = ""\n',
            _releases,
            ":5: [collectors.releases] tag_pattern: expected a non-empty string",
        ),
    ],
)
def test_every_section_reader_names_the_file_and_line(
    git_repo: Path, file: str, text: str, read: Callable[[Path], object], message: str
) -> None:
    (git_repo / file).write_text(text)
    with pytest.raises(SdlError) as caught:  # the deps collector's are InputErrors, exit 2 too
        read(git_repo)
    assert str(caught.value).startswith(f"{git_repo / file}{message}")
