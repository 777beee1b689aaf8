"""One quick `git` call for a hook's hot path, without importing `subprocess`.

sdl-commit-msg runs on every commit and is held to three times the interpreter's start-up
(benchmarks/hooks.py); importing `subprocess` (with `threading`, `selectors`, `signal`) alone
costs about half of that start-up. `os.posix_spawnp` with a pipe does what the hook needs: the
exit code and stdout of a short git command. Where posix_spawn does not exist (Windows),
`subprocess` is used. Callers treat a non-zero exit as "ask again through `gitdata.git`",
which raises the GitError a user reads, so no error message is lost here.
"""

from __future__ import annotations

import os

# The fixed settings of gitdata.git: no pager, no locale-dependent output, no prompts.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}


def out(cwd: str | None, *args: str) -> tuple[int, bytes]:
    """(exit code, stdout) of `git [-C cwd] args...`; stderr is discarded; 127 when git cannot
    be started."""
    argv = ["git", *(("-C", cwd) if cwd is not None else ()), *args]
    env = {**os.environ, **_ENV}
    if not hasattr(os, "posix_spawnp"):  # pragma: no cover - Windows
        import subprocess

        try:
            proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        except OSError:
            return 127, b""
        return proc.returncode, proc.stdout
    read, write = os.pipe()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = os.posix_spawnp(
            "git",
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, write, 1),
                (os.POSIX_SPAWN_DUP2, null, 2),
                (os.POSIX_SPAWN_CLOSE, read),
            ],
        )
    except OSError:
        os.close(read)
        return 127, b""
    finally:
        os.close(write)
        os.close(null)
    chunks = []
    with open(read, "rb", buffering=0, closefd=True) as stream:
        while chunk := stream.read(65536):
            chunks.append(chunk)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), b"".join(chunks)
