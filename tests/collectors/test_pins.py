"""Declared dependencies: requirements files, pylock.toml, pyproject, the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from sdl_tracker.collectors.deps import pins
from sdl_tracker.errors import InputError

REQUIREMENTS = """\
# production pins
--index-url https://mirror.example/simple
-r base.txt
requests==2.19.0 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
Django===3.2.0  # arbitrary equality
idna>=2.5,<3
urllib3==1.*
flask==1.0 ; python_version < "3"
six==1.16.0 ; python_version >= "3"
-e ./local-package
wheelhouse/pkg-1.0-py3-none-any.whl
certifi @ https://example.invalid/certifi-2024.2.2-py3-none-any.whl
-c constraints.txt
"""


def test_requirements_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS)
    (tmp_path / "base.txt").write_text("chardet==3.0.4\n-r requirements.txt\n")
    declared = pins.requirements([tmp_path / "requirements.txt"], tmp_path)
    assert [(p.name, p.version, p.origin, p.url) for p in declared.pins] == [
        ("chardet", "3.0.4", "base.txt:1", False),
        ("requests", "2.19.0", "requirements.txt:4", False),
        ("Django", "3.2.0", "requirements.txt:7", False),
        ("idna", None, "requirements.txt:8", False),
        ("urllib3", None, "requirements.txt:9", False),
        ("six", "1.16.0", "requirements.txt:11", False),
        ("./local-package", None, "requirements.txt:12", True),
        ("wheelhouse/pkg-1.0-py3-none-any.whl", None, "requirements.txt:13", True),
        ("certifi", None, "requirements.txt:14", True),
    ]
    assert [f.name for f in declared.files] == ["requirements.txt", "base.txt"]
    assert [p.name for p in declared.unpinned] == [
        "idna",
        "urllib3",
        "./local-package",
        "wheelhouse/pkg-1.0-py3-none-any.whl",
        "certifi",
    ]
    assert not declared.resolvable_offline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("requests=2.19.0\n", r"requirements\.txt:1: invalid requirement 'requests=2\.19\.0'"),
        ("a==1\n\n-r missing.txt\n", r"requirements\.txt:3: included file missing\.txt"),
    ],
)
def test_bad_requirements(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "requirements.txt").write_text(text)
    with pytest.raises(InputError, match=expected):
        pins.requirements([tmp_path / "requirements.txt"], tmp_path)


def test_pyproject_and_lock(tmp_path: Path) -> None:
    assert not pins.has_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "d"\ndependencies = ["requests==2.19.0", "idna>=2"]\n'
    )
    assert pins.has_project(tmp_path)
    declared = pins.pyproject(tmp_path)
    assert [(p.name, p.version) for p in declared.pins] == [("requests", "2.19.0"), ("idna", None)]
    assert declared.pins[1].origin == "pyproject.toml: project.dependencies[1]"
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\n[[packages]]\nname = "idna"\nversion = "2.7"\n'
        '[[packages]]\nname = "src-tree"\n'
    )
    locked = pins.pyproject(tmp_path)
    assert [(p.name, p.version) for p in locked.pins] == [("idna", "2.7"), ("src-tree", None)]
    assert [f.name for f in locked.files] == ["pylock.toml"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool.x]\n", "pyproject.toml: no \\[project\\] table"),
        ("[project]\ndependencies = 'requests'\n", "project.dependencies: expected a list"),
        ("[project\n", "pyproject.toml: invalid TOML"),
    ],
)
def test_bad_pyproject(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(InputError, match=expected):
        pins.pyproject(tmp_path)


def test_dynamic_dependencies_cannot_be_audited_offline(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "d"\ndynamic = ["dependencies"]\n')
    (pin,) = pins.pyproject(tmp_path).pins
    assert pin.version is None and pin.spec == "dynamic"


def test_environment_lists_the_distributions_of_the_given_site_packages() -> None:
    import sysconfig

    declared = pins.environment([Path(sysconfig.get_path("purelib"))])
    names = {canonicalize_name(p.name) for p in declared.pins}
    assert {"pip-audit", "packaging", "sdl-tracker"} <= names
    assert all(p.version for p in declared.pins)
    assert len(pins.digest(declared)) == 64


def test_where_each_package_is_declared(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# pins\n\nrequests==2.19.0\nidna>=2\n")
    reqs = pins.requirements([tmp_path / "requirements.txt"], tmp_path)
    assert pins.locations(reqs, tmp_path) == {
        "requests": {"path": "requirements.txt", "line": 3},
        "idna": {"path": "requirements.txt", "line": 4},
    }
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = [\n'
        '  "click>=8",\n  "Requests==2.19.0",\n]\n'
    )
    assert pins.locations(pins.pyproject(tmp_path), tmp_path) == {
        "click": {"path": "pyproject.toml", "line": 5},
        "requests": {"path": "pyproject.toml", "line": 6},
    }
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\n\n'
        '[[packages]]\nname = "b"\nversion = "2"\n'
    )
    assert pins.locations(pins.pyproject(tmp_path), tmp_path) == {
        "a": {"path": "pylock.toml", "line": 2},
        "b": {"path": "pylock.toml", "line": 6},
    }
    assert pins.locations(pins.environment([tmp_path]), tmp_path) == {}
