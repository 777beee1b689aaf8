"""The product an SBOM describes: its name and its own version, read without running code."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdl_tracker.formats.sbom.model import read_project

DYNAMIC = '[project]\nname = "Demo_App"\ndynamic = ["version"]\n'


@pytest.mark.parametrize(
    ("files", "version"),
    [
        ({"pyproject.toml": '[project]\nname = "Demo_App"\nversion = "1.2.0"\n'}, "1.2.0"),
        (
            {
                "pyproject.toml": DYNAMIC
                + '[tool.setuptools.dynamic]\nversion = {attr = "demo.__version__"}\n',
                "src/demo/__init__.py": '"""Demo."""\n\n__version__ = "2.3.4"\n',
            },
            "2.3.4",
        ),
        (
            {
                "pyproject.toml": DYNAMIC
                + '[tool.setuptools.dynamic]\nversion = {attr = "demo.version.VERSION"}\n',
                "demo/version.py": 'VERSION: str = "0.9"\n',
            },
            "0.9",
        ),
        (
            {
                "pyproject.toml": DYNAMIC + '[tool.setuptools.dynamic]\nversion = {file = "V"}\n',
                "V": "3.0.1\n",
            },
            "3.0.1",
        ),
        ({"pyproject.toml": DYNAMIC, "setup.cfg": "[metadata]\nversion = 4.1\n"}, "4.1"),
        ({"pyproject.toml": DYNAMIC}, None),  # the git tag then stands in, saying so
    ],
)
def test_the_products_own_version(tmp_path: Path, files: dict[str, str], version: str) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    project = read_project(tmp_path)
    assert (project.name, project.version, project.python) == ("Demo_App", version, True)


def test_this_repository_declares_its_version_dynamically() -> None:
    from sdl_tracker import __version__

    root = Path(__file__).resolve().parents[2]
    assert read_project(root).version == __version__
