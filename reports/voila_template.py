"""The Voilà template of the dashboards: the platform's `kns` template (kynangso.voila_template,
Voilà's `lab` with a Vietnamese loading screen) with the dashboards' loading sentence."""

from __future__ import annotations

from pathlib import Path

from kynangso import voila_template
from kynangso.i18n import t

TEMPLATE = voila_template.TEMPLATE


def write_template(root: Path) -> Path:
    """Write the `kns` template under `root` (a JUPYTER_PATH entry); returns its folder."""
    return voila_template.write_template(root, t("reports.service.loading"))
