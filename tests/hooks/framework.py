"""Run our hooks through the real pre-commit framework, as a user's repository does.

Each run is `pre-commit run -c CONFIG ...` in a scenario repository, where CONFIG is what
`pre-commit try-repo` would generate (every hook of our .pre-commit-hooks.yaml, sorted by id,
from a repository `repo:` at its `rev:`) and what a user's .pre-commit-config.yaml says. Unlike
try-repo, which installs the hook repository into a fresh temporary store on every run
(pre_commit/commands/try_repo.py: `Store(tempdir)`), `run` uses PRE_COMMIT_HOME, so all the runs
of a test session share one store: the framework clones the hook repository and builds its
environment (a virtualenv, `pip install .` of sdl-tracker with its dependencies) once, under the
store's lock, and every run uses it. To keep that affordable and offline, the dependencies are
made into wheels once per session (the only step that uses the package index) and the install
uses them (`PIP_NO_INDEX`, `PIP_FIND_LINKS`), building on a memory file system when there is
one; the runs are started together, two at a time.

The hook repository is a committed snapshot of this work tree (tracked and
untracked-but-not-ignored files), so that files not yet committed are included; on a fresh
clone the snapshot equals HEAD.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from helpers import USER_CACHE

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
_SKIP = ("tests/", "benchmarks/", "docs/")
IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


@dataclass(frozen=True)
class Run:
    """One `pre-commit run`: where, how it ended, what it printed."""

    repo: Path
    returncode: int
    output: str

    def section(self, hook_id: str) -> str:
        """The status line and output of one hook (runs use --verbose, so every hook has one)."""
        lines = self.output.splitlines()
        marker = f"- hook id: {hook_id}"
        if marker not in lines:
            raise AssertionError(f"hook {hook_id} did not run:\n{self.output}")
        start = lines.index(marker) - 1
        end = start + 1
        while end < len(lines) and not _status_line(lines[end]):
            end += 1
        return "\n".join(lines[start:end])

    def status(self, hook_id: str) -> str:
        return self.section(hook_id).splitlines()[0].rsplit(".", 1)[-1].split(")")[-1]


def _status_line(line: str) -> bool:
    return line.rstrip().endswith(("Passed", "Failed", "Skipped")) and "...." in line


def git_env(home: Path) -> dict[str, str]:
    """The environment for git and pre-commit: fixed identity, no user or system config."""
    config = home / "gitconfig"
    if not config.exists():
        config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(IDENTITY, GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1")
    # The user's cache, not the test run's (tests/conftest.py): virtualenv keeps its seed
    # wheels there, so pre-commit builds our hooks' environment as fast as for a user.
    env["XDG_CACHE_HOME"] = USER_CACHE
    return env


def git(root: Path, *args: str, env: Mapping[str, str]) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, env=dict(env), check=True, capture_output=True, text=True
    ).stdout.strip()


def snapshot(target: Path, env: Mapping[str, str]) -> Path:
    """This work tree's files (tracked, and untracked but not ignored) committed in `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if name.startswith(_SKIP) or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    target.mkdir(parents=True, exist_ok=True)
    git(target, "init", "-q", env=env)
    git(target, "add", "-A", env=env)
    git(target, "commit", "-q", "-m", "snapshot of the work tree", env=env)
    return target


def wheelhouse(source: Path, target: Path) -> Path:
    """Wheels of everything `pip install source` needs (and the build backend), not its own."""
    for what in ([str(source)], _build_requires(source)):
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(target), *what],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"pip wheel {what} (needs the package index):\n{proc.stderr}"
    for own in target.glob("sdl_tracker-*.whl"):
        own.unlink()
    return target


def _build_requires(source: Path) -> list[str]:
    """The build backend pyproject.toml names: pip builds the package with it in isolation."""
    return list(tomllib.loads((source / "pyproject.toml").read_text())["build-system"]["requires"])


def framework_env(home: Path, wheels: Path) -> dict[str, str]:
    """What every run gets: PRE_COMMIT_HOME, an offline pip, a fast temp dir."""
    shm = Path("/dev/shm")
    tmp = shm / f"sdl-tracker-try-repo-{os.getpid()}" if os.access(shm, os.W_OK) else home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = git_env(home)
    env.update(
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_NO_COMPILE="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        TMPDIR=str(tmp),
        NO_COLOR="1",
    )
    return env


@dataclass(frozen=True)
class Invocation:
    """A `pre-commit run` to make: in `repo`, with these arguments."""

    repo: Path
    args: tuple[str, ...]


def config(hooks_repo: Path, env: Mapping[str, str], target: Path) -> Path:
    """The configuration `pre-commit try-repo hooks_repo` would generate, written to `target`
    (outside the scenario repositories, as try-repo's is)."""
    rev = git(hooks_repo, "rev-parse", "HEAD", env=env)
    manifest = yaml.safe_load((hooks_repo / ".pre-commit-hooks.yaml").read_text())
    hooks = sorted(hook["id"] for hook in manifest)
    target.write_text(
        yaml.safe_dump({"repos": [{"repo": str(hooks_repo), "rev": rev,
                                   "hooks": [{"id": h} for h in hooks]}]})
    )  # fmt: skip
    return target


def run(config_file: Path, call: Invocation, env: Mapping[str, str]) -> Run:
    return _pre_commit(["run", "-c", str(config_file)], call, env)


def try_repo(hooks_repo: Path, call: Invocation, env: Mapping[str, str]) -> Run:
    """The same invocation through `pre-commit try-repo hooks_repo`: its own fresh store and its
    own generated configuration, as a user trying our hooks before adopting them runs it."""
    return _pre_commit(["try-repo", str(hooks_repo)], call, env)


def _pre_commit(command: list[str], call: Invocation, env: Mapping[str, str]) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", *command, *call.args, "--verbose", "--color", "never"],
        cwd=call.repo,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Run(call.repo, proc.returncode, proc.stdout + proc.stderr)


def run_all(
    hooks_repo: Path, calls: Mapping[str, Invocation], env: Mapping[str, str], workers: int = 2
) -> dict[str, Run]:
    """Every invocation, `workers` at a time, with one configuration and one shared store."""
    config_file = config(hooks_repo, env, Path(env["PRE_COMMIT_HOME"]).parent / "config.yaml")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(run, config_file, c, env) for name, c in calls.items()}
        return {name: f.result() for name, f in futures.items()}


def cleanup(env: Mapping[str, str]) -> None:
    tmp = Path(env["TMPDIR"])
    if tmp.parent == Path("/dev/shm"):
        shutil.rmtree(tmp, ignore_errors=True)


def staged(repo: Path, files: Mapping[str, str], env: Mapping[str, str]) -> Sequence[str]:
    """Write `files` (path -> text) and stage them; their names."""
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "--", *files, env=env)
    return tuple(files)
