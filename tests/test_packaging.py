"""The package builds from a fresh clone, now and with the newest setuptools: the licence is an
SPDX expression (the TOML-table form stops building after 2027-02-18), and the setuptools the
tests build with is the one pyproject.toml's build requirements name."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _setuptools(requirements: list[str]) -> Requirement:
    (found,) = [r for r in map(Requirement, requirements) if r.name == "setuptools"]
    return found


def test_the_tests_build_with_a_setuptools_the_build_accepts() -> None:
    """Tests run `setup.py` with this environment's setuptools: it must read pyproject.toml as
    the isolated build does (a fresh virtualenv's own setuptools 65 rejects the SPDX licence)."""
    build = _setuptools(PYPROJECT["build-system"]["requires"])
    test = _setuptools(PYPROJECT["project"]["optional-dependencies"]["test"])
    assert build.specifier == test.specifier
    installed = version("setuptools")
    assert build.specifier.contains(installed), (
        f"setuptools {installed} here, the build needs {build}: pip install -e '.[test]'"
    )


def test_the_metadata_builds_without_a_deprecation(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "setup.py", "-q", "egg_info", "--egg-base", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "deprecat" not in proc.stderr.lower()
    metadata = (tmp_path / "sdl_tracker.egg-info" / "PKG-INFO").read_text().splitlines()
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")
