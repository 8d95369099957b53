"""The Voilà template of the dashboards: the platform's `kns` template (kynangso.voila_template,
Voilà's `lab` with a Vietnamese loading screen) with the dashboards' loading sentence, and the
dashboards' kernel (reports.kernel) beside it on the same JUPYTER_PATH entry."""

from __future__ import annotations

import sys
from pathlib import Path

from kynangso import voila_template
from kynangso.i18n import t
from reports.kernel import write_kernel_spec

TEMPLATE = voila_template.TEMPLATE


def write_template(root: Path, python: str = sys.executable) -> Path:
    """Write the `kns` template under `root` (a JUPYTER_PATH entry), and the `python3` kernel
    spec of the dashboards (reports.kernel, run by `python`); returns the template's folder."""
    write_kernel_spec(root, python)
    return voila_template.write_template(root, t("reports.service.loading"))
