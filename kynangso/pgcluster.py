"""A throwaway PostgreSQL server from Debian's binaries, for tests and benchmarks.

`make test` and `python -m benchmarks examday` need a real PostgreSQL and no operator to set
one up: `Cluster` initdb's a data folder in a temporary directory, starts the server on a free
loopback port and removes everything on `stop()`. PostgreSQL refuses to run as root, so under
root the server runs as Debian's `postgres` account (the folder is chowned to it first; pytest's
own temporary folders are root-only and could not be entered). Authentication is `trust` on
loopback only: the server lives as long as the test and nobody else can reach it.

Production databases are the operator's (docs/settings.md, `database.url`); nothing here runs
in a deployment.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

DRIVER = "postgresql+psycopg2"
USER = "kns"


def binaries() -> Path | None:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One running server; `url(name)` is an SQLAlchemy URL of database `name` on it."""

    def __init__(self, max_connections: int = 200):
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries missing (/usr/lib/postgresql/*/bin/initdb): "
                               "`apt-get install -y postgresql` installs them")
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="kns-pg-"))
        self.data, sock = self.folder / "data", self.folder / "sock"
        sock.mkdir()
        self._as: list[str] = []
        if os.geteuid() == 0:
            for path in (self.folder, sock):
                shutil.chown(path, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        # fsync off: a test's data need not survive a power cut, and fsync is most of the cost
        # of a commit on a busy CI disk.
        options = (f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off "
                   f"-c max_connections={max_connections}")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                  "-o", options, "start")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self._as + [str(self.bindir / tool), *args], capture_output=True,
                              text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")

    @property
    def base(self) -> str:
        return f"{DRIVER}://{USER}@127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def create(self, name: str | None = None) -> str:
        """A new empty database (a unique name unless given); its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except RuntimeError:
            pass  # already stopped (a test killed it on purpose)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()
