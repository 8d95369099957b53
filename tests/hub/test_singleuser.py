"""kns-singleuser (kynangso.hub.singleuser): JupyterLab's server and its extension listing ask
no Node.js process for yarn's configuration (each time, about 0.35 s of CPU)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
if sys.argv[1] == "kns":
    from kynangso.hub.singleuser import skip_yarn_query
    skip_yarn_query()
from jupyterlab.commands import get_app_info, get_app_version
import jupyterlab.labapp  # asks for the version when imported
get_app_version()
get_app_info()  # what the extension listing (/lab/api/extensions) reads
"""


def node_calls(tmp_path, how: str) -> list[str]:
    """The Node.js commands run while JupyterLab starts, recorded by a `node` ahead on PATH."""
    log = tmp_path / f"{how}.log"
    fake = tmp_path / "bin" / "node"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexit 1\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run([sys.executable, "-c", PROBE, how], env=env, check=True, timeout=120,
                   capture_output=True)
    return log.read_text().splitlines() if log.exists() else []


def test_jupyterlab_asks_node_for_yarn_config_unless_told_not_to(tmp_path):
    # The probe sees what the servers saw before kns-singleuser: it must find the query.
    assert any("config" in call for call in node_calls(tmp_path, "plain"))
    assert node_calls(tmp_path, "kns") == []
