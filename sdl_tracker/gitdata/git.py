"""Thin wrappers around `git` subprocess calls: the one place that runs git."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from sdl_tracker.errors import GitError

_NOT_A_REPO = (
    "git failed. Is it installed, and are you in a Git repository directory? "
    "(run the command inside your repository, or pass --repo PATH)"
)

# Fixed settings for every call we make: no pager, no locale-dependent output, no prompts.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}


def run(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C root args...`, returning the completed process (bytes)."""
    full_env = {**os.environ, **_ENV, **(env or {})}
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            input=input,
            capture_output=True,
            env=full_env,
            check=False,
        )
    except FileNotFoundError as e:
        raise GitError(_NOT_A_REPO) from e
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed: {message}")
    return proc


def popen(root: Path, *args: str) -> subprocess.Popen[bytes]:
    """A long-running `git -C root args...` talking through pipes (e.g. `cat-file --batch`)."""
    try:
        return subprocess.Popen(
            ["git", "-C", str(root), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **_ENV},
        )
    except FileNotFoundError as e:
        raise GitError(_NOT_A_REPO) from e


def feed(root: Path, *args: str, chunks: Iterable[bytes]) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C root args...` with `chunks` written to its stdin as they come (a stream of
    any length in constant memory); stdout and stderr are returned as `run` does.

    An exception raised by `chunks` kills git (it must not act on a partial stream) and is
    raised again once git has exited.
    """
    import tempfile

    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                ["git", "-C", str(root), *args],
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=errors,
                env={**os.environ, **_ENV},
            )
        except FileNotFoundError as e:
            raise GitError(_NOT_A_REPO) from e
        assert proc.stdin is not None
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # git stopped reading: its exit code and stderr say why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if not proc.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
        proc.wait()
        output.seek(0)
        errors.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, output.read(), errors.read())


def out(root: Path, *args: str) -> str:
    """stdout of a git command as text, stripped."""
    return run(root, *args).stdout.decode("utf-8", "replace").strip()


def stream(root: Path, *args: str, chunk: int = 1 << 18) -> Iterator[bytes]:
    """stdout of `git -C root args...` in pieces as git writes it (GitError if it fails).

    Lets a caller parse a long `git log` while git is still producing it.
    """
    import tempfile

    with tempfile.TemporaryFile() as errors:  # a file, so a chatty stderr cannot block git
        try:
            proc = subprocess.Popen(
                ["git", "-C", str(root), *args],
                stdout=subprocess.PIPE,
                stderr=errors,
                env={**os.environ, **_ENV},
            )
        except FileNotFoundError as e:
            raise GitError(_NOT_A_REPO) from e
        assert proc.stdout is not None
        try:
            while data := proc.stdout.read(chunk):
                yield data
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if proc.returncode != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()
            raise GitError(f"git {' '.join(args[:2])} failed: {message}")


def toplevel(path: Path) -> Path:
    """The work tree root containing `path`, or GitError."""
    proc = run(path, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise GitError(f"{path}: not inside a git repository. {_NOT_A_REPO}")
    return Path(proc.stdout.decode().strip())


def resolve(root: Path, rev: str) -> str | None:
    """The commit id `rev` names, or None when it names nothing (e.g. an unborn HEAD)."""
    proc = run(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def identity(root: Path) -> str:
    """`Name <email>` of the git user (what `git commit` would record)."""
    name = run(root, "config", "user.name", check=False).stdout.decode().strip()
    email = run(root, "config", "user.email", check=False).stdout.decode().strip()
    if not name and not email:
        raise GitError(
            "no git identity: set one with `git config user.name NAME` and "
            "`git config user.email EMAIL` (it is recorded with every entry)"
        )
    return f"{name} <{email}>"


def recorder(root: Path) -> str:
    """Who records evidence: the git identity, else the CI or login user, marked as such."""
    try:
        return identity(root)
    except GitError:
        user = (
            os.environ.get("GITHUB_ACTOR")
            or os.environ.get("GITLAB_USER_LOGIN")
            or os.environ.get("USER")
            or "unknown"
        )
        return f"{user} <> (no git identity configured)"


def tree_ids(root: Path, commit: str, paths: Sequence[str]) -> dict[str, str]:
    """The git object id of each path at `commit` (`.` is the root tree); absent paths omitted."""
    result = {}
    for path in paths:
        spec = f"{commit}^{{tree}}" if path in (".", "") else f"{commit}:{path}"
        proc = run(root, "rev-parse", "--verify", "--quiet", spec, check=False)
        if proc.returncode == 0:
            result[path] = proc.stdout.decode().strip()
    return result
