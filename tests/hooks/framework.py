"""Run our hooks through the real pre-commit framework: `pre-commit try-repo`.

try-repo installs the hook repository into a fresh environment *every time* — it uses its own
temporary store and ignores PRE_COMMIT_HOME for that (pre_commit/commands/try_repo.py:
`Store(tempdir)`) — so each run builds a virtualenv and `pip install .`s sdl-tracker with its
dependencies. To keep that affordable and offline, the dependencies are made into wheels once
per session (the only step that uses the package index) and every try-repo run installs from
them (`PIP_NO_INDEX`, `PIP_FIND_LINKS`), building on a memory file system when there is one;
and all the runs a test session needs are started together, two at a time.

The repository given to try-repo is a committed snapshot of this work tree (tracked and
untracked-but-not-ignored files): try-repo itself copies only committed, staged and modified
tracked files (its shadow repository), so new files would otherwise be missed before they are
committed; on a fresh clone the snapshot equals HEAD.
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
    """One `pre-commit try-repo` run: where, how it ended, what it printed."""

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
    for what in ([str(source)], ["setuptools>=69", "wheel"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(target), *what],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"pip wheel {what} (needs the package index):\n{proc.stderr}"
    for own in target.glob("sdl_tracker-*.whl"):
        own.unlink()
    return target


def framework_env(home: Path, wheels: Path) -> dict[str, str]:
    """What every try-repo run gets: PRE_COMMIT_HOME, an offline pip, a fast temp dir."""
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
    """A try-repo run to make: in `repo`, these arguments after `try-repo <hooks repo>`."""

    repo: Path
    args: tuple[str, ...]


def try_repo(hooks_repo: Path, call: Invocation, env: Mapping[str, str]) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), *call.args,
         "--verbose", "--color", "never"],
        cwd=call.repo,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    return Run(call.repo, proc.returncode, proc.stdout + proc.stderr)


def run_all(
    hooks_repo: Path, calls: Mapping[str, Invocation], env: Mapping[str, str], workers: int = 2
) -> dict[str, Run]:
    """Every invocation, `workers` at a time (each mostly installs wheels)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(try_repo, hooks_repo, c, env) for name, c in calls.items()}
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
