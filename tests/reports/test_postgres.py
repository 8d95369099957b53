"""The data layer on a real PostgreSQL server gives the same frames as on SQLite.

A throwaway cluster is initdb'd for the test on a free port (as the `postgres` account when
the tests run as root, since PostgreSQL refuses to run as root) and removed afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from reports.data import GradebookSource, load
from tests.reports.conftest import build_office

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not BIN, reason="PostgreSQL binaries missing (/usr/lib/postgresql/*/bin/"
                                       "initdb); `apt-get install -y postgresql` installs them"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    bindir = Path(BIN[-1]).parent
    root = os.geteuid() == 0
    # pytest's temp folders are 0700 root-owned: the server account could not enter them.
    folder = Path(tempfile.mkdtemp(prefix="kns-pg-"))
    data, sock = folder / "data", folder / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if root:
        shutil.chown(folder, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(folder, 0o700)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-U", "kns", "--auth=trust",
                             "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                             str(folder / "log"), "-o",
                             f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        for db in ("kynangso", "gradebook"):
            subprocess.run(prefix + [str(bindir.parent / "bin" / "createdb"), "-h", "127.0.0.1",
                                     "-p", str(port), "-U", "kns", db], check=True,
                           capture_output=True)
        yield f"postgresql+psycopg2://kns@127.0.0.1:{port}"
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_same_frames_on_postgresql_and_sqlite(postgres, tmp_path, data):
    """Do the platform and the gradebook on PostgreSQL give exactly the SQLite frames?"""
    platform = f"{postgres}/kynangso"
    _url, sources = build_office(tmp_path, platform_url=platform,
                                 gradebook_url=f"{postgres}/gradebook")
    assert sources[0].db_url.startswith("postgresql")
    pg = load(platform, [GradebookSource(sources[0].db_url, sources[0].course_dir)])
    for name in ("history", "exams", "courses"):
        a = getattr(pg, name).sort_values(list(getattr(pg, name).columns[:3])).reset_index(drop=True)
        b = getattr(data, name).sort_values(list(a.columns[:3])).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    la = pg.levels().sort_values(["username", "competence"]).reset_index(drop=True)
    lb = data.levels().sort_values(["username", "competence"]).reset_index(drop=True)
    cols = ["username", "competence", "level", "period_id", "items", "department", "in_directory"]
    pd.testing.assert_frame_equal(la[cols], lb[cols], check_dtype=False)
    assert list(pg.needs()["username"]) == list(data.needs()["username"])
