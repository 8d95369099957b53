"""apply_config with `spawner: kubernetes`, checked by the real KubeSpawner: no hub, no cluster.

KubeSpawner loads a Kubernetes client configuration when it is constructed (it sends nothing
until a server starts). This machine cannot run a cluster, so a kubeconfig naming an address
where nothing listens stands in for one; every trait is validated by KubeSpawner itself, and the
pod it would create is built by its own `get_pod_manifest`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import kubernetes_validate
import kubespawner
import pytest
import yaml
from kubernetes_asyncio.client import ApiClient
from traitlets.config import Config

from kynangso import db
from kynangso.errors import SettingsError
from kynangso.exams import windows
from kynangso.hub.configurer import CULLER_SERVICE, HubEnvironment, apply_config
from kynangso.hub.kubernetes import cluster_service
from kynangso.hub.landing import LEARNER_HOME
from kynangso.settings import load_settings
from reports.service import hub_service_config

PREFIX = "/opt/kynangso/venv"
SERVICES = ("progress", "signing", "exams", "exams-worker", "admin", "kiem-tra-nang-luc", "reports")
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: unused}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


@pytest.fixture(autouse=True)
def kubeconfig(tmp_path, monkeypatch):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    # kubernetes_asyncio reads $KUBECONFIG once, when it is imported (before this fixture).
    monkeypatch.setattr("kubernetes_asyncio.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    # Outside a pod: KubeSpawner must not take this machine for one.
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def chart_services() -> list[dict]:
    """What the z2jh chart's hub configuration puts in c.JupyterHub.services before ours runs:
    one entry per hub.services key, with the token the chart made, and its idle culler."""
    entries = [{"name": name, "api_token": f"token-{name}"} for name in SERVICES]
    return [*entries, {"name": CULLER_SERVICE, "command": ["python3", "-m", "jupyterhub_idle_culler"]}]


@pytest.fixture(scope="module")
def platform_db(tmp_path_factory) -> str:
    """One migrated platform database for the module (the hook reads exam attempts from it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('platform') / 'kns.sqlite'}"
    db.upgrade(url)
    return url


@pytest.fixture
def kube_settings(tmp_path, platform_db):
    return lambda **kube: load_settings(overrides={
        "state_dir": str(tmp_path / "state"),
        "database": {"url": platform_db},
        "spawner": "kubernetes",
        "kubernetes": kube,
    })


def kube_env(**kw) -> HubEnvironment:
    return HubEnvironment(
        is_root=False, templates_dir=Path("/opt/kynangso/hub_config/templates"), proxy_command=[],
        python=f"{PREFIX}/bin/python", user_env_prefix=PREFIX,
        courses_source=f"{PREFIX}/lib/python3.11/site-packages/courses",
        exams_course="/var/lib/kynangso/exams/kiem-tra-nang-luc",
        chart_services=chart_services(),
        chart_roles=[{"name": CULLER_SERVICE, "services": [CULLER_SERVICE], "scopes": ["read:servers"]}],
        **kw)


def user(name: str, *groups: str):
    """The hub's User as KubeSpawner and our hook read it (no hub runs here)."""
    return SimpleNamespace(name=name, id=7, url=f"/user/{name}/", admin=False,
                           groups=[SimpleNamespace(name=g) for g in groups])


def spawn(c: Config, who) -> tuple:
    """Construct KubeSpawner from `c`, run the pre-spawn hook as the hub does, and build the pod
    it would create, as the JSON it would send to the API server."""
    async def run():
        spawner = kubespawner.KubeSpawner(config=c, user=who, _mock=True)
        await spawner.run_pre_spawn_hook()
        pod = await spawner.get_pod_manifest()
        async with ApiClient() as api:
            return spawner, api.sanitize_for_serialization(pod)
    return asyncio.run(run())


def environment(pod: dict) -> dict:
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}


def test_kubespawner_takes_image_storage_and_resources_from_the_settings(kube_settings):
    """Does KubeSpawner accept what apply_config writes, with the image, a volume per user,
    guaranteed resources, the courses folder and the services' in-cluster URLs?"""
    settings = kube_settings(image="registry.example.vn/kynangso/singleuser:0.1.0",
                             storage_capacity="2Gi", storage_class="kns-home", cpu_guarantee=0.5,
                             cpu_limit=0.5, memory_guarantee="1G", memory_limit="1G")
    c = Config()
    apply_config(settings, c, kube_env())
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    spawner, pod = spawn(c, user("canbo01", "giangvien"))
    assert spawner.image == "registry.example.vn/kynangso/singleuser:0.1.0"
    assert (spawner.cpu_guarantee, spawner.cpu_limit) == (0.5, 0.5)
    assert spawner.mem_guarantee == spawner.mem_limit == 1024**3
    assert spawner.storage_pvc_ensure and spawner.storage_capacity == "2Gi"
    assert spawner.storage_class == "kns-home"
    assert spawner.cmd == [f"{PREFIX}/bin/kns-singleuser"]
    assert spawner.default_url == "/lab/tree/KhoaHoc"
    kubernetes_validate.validate(pod, "1.32", strict=True)  # what the API server would accept
    container = pod["spec"]["containers"][0]
    assert container["resources"]["requests"] == container["resources"]["limits"]  # guaranteed QoS
    [home] = [v for v in pod["spec"]["volumes"] if v["name"] == "home"]
    assert home["persistentVolumeClaim"]["claimName"] == spawner.pvc_name
    assert [m["mountPath"] for m in container["volumeMounts"] if m["name"] == "home"] == ["/home/jovyan"]
    env = environment(pod)
    assert env["KNS_EXAMS_URL"] == "http://kns-exams:10104/services/exams/"
    assert env["KNS_PROGRESS_URL"] == "http://kns-progress:10101/services/progress/"
    assert env["KNS_SIGNING_URL"] == "http://kns-signing:10102/services/signing/"
    assert env["KNS_COURSES_DIR"] == "/home/jovyan/KhoaHoc"
    assert env["JUPYTERHUB_DEFAULT_URL"] == "/lab/tree/KhoaHoc"  # staff keep JupyterLab
    deliver = container["lifecycle"]["postStart"]["exec"]["command"]
    assert deliver[:2] == ["/bin/sh", "-c"] and "kynangso.hub.delivery" in deliver
    assert deliver[deliver.index("--home") + 1] == "/home/jovyan"


def test_null_settings_leave_the_charts_values(kube_settings):
    """Under the chart, do its singleuser values, spawn limit, hub database and cleanup policy
    survive our configuration (they are the one place for them)?"""
    c = Config()
    # What the chart's own hub configuration set before ours runs.
    c.KubeSpawner.image = "chart/singleuser:1"
    c.KubeSpawner.mem_limit = "3G"
    c.KubeSpawner.environment = {"FROM_CHART": "1"}
    c.JupyterHub.concurrent_spawn_limit = 100
    c.JupyterHub.db_url = "postgresql+psycopg2://kns-postgres:5432/jupyterhub"
    c.JupyterHub.cleanup_servers = False
    apply_config(kube_settings(), c, kube_env())
    assert c.JupyterHub.concurrent_spawn_limit == 100
    assert c.JupyterHub.db_url == "postgresql+psycopg2://kns-postgres:5432/jupyterhub"
    assert c.JupyterHub.cleanup_servers is False  # servers outlive a hub restart mid-exam
    assert "command" not in c.ConfigurableHTTPProxy  # the chart's proxy pod
    spawner, _pod = spawn(c, user("canbo01", "giangvien"))
    assert spawner.image == "chart/singleuser:1" and spawner.mem_limit == 3 * 1024**3
    assert spawner.environment["FROM_CHART"] == "1"
    assert spawner.environment["KNS_EXAMS_URL"].startswith("http://kns-exams:")


def test_services_are_external_with_the_charts_tokens(kube_settings):
    """Do the platform services become external hub services (their Deployments run them) with
    the tokens the chart made, and does the chart's culler stay, once, with its role?"""
    settings = kube_settings()
    c = Config()
    apply_config(settings, c, kube_env())
    services = {s["name"]: s for s in c.JupyterHub.services}
    # reports is added by hub_config (the core does not import it), from the same chart entry
    assert sorted(services) == sorted([s for s in SERVICES if s != "reports"] + [CULLER_SERVICE])
    for name, entry in services.items():
        if name == CULLER_SERVICE:
            assert entry["command"][:3] == ["python3", "-m", "jupyterhub_idle_culler"]
            continue
        assert not {"command", "user", "cwd", "environment"} & set(entry), name
        assert entry["api_token"] == f"token-{name}"
    assert services["exams"]["url"] == "http://kns-exams:10104"
    assert services["kiem-tra-nang-luc"]["url"] == "http://kns-kiem-tra-nang-luc:10105"
    assert "url" not in services["exams-worker"]
    roles = [r["name"] for r in c.JupyterHub.load_roles]
    assert roles.count(CULLER_SERVICE) == 1 and "exams" in roles and "user" in roles
    assert c.JupyterHub.template_vars["kns_isolated"] is True  # a pod per learner: exams may open
    reports = cluster_service(hub_service_config(settings, f"{PREFIX}/bin/python")[0],
                              chart_services())
    assert reports["url"] == "http://kns-reports:10103" and reports["api_token"] == "token-reports"
    assert "command" not in reports and "environment" not in reports


def test_a_service_missing_from_the_chart_values_is_named(kube_settings):
    """Without a hub.services entry the hub has no token for a service: is the operator told
    which one, in Vietnamese, before the hub starts?"""
    env = kube_env()
    env.chart_services[:] = [s for s in env.chart_services if s["name"] != "progress"]
    with pytest.raises(SettingsError) as err:
        apply_config(kube_settings(), Config(), env)
    assert err.value.key == "hub.k8s_service_not_in_chart"
    assert "progress" in err.value.user_message and "hub.services" in err.value.user_message


def test_learners_land_on_their_app_and_exam_takers_get_exam_mode(kube_settings):
    """Is each start decided as on one machine: a learner gets the learner app, an advanced
    learner JupyterLab, and an advanced learner with an exam in progress an exam-mode server?"""
    settings = kube_settings()
    c = Config()
    apply_config(settings, c, kube_env())

    _spawner, pod = spawn(c, user("hocvien01", "hocvien"))
    env = environment(pod)
    assert env["JUPYTERHUB_DEFAULT_URL"] == LEARNER_HOME and env["KNS_LEARNER_APP"] == "1"
    assert "KNS_EXAM_MODE" not in env

    _spawner, pod = spawn(c, user("nangcao01", "hocvien", "nangcao"))
    assert "KNS_LEARNER_APP" not in environment(pod)

    now = windows.now_utc()
    w = windows.open_window(settings.database_url, "kiem-tra-nang-luc", "tong-hop", "hocvien", 40,
                            "refuse", "gv", at=now - dt.timedelta(minutes=1))
    windows.record_fetch(settings.database_url, w, "nangcao01", now)
    _spawner, pod = spawn(c, user("nangcao01", "hocvien", "nangcao"))
    env = environment(pod)
    assert env["KNS_EXAM_MODE"] == "1" and env["JUPYTERHUB_DEFAULT_URL"] == LEARNER_HOME


def test_the_charts_extra_config_runs_our_hub_configuration(tmp_path, monkeypatch, platform_db):
    """Does the hub.extraConfig snippet of deploy/kubernetes/values.yaml, run as the chart runs
    it (after the chart's own configuration filled `c`), give the hub the whole platform: our
    authenticator, pages, KubeSpawner setup and every service, reports included, with tokens?"""
    root = Path(__file__).resolve().parents[2]
    values = yaml.safe_load((root / "deploy" / "kubernetes" / "values.yaml").read_text())
    snippet = values["hub"]["extraConfig"]["kynangso"]
    installed = "/opt/kynangso/hub_config/jupyterhub_config.py"  # where the services image has it
    assert installed in snippet
    settings = yaml.safe_load((root / "deploy" / "kubernetes" / "settings.yaml").read_text())
    settings.update(state_dir=str(tmp_path / "state"), database={"url": platform_db})
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump(settings, allow_unicode=True))
    monkeypatch.setenv("KNS_SETTINGS", str(settings_file))
    c = Config()  # as the chart's jupyterhub_config.py leaves it
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.JupyterHub.services = [{"name": entry.get("name", key), **entry, "api_token": f"t-{key}"}
                             for key, entry in values["hub"]["services"].items()]
    c.JupyterHub.load_roles = []
    exec(snippet.replace(installed, str(root / "hub_config" / "jupyterhub_config.py")), {"c": c})
    assert c.JupyterHub.authenticator_class == "kynangso.hub.auth.StaffAuthenticator"
    assert c.JupyterHub.template_paths == [str(root / "hub_config" / "templates")]
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert set(services) == {entry.get("name", key) for key, entry in values["hub"]["services"].items()}
    assert services["reports"]["url"] == "http://kns-reports:10103"
    assert services["admin"]["api_token"] == "t-kns-admin"
    assert all("command" not in s for s in services.values())
    assert "kns-reports-viewers" in {r["name"] for r in c.JupyterHub.load_roles}
    spawner, _pod = spawn(c, user("hocvien01", "hocvien"))
    assert spawner.environment["KNS_EXAMS_URL"] == "http://kns-exams:10104/services/exams/"


@pytest.mark.parametrize("override, where", [
    ({"spawner": "k8s"}, "spawner"),
    ({"kubernetes": {"memory_limit": "1GB"}}, "kubernetes.memory_limit"),
    ({"kubernetes": {"service_url": "http://kns-progress:10101"}}, "kubernetes.service_url"),
    ({"kubernetes": {"imag": "x:1"}}, "kubernetes.imag"),
])
def test_bad_kubernetes_settings_are_refused_in_vietnamese(tmp_path, override, where):
    """Is a wrong spawner, a memory size KubeSpawner would misread, a service URL without
    {service}, or a misspelled key refused before anything starts, naming the key?"""
    with pytest.raises(SettingsError) as err:
        load_settings(overrides={"state_dir": str(tmp_path), **override})
    assert where in err.value.user_message
    if where == "kubernetes.imag":
        assert "'image'?" in err.value.user_message  # "ý bạn là 'image'?"


@pytest.mark.parametrize("profile", ["ordinary day", "exam day"])
def test_the_charts_hub_configuration_with_ours_on_top(tmp_path, monkeypatch, platform_db, profile):
    """Run the chart's own hub configuration (z2jh 4.4.0, vendored) over our values, as the hub
    pod does, ours last through hub.extraConfig: does the hub end with the chart's database,
    spawn limits, volumes, resources and culler, our platform on top, and a pod KubeSpawner
    accepts? z2jh.py's readers of the mounted Secret are pointed at the values: no pod here."""
    import sys

    from tornado.httpclient import AsyncHTTPClient

    from tests.deploy.helm_values import DEPLOY_SETTINGS, PROFILES, ROOT, secret_values

    chart_hub = ROOT / "tests" / "deploy" / "chart_hub"
    merged = secret_values(*PROFILES[profile])
    installed = "/opt/kynangso/hub_config/jupyterhub_config.py"  # in the services image
    merged["hub"]["extraConfig"]["kynangso"] = merged["hub"]["extraConfig"]["kynangso"].replace(
        installed, str(ROOT / "hub_config" / "jupyterhub_config.py"))
    merged.update(Chart={"Name": "jupyterhub", "Version": "4.4.0"}, Release={"Name": "kns", "Namespace": "kns"})
    secrets = {"hub.config.JupyterHub.cookie_secret": "ab" * 32, "hub.config.CryptKeeper.keys": "cd" * 32,
               "hub.db.password": "from-the-secret-kns-hub",
               **{f"hub.services.{key}.apiToken": f"t-{key}" for key in merged["hub"]["services"]}}
    settings = yaml.safe_load(DEPLOY_SETTINGS.read_text())
    settings.update(state_dir=str(tmp_path / "state"), database={"url": platform_db})
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True))
    monkeypatch.setenv("KNS_SETTINGS", str(tmp_path / "settings.yaml"))
    monkeypatch.setenv("HUB_SERVICE_PORT", "8081")
    monkeypatch.setenv("PROXY_API_SERVICE_PORT", "8001")
    monkeypatch.delenv("PGPASSWORD", raising=False)  # the chart's configuration sets it
    monkeypatch.setattr(sys, "path", [str(chart_hub), *sys.path])
    monkeypatch.delitem(sys.modules, "z2jh", raising=False)
    import z2jh

    def secret(key, default="never-explicitly-set"):
        if key in secrets:
            return secrets[key]
        if default != "never-explicitly-set":
            return default
        raise KeyError(key)
    monkeypatch.setattr(z2jh, "_load_config", lambda: merged)
    monkeypatch.setattr(z2jh, "_get_config_value", lambda name: name)  # the chart's object names
    monkeypatch.setattr(z2jh, "get_secret_value", secret)
    c = Config()
    path = chart_hub / "jupyterhub_config.py"
    try:
        exec(compile(path.read_text(), str(path), "exec"), {"get_config": lambda: c, "__file__": str(path)})
    finally:
        AsyncHTTPClient.configure(None)  # the chart's configuration picks curl for the process
        monkeypatch.delitem(sys.modules, "z2jh", raising=False)
    import os

    assert c.JupyterHub.db_url == merged["hub"]["db"]["url"]
    assert os.environ["PGPASSWORD"] == "from-the-secret-kns-hub"
    assert c.JupyterHub.cleanup_servers is False
    assert c.JupyterHub.concurrent_spawn_limit == merged["hub"]["concurrentSpawnLimit"]
    assert c.Spawner.consecutive_failure_limit == merged["hub"]["consecutiveFailureLimit"]
    assert c.JupyterHub.authenticator_class == "kynangso.hub.auth.StaffAuthenticator"
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["admin"]["api_token"] == "t-kns-admin" and services["exams"]["url"] == "http://kns-exams:10104"
    [culler] = [s for s in c.JupyterHub.services if s["name"] == CULLER_SERVICE]
    assert f"--timeout={merged['cull']['timeout']}" in culler["command"]
    assert "--max-age" not in " ".join(culler["command"])
    spawner, pod = spawn(c, user("hocvien01", "hocvien"))
    kubernetes_validate.validate(pod, "1.32", strict=True)
    su = merged["singleuser"]
    assert spawner.image == f"{su['image']['name']}:{su['image']['tag']}"
    assert spawner.cpu_limit == su["cpu"]["limit"] and spawner.start_timeout == su["startTimeout"]
    assert spawner.k8s_api_threadpool_workers == merged["hub"].get("config", {}).get(
        "KubeSpawner", {}).get("k8s_api_threadpool_workers", spawner.k8s_api_threadpool_workers)
    container = pod["spec"]["containers"][0]
    guaranteed = su["cpu"]["guarantee"] == su["cpu"]["limit"]
    assert (container["resources"]["requests"] == container["resources"]["limits"]) is guaranteed
    homes = [m for m in container["volumeMounts"] if m["mountPath"] == su["storage"]["homeMountPath"]]
    [claim] = [v for v in pod["spec"]["volumes"] if v["name"] == homes[0]["name"]]
    assert claim["persistentVolumeClaim"]["claimName"] == spawner.pvc_name  # a volume per user
    env = environment(pod)
    assert env["JUPYTERHUB_DEFAULT_URL"] == LEARNER_HOME
    assert env["KNS_EXAMS_URL"] == "http://kns-exams:10104/services/exams/"
    # our services' NetworkPolicy admits this pod by the labels the chart's KubeSpawner gives it
    policy = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "services" / "networkpolicy.yaml").read_text())
    selectors = [peer["podSelector"]["matchLabels"] for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert any(s.items() <= pod["metadata"]["labels"].items() for s in selectors)
    # nothing privileged in a learner's pod (the chart's iptables init container is off: the
    # NetworkPolicy keeps the cloud metadata server out)
    for part in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
        context = part.get("securityContext", {})
        assert not context.get("privileged") and not context.get("allowPrivilegeEscalation")
