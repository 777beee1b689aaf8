"""A throw-away PostgreSQL cluster for tests and benchmarks (importable without pytest).

`initdb` in a fresh temporary directory, `pg_ctl start` on a Unix socket in that directory and
on a free 127.0.0.1 port, stopped and removed afterwards. PostgreSQL refuses to run as root, so
when our euid is 0 the server programs run as the `postgres` user (`runuser -u postgres --`),
which Debian's package creates, and the directory is handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "postgres"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL is not installed or the cluster would not start (the message says why)."""


def find_bindir() -> Path:
    """The directory holding `initdb` and `pg_ctl` (PATH first, then Debian's layout)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise ClusterUnavailable(
            "PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin): "
            "install it with `apt-get install postgresql`"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: its directory, socket directory and TCP port."""

    base: Path
    bindir: Path
    port: int
    as_user: tuple[str, ...]

    @property
    def socket_dir(self) -> Path:
        return self.base

    def url(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        """A URL reaching `dbname` over the Unix socket (trusted: no password)."""
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{user}@{host}:{self.port}/{dbname}"

    def tcp_url(self, dbname: str, user: str, password: str) -> str:
        """A URL reaching `dbname` over 127.0.0.1 (password checked with SCRAM)."""
        return f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.base,
            check=False,
        )

    def stop(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "stop", "-D", str(self.base / "data"), "-m", "fast", "-w"
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start(*, durable: bool = False) -> Cluster:
    """initdb + pg_ctl start in a new temporary directory; ClusterUnavailable if it cannot.

    `durable=False` turns fsync off (tests); benchmarks pass True to measure real commits.
    """
    bindir = find_bindir()
    as_user: tuple[str, ...] = ()
    # /tmp when root: the `postgres` user must reach it (TMPDIR may be under /root), and the
    # socket path must stay under the kernel's 107-byte limit.
    root_tmp = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    base = Path(tempfile.mkdtemp(prefix="sdl-pg-", dir=root_tmp))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam(SUPERUSER)
        except KeyError as e:
            shutil.rmtree(base, ignore_errors=True)
            raise ClusterUnavailable(
                "running as root and there is no `postgres` user to run the server as"
            ) from e
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ("runuser", "-u", SUPERUSER, "--")
    base.chmod(0o755)
    cluster = Cluster(base=base, bindir=bindir, port=_free_port(), as_user=as_user)
    data = base / "data"
    init = cluster._run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        SUPERUSER,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ClusterUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    options = [
        f"-p {cluster.port}",
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={base}",
        "-c max_connections=60",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    started = cluster._run(
        str(bindir / "pg_ctl"),
        "start",
        "-D",
        str(data),
        "-w",
        "-t",
        "60",
        "-l",
        str(base / "server.log"),
        "-o",
        " ".join(options),
    )
    if started.returncode != 0:
        log = (
            (base / "server.log").read_text(errors="replace")
            if (base / "server.log").exists()
            else ""
        )
        cluster.stop()
        raise ClusterUnavailable(f"pg_ctl start failed: {started.stderr.strip()}\n{log[-2000:]}")
    return cluster


def bench_database(*, durable: bool) -> tuple[Cluster, str]:
    """A throw-away cluster with an empty database `bench` (for benchmarks/): (cluster, url)."""
    import psycopg

    cluster = start(durable=durable)
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench")
    return cluster, cluster.url("bench")
