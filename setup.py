"""Build hook: ship the default policies (top-level `policies/*.yaml`) inside the wheel.

The policy files live outside the package so that people read and review them as data; the
build copies them into `sdl_tracker/policies/`, where `sdl_tracker.policy` finds them with
importlib.resources (an editable install reads them from the source tree instead).
Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithPolicies(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "sdl_tracker" / "policies"
        self.mkpath(str(target))
        for source in sorted((HERE / "policies").glob("*.yaml")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPyWithPolicies})
