"""JupyterHub configuration for Kỹ Năng Số. Kept thin on purpose.

Layers, in order: the platform settings (embedded defaults + $KNS_SETTINGS,
validated), applied by kynangso.hub.configurer.apply_config; the HR reports
service; then any drop-in files in config.d/*.py, for site-specific tweaks that
the settings do not cover.
"""

import logging
from pathlib import Path

from kynangso.hub.configurer import (
    REPORTS_SERVICE,
    apply_config,
    prepare_environment,
    service_options,
)
from kynangso.i18n import t
from kynangso.settings import load_settings
from reports.service import hub_service_config

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
here = Path(__file__).resolve().parent

settings = load_settings()
# Under the z2jh chart (spawner kubernetes) this file runs from the chart's hub.extraConfig,
# after the chart's own configuration filled `c` (deploy/kubernetes/values.yaml).
env = prepare_environment(settings, config_dir=here, chart=c)
apply_config(settings, c, env)

# HR dashboards: wired here because the core does not import the reports package.
reports_service, reports_roles = hub_service_config(
    settings, env.python, service_options(settings, env, REPORTS_SERVICE), env.reports_gradebooks)
if settings["spawner"] == "kubernetes":
    from kynangso.hub.kubernetes import cluster_service

    reports_service = cluster_service(reports_service, env.chart_services)
c.JupyterHub.services = [*c.JupyterHub.services, reports_service]
c.JupyterHub.load_roles = [*c.JupyterHub.load_roles, *reports_roles]

if not env.isolated(settings):
    logging.getLogger("JupyterHub").warning("%s", t("core.not_isolated"))

for dropin in sorted((here / "config.d").glob("*.py")):
    exec(compile(dropin.read_text(), str(dropin), "exec"), {"c": c})
