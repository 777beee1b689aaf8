from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from . import framework
from .scenarios import SCENARIOS

TRY_REPO = "pre-commit-fail"


@pytest.fixture(scope="session")
def framework_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, framework.Run]]:
    """Every scenario of scenarios.py run through the pre-commit framework, once per test run.

    One PRE_COMMIT_HOME (so one environment for our hooks) and one wheelhouse are shared by all
    runs (see framework.py). Under pytest-xdist the first worker that needs the runs makes them
    and the others read its results (a file lock in the run's shared temporary directory),
    instead of every worker making them again.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, common to its workers
    results = shared / "pre-commit-framework-runs.json"
    with open(shared / "pre-commit-framework-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not results.is_file():
            runs = _make_runs(tmp_path_factory)
            data = {name: {**asdict(r), "repo": str(r.repo)} for name, r in runs.items()}
            results.write_text(json.dumps(data))
    data = json.loads(results.read_text())
    yield {
        name: framework.Run(Path(r["repo"]), r["returncode"], r["output"])
        for name, r in data.items()
    }


def _make_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, framework.Run]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = framework.git_env(home)
    hooks_repo = framework.snapshot(home / "sdl-tracker", env)
    wheels = framework.wheelhouse(hooks_repo, home / "wheels")
    run_env = framework.framework_env(home, wheels)
    calls = {name: build(home / "scenarios", env) for name, build in SCENARIOS.items()}
    # One scenario again, in a repository of its own, through `pre-commit try-repo` itself:
    # test_manifest.py checks that it gives every hook the verdict the shared-store runs give.
    tried = SCENARIOS[TRY_REPO](home / "try-repo", env)
    try:
        runs = framework.run_all(hooks_repo, calls, run_env)
        runs[f"try-repo:{TRY_REPO}"] = framework.try_repo(hooks_repo, tried, run_env)
        return runs
    finally:
        framework.cleanup(run_env)
