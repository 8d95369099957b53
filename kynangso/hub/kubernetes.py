"""Servers as Kubernetes pods (KubeSpawner), on a hub deployed by the Zero to JupyterHub chart.

Who owns what (docs/deploy.md):
- the chart's values (deploy/kubernetes/): the hub process, the proxy, the hub database, the
  single-user image, each user's volume, resources, scheduling, the idle culler, the
  NetworkPolicies, and one API token per hub service (`hub.services`, in the chart's Secret);
- `apply_config` with `spawner: kubernetes` (this module): what the platform needs of a server
  (courses delivered at start, learners land on their app, exam mode, the services' URLs), the
  platform services as external hub services at their in-cluster URLs, login, roles, pages.
  A `kubernetes.*` setting that is not null overrides the chart's value for KubeSpawner.

Exam mode on Kubernetes: a server started for a learner with an exam in progress is a new pod
in exam mode (learner app, KNS_EXAM_MODE), and nothing of an earlier server survives in it: a
pod's processes die with the pod, so no leftover process needs killing. Not carried over: the
per-user Unix account (every pod runs as the image's one account, isolated by its own pod and
volume instead), and process limits inside the pod beyond its CPU and memory limits.
"""

from __future__ import annotations

import asyncio
from functools import partial

from kynangso.errors import SettingsError
from kynangso.hub.landing import learner_env, runs_code
from kynangso.settings import Settings

SPAWNER_CLASS = "kubespawner.KubeSpawner"
# Keys of a hub-managed service entry that have no meaning for a service that runs in its own
# Deployment (the Deployment says how it runs; deploy/kubernetes/services/).
MANAGED_KEYS = ("command", "user", "cwd", "environment")
# settings key -> KubeSpawner trait, set only when the setting is not null
TRAITS = {"image": "image", "cpu_guarantee": "cpu_guarantee", "cpu_limit": "cpu_limit",
          "memory_guarantee": "mem_guarantee", "memory_limit": "mem_limit"}


def apply_spawner(settings: Settings, c, env) -> None:
    """KubeSpawner for every server: what the platform needs of a pod."""
    kube = settings["kubernetes"]
    folder = settings["lab"]["courses_folder"]
    prefix = settings["isolation"]["user_env"] or env.user_env_prefix
    home = kube["home"]
    c.JupyterHub.spawner_class = SPAWNER_CLASS
    for key, trait in TRAITS.items():
        if kube[key] is not None:
            setattr(c.KubeSpawner, trait, kube[key])
    if kube["storage_capacity"] is not None:  # a volume per user, made on first start
        c.KubeSpawner.storage_pvc_ensure = True
        c.KubeSpawner.storage_capacity = kube["storage_capacity"]
        c.KubeSpawner.storage_access_modes = ["ReadWriteOnce"]
        if kube["storage_class"] is not None:
            c.KubeSpawner.storage_class = kube["storage_class"]
        c.KubeSpawner.volumes = {"home": {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}}
        c.KubeSpawner.volume_mounts = {"home": {"name": "home", "mountPath": home}}
    python = f"{prefix}/bin/python"
    c.Spawner.cmd = [f"{prefix}/bin/kns-singleuser"]
    c.Spawner.default_url = f"/lab/tree/{folder}"  # staff and advanced learners (as local)
    c.Spawner.environment = {
        "JUPYTER_CONFIG_PATH": env.userconfig_dir,
        "PATH": f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "KNS_COURSES_DIR": f"{home}/{folder}",
    }
    if env.courses_source:
        # Courses delivered in the pod, as its own account, before the server counts as running
        # (Kubernetes holds the container until postStart ends). A failed delivery must not keep
        # the learner out of their work: the hook always succeeds, the log says what went wrong.
        deliver = [python, "-I", "-m", "kynangso.hub.delivery", "--source", env.courses_source,
                   "--home", home, "--folder", folder]
        c.KubeSpawner.lifecycle_hooks = {
            "postStart": {"exec": {"command": ["/bin/sh", "-c", '"$@" || true', "deliver", *deliver]}}}
    c.Spawner.pre_spawn_hook = partial(pre_spawn, exam_db_url=settings.database_url, home=home,
                                       prefix=prefix)
    # An image pull on a node the pre-puller has not reached takes minutes.
    c.Spawner.start_timeout = 600
    c.Spawner.http_timeout = 120


async def pre_spawn(spawner, exam_db_url: str, home: str, prefix: str) -> None:
    """Each start: learners land on their app; a person who runs code and has an exam in
    progress gets an exam-mode server (chosen at each start: groups and attempts change)."""
    groups = [g.name for g in spawner.user.groups]
    exam_mode = False
    if exam_db_url and runs_code(groups):
        from kynangso.exams import windows

        exam_mode = await asyncio.to_thread(windows.in_exam, exam_db_url, spawner.user.name,
                                            windows.now_utc())
    base = getattr(spawner, "_kns_base_environment", None)
    if base is None:  # the configured environment, before any start added the learner's part
        base = spawner._kns_base_environment = dict(spawner.environment)
    spawner.environment = {**base, **learner_env(spawner.user, home, prefix, exam_mode=exam_mode)}


def cluster_service(entry: dict, chart_services: list[dict]) -> dict:
    """A platform service's entry as an external hub service (its own Deployment runs it), with
    the API token the chart made for it (`hub.services.<name>` in the values)."""
    tokens = {s.get("name"): s.get("api_token") for s in chart_services}
    name = entry["name"]
    if not tokens.get(name):
        raise SettingsError("hub.k8s_service_not_in_chart", service=name,
                            log_detail=f"hub service {name!r} has no hub.services entry in the chart values")
    return {**{k: v for k, v in entry.items() if k not in MANAGED_KEYS}, "api_token": tokens[name]}


def finish(c, env, culler: str, reserved: tuple[str, ...]) -> None:
    """Our services in `c` as external ones, then the chart's own services and roles that are
    not ours (its idle culler: the chart's `cull.*` runs it, so ours is left out). `reserved`
    names the services another layer adds (reports, wired by hub_config)."""
    ours = [cluster_service(s, env.chart_services) for s in c.JupyterHub.services
            if s["name"] != culler]
    names = {s["name"] for s in ours} | set(reserved)
    c.JupyterHub.services = ours + [s for s in env.chart_services if s.get("name") not in names]
    roles = [r for r in c.JupyterHub.load_roles if r["name"] != culler]
    ours_roles = {r["name"] for r in roles}
    c.JupyterHub.load_roles = [r for r in env.chart_roles if r.get("name") not in ours_roles] + roles
    # The chart's singleuser.extraEnv lands in KubeSpawner.environment, which would hide ours
    # (the subclass's section wins): both go there, ours last.
    if "environment" in c.KubeSpawner:
        c.KubeSpawner.environment = {**c.KubeSpawner.environment, **c.Spawner.environment}
