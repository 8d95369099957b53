"""Load an nbgrader course's configuration the way the `nbgrader` command does.

nbgrader reads `nbgrader_config.py` (and `.json`) from every Jupyter config folder and from
the folder it runs in (the course folder), the latter winning. We do the same without
importing `nbgrader.apps` (~4 s), so that any course graded by `kns grade` sees the same
settings (course id, gradebook URL, directory structure, Execute.timeout, late penalties...).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from traitlets.config import Config
from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

CONFIG_NAME = "nbgrader_config"


def config_folders(course_root: Path) -> list[str]:
    """Folders searched for nbgrader_config, lowest priority first."""
    from jupyter_core.paths import jupyter_config_path

    folders = [str(course_root), *jupyter_config_path()]
    seen: list[str] = []
    for folder in folders:
        if folder not in seen:
            seen.append(folder)
    return list(reversed(seen))


def load_course_config(course_root: Path, overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """The merged nbgrader configuration of the course, then `overrides` (e.g. the CLI's --timeout)."""
    config = Config()
    for folder in config_folders(course_root):
        for loader_class, suffix in ((PyFileConfigLoader, ".py"), (JSONFileConfigLoader, ".json")):
            if os.path.isfile(os.path.join(folder, CONFIG_NAME + suffix)):
                loader = loader_class(CONFIG_NAME + suffix, path=folder)
                config.merge(loader.load_config())
    # nbgrader's converters clear the exporter's own default preprocessors (BaseConverter.__init__).
    config.merge(Config({"Exporter": {"default_preprocessors": []}}))
    for section, values in (overrides or {}).items():
        config.merge(Config({section: dict(values)}))
    return config


def ensure_tools_on_path() -> None:
    """nbgrader shells out to `jupyter`/`alembic`: put this interpreter's bin folder first on PATH."""
    bin_dir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])
