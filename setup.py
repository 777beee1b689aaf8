"""Build hook: ship the top-level data folders inside the wheel.

- `policies/*.yaml` (the default policies) -> `sdl_tracker/policy/policies/`;
- `hooks/*` (the plain git hook scripts) -> `sdl_tracker/hook_scripts/`.

They live outside the package so that people read and review them as data; the build copies
them in, where `sdl_tracker.policy.load` and `sdl-tracker install-hooks` find them with
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
        for folder, pattern, package_dir in (
            ("policies", "*.yaml", "policy/policies"),
            ("hooks", "*", "hook_scripts"),
        ):
            target = Path(self.build_lib) / "sdl_tracker" / package_dir
            self.mkpath(str(target))
            for source in sorted((HERE / folder).glob(pattern)):
                if source.is_file():
                    self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPyWithPolicies})
