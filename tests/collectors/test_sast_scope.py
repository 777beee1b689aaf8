from __future__ import annotations

import pytest

from sdl_tracker.collectors.sast.scope import Scope, shipped

FILES = [
    "setup.py",
    "conftest.py",
    "src/widget/__init__.py",
    "src/widget/core.py",
    "src/widget_tests/__init__.py",
    "src/other/__init__.py",
    "tests/__init__.py",
    "tests/test_core.py",
    "examples/demo.py",
    "docs/conf.py",
    "tools/release.py",
]


def _reader(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda name: files.get(name, "")


@pytest.mark.parametrize(
    ("config", "paths", "how"),
    [
        (
            {
                "pyproject.toml": '[tool.setuptools]\npackages = ["widget", "widget.core"]\n'
                'package-dir = {"" = "src"}\n'
            },
            ("src/widget",),
            "pyproject.toml [tool.setuptools] packages",
        ),
        (
            {
                "pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
                'exclude = ["*_tests"]\n'
            },
            ("src/other", "src/widget"),
            "pyproject.toml [tool.setuptools.packages.find]",
        ),
        (
            {"pyproject.toml": '[tool.hatch.build.targets.wheel]\npackages = ["src/widget"]\n'},
            ("src/widget",),
            "pyproject.toml hatch wheel packages",
        ),
        (
            {
                "setup.cfg": "[options]\npackage_dir =\n    =src\npackages = find:\n\n"
                "[options.packages.find]\nwhere = src\nexclude =\n    *_tests\n"
            },
            ("src/other", "src/widget"),
            "setup.cfg [options] packages = find:",
        ),
        (
            {"setup.cfg": "[options]\npackage_dir =\n    =src\npackages =\n    widget\n"},
            ("src/widget",),
            "setup.cfg [options] packages",
        ),
        (
            {},
            ("src/other", "src/widget", "src/widget_tests"),
            "package directories (with __init__.py)",
        ),
    ],
)
def test_the_build_configuration_names_what_ships(
    config: dict[str, str], paths: tuple[str, ...], how: str
) -> None:
    scope = shipped([*FILES, *config], _reader(config))
    assert scope.paths == paths and scope.how == how
    assert {"tests", "examples", "docs", "tools", "setup.py", "conftest.py"} <= set(scope.left_out)
    assert not set(scope.left_out) & set(paths)


def test_nothing_declared_and_no_package_means_everything_and_says_so() -> None:
    scope = shipped(["app.py", "tests/test_app.py"], _reader({}))
    assert scope == Scope((".",), "no package found")
    assert scope.describe() == "scanned every tracked Python file (no package found)"


def test_a_declared_package_that_is_not_in_the_tree_is_not_a_scope() -> None:
    config = {"pyproject.toml": '[tool.setuptools]\npackages = ["gone"]\n'}
    scope = shipped(["pyproject.toml", "real/__init__.py", "tests/t.py"], _reader(config))
    assert scope.paths == ("real",) and scope.left_out == ("tests",)


def test_a_broken_build_file_falls_back_to_the_package_directories() -> None:
    config = {"pyproject.toml": "[tool.setuptools\n", "setup.cfg": "[options\n"}
    scope = shipped([*config, "pkg/__init__.py", "tests/t.py"], _reader(config))
    assert scope.paths == ("pkg",)
