"""`kns-singleuser`: the people's Jupyter servers (and the formgrader), which are
`jupyterhub-singleuser` with one JupyterLab query left out.

JupyterLab asks yarn (a Node.js process: about 0.35 s of CPU and as long a wait) for the npm
registry when its server starts and again whenever a page lists the extensions, that is at
every JupyterLab page load. The registry serves only to build or install extensions, which
these servers never do (their extension manager is read-only: userconfig/, graderconfig/), so
it is answered with yarn's default without asking Node.js. tests/hub/test_singleuser.py checks
that no Node.js process starts.
"""

from __future__ import annotations


def _yarn_config_unused(_logger) -> dict:
    """jupyterlab.commands._yarn_config's answer when yarn has no configuration."""
    return {"yarn config": {}, "npm config": {}}


def skip_yarn_query() -> None:
    from jupyterlab import commands

    commands._yarn_config = _yarn_config_unused


def main():
    skip_yarn_query()  # before jupyterlab.labapp is imported: it asks at import
    from jupyterhub.singleuser import main as singleuser_main

    return singleuser_main()
