"""deploy/kubernetes/: our z2jh values against the chart's own schema, and our services'
manifests against the Kubernetes API schemas. No cluster and no helm binary here: these are the
checks helm and the API server would make first (docs/deploy.md says what is left unverified)."""

from __future__ import annotations

import copy
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml
from helm_values import DEPLOY, DEPLOY_SETTINGS, PROFILES, SCHEMA, load, parsed, values
from traitlets.config import Config

from kynangso.hub.configurer import CULLER_SERVICE, HubEnvironment, apply_config
from kynangso.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
# kubeVersion ">=1.32.0-0" in the vendored chart's Chart.yaml
KUBERNETES = "1.32"


def schema_errors(merged: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(parsed(SCHEMA / "values.schema.yaml"))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(merged)]


@pytest.mark.parametrize("profile", PROFILES)
def test_values_pass_the_charts_schema(profile):
    """Would helm accept our values (each key one the chart knows, each value of its type)?"""
    assert schema_errors(values(*PROFILES[profile])) == []


def test_the_schema_check_catches_a_misspelled_key():
    """Does the check fail on a key the chart does not know (so that it can fail at all)?"""
    merged = values("values.yaml")
    merged["singleuser"]["storage"]["capacityy"] = "2Gi"
    merged["cull"]["timeout"] = "an hour"
    errors = schema_errors(merged)
    assert any("capacityy" in e for e in errors) and any(e.startswith("cull.timeout") for e in errors)


def test_exam_day_profile():
    """Does the exam-day overlay give guaranteed resources, room held by placeholders, the image
    pulled ahead, a spawn limit with as many API threads, and a culler that spares exam-takers?"""
    day = values(*PROFILES["exam day"])
    su = day["singleuser"]
    assert su["cpu"]["guarantee"] == su["cpu"]["limit"] and su["memory"]["guarantee"] == su["memory"]["limit"]
    placeholder = day["scheduling"]["userPlaceholder"]
    assert placeholder["enabled"] and placeholder["replicas"] > 0
    assert day["scheduling"]["podPriority"]["enabled"]  # placeholders yield to real servers
    assert day["prePuller"]["hook"]["enabled"] and day["prePuller"]["continuous"]["enabled"]
    hub = day["hub"]
    assert hub["concurrentSpawnLimit"] > values("values.yaml")["hub"]["concurrentSpawnLimit"]
    assert hub["config"]["KubeSpawner"]["k8s_api_threadpool_workers"] == hub["concurrentSpawnLimit"]
    assert "consecutiveFailureLimit" in hub
    assert hub["resources"]["requests"] == hub["resources"]["limits"]


@pytest.mark.parametrize("profile", PROFILES)
def test_culler_spares_exam_takers(profile):
    """Is the chart's culler timeout above the desk's heartbeat, and never by age?"""
    heartbeat = load_settings(DEPLOY_SETTINGS)["exams"]["heartbeat_seconds"]
    cull = values(*PROFILES[profile])["cull"]
    assert cull["enabled"] and cull["timeout"] >= 10 * heartbeat and cull["maxAge"] == 0


def test_hub_database_on_postgres_with_no_secret_in_the_values():
    """Is the hub database PostgreSQL, its password only in the operator's Secret, and no
    password written in any values or settings file?"""
    hub = values("values.yaml")["hub"]
    assert hub["db"]["type"] == "postgres"
    url = urlparse(hub["db"]["url"])
    assert url.password is None and url.username is None  # from PGUSER / the Secret
    assert hub["existingSecret"] and not hub["db"].get("password")
    settings = load_settings(DEPLOY_SETTINGS)
    assert urlparse(settings.database_url).password is None
    for name in ("values.yaml", "values-examday.yaml", "settings.yaml"):
        assert secrets_in(load(DEPLOY / name)) == [], name


SECRET_KEYS = ("password", "apitoken", "api_token", "secret", "token", "keys")
REFERENCES = {"existingsecret", "secretkeyref", "secretname"}  # name a Secret, hold none


def secrets_in(node, path="") -> list[str]:
    """Paths of keys that hold a secret value (a name that says so, and a value set)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if (str(key).lower() not in REFERENCES and value not in (None, "", {})
                    and any(word in str(key).lower() for word in SECRET_KEYS)):
                found.append(where)
            found += secrets_in(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += secrets_in(item, f"{path}[{i}]")
    return found


def test_the_secret_scan_finds_a_written_secret():
    """Would the scan above see a password or token written in the values?"""
    assert secrets_in({"hub": {"db": {"password": "x"}, "existingSecret": "kns-hub",
                               "services": {"a": {"apiToken": "y"}}}}) == [
        ".hub.db.password", ".hub.services.a.apiToken"]


def chart_services(merged: dict) -> list[dict]:
    """c.JupyterHub.services as the chart's hub configuration fills it from these values."""
    entries = [{"name": key, **entry, "api_token": f"t-{key}"} for key, entry in merged["hub"]["services"].items()]
    if merged["cull"]["enabled"]:
        entries.append({"name": CULLER_SERVICE, "command": ["python3", "-m", "jupyterhub_idle_culler"]})
    return entries


def manifests() -> list[dict]:
    return [doc for path in sorted((DEPLOY / "services").glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_hub_services_are_the_platforms_at_their_kubernetes_services(tmp_path):
    """Does every service apply_config defines have a hub.services entry (its token), at the
    URL the settings give, served by a Service of ours on that port, whose Deployment reads
    that service's token from the chart's Secret?"""
    merged = values("values.yaml")
    settings = load_settings(DEPLOY_SETTINGS, overrides={"state_dir": str(tmp_path)})
    env = HubEnvironment(is_root=False, templates_dir=tmp_path, proxy_command=[],
                         exams_course="/var/lib/kynangso/exams/kiem-tra-nang-luc",
                         chart_services=chart_services(merged))
    c = Config()
    apply_config(settings, c, env)  # raises if a service has no hub.services entry
    configured = {s["name"]: s for s in c.JupyterHub.services}
    declared = {entry.get("name", key): entry for key, entry in merged["hub"]["services"].items()}
    keys = set(merged["hub"]["services"])  # the token's key in the chart's Secret follows the key
    assert set(declared) == (set(configured) - {CULLER_SERVICE}) | {"reports"}
    docs = manifests()
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    tokens = {env_var["valueFrom"]["secretKeyRef"]["key"]
              for d in docs if d["kind"] == "Deployment"
              for container in d["spec"]["template"]["spec"]["containers"]
              for env_var in container["env"] if env_var["name"] == "JUPYTERHUB_API_TOKEN"}
    assert tokens == {f"hub.services.{key}.apiToken" for key in keys}
    for name, entry in declared.items():
        if name in configured:
            assert configured[name].get("url") == entry.get("url"), name
        if "url" in entry:
            url = urlparse(entry["url"])
            service = services[url.hostname]
            assert [p["port"] for p in service["spec"]["ports"]] == [url.port], name


def test_learners_servers_reach_the_desk_progress_and_signing_only():
    """Does the singleuser egress open exactly the three services a server calls, on their
    ports, to pods that our Deployments label so, and nothing else in or out of the cluster?"""
    policy = values("values.yaml")["singleuser"]["networkPolicy"]
    assert policy["enabled"]
    assert not policy["egressAllowRules"]["privateIPs"] and not policy["egressAllowRules"]["nonPrivateIPs"]
    opened = {}
    for rule in policy["egress"]:
        [target] = rule["to"]
        opened[target["podSelector"]["matchLabels"]["app.kubernetes.io/component"]] = [
            p["port"] for p in rule["ports"]]
    ports = load_settings(DEPLOY_SETTINGS)["services"]
    assert opened == {"exams": [ports["exams_port"]], "progress": [ports["progress_port"]],
                      "signing": [ports["signing_port"]]}
    pods = {d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]: d
            for d in manifests() if d["kind"] == "Deployment"}
    for component, [port] in opened.items():
        [container] = pods[component]["spec"]["template"]["spec"]["containers"]
        assert [p["containerPort"] for p in container["ports"]] == [port]


def test_service_pods_run_with_least_privilege():
    """Does every service run as a non-root account that cannot gain privileges, without the
    Kubernetes API, with every secret from a Secret (none written in the manifest), and may it
    reach the hub's API through the chart's NetworkPolicy?"""
    for d in manifests():
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, d["metadata"]["name"]
        # every service calls the hub's API: the chart's hub NetworkPolicy admits only this label
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert labels.get("hub.jupyter.org/network-access-hub") == "true", d["metadata"]["name"]
        for container in pod["containers"]:
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] and ctx["runAsUser"] >= 1000 and not ctx["allowPrivilegeEscalation"]
            assert ctx["capabilities"]["drop"] == ["ALL"]
            for env_var in container["env"]:
                if any(word in env_var["name"] for word in ("TOKEN", "PASSWORD", "SECRET")):
                    assert "value" not in env_var and "secretKeyRef" in env_var["valueFrom"], env_var


def test_exam_volume_is_shared_by_the_desk_the_worker_and_the_formgrader():
    """Is the exam root with its exchange share one ReadWriteMany volume that the desk's copies,
    the grading worker and the formgrader mount, the desk as its own uid (sharing the exchange's
    group, not the grader's course), reports read-only on the course folder alone?"""
    docs = manifests()
    [claim] = [d for d in docs if d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == "kns-exams"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    settings = load_settings(DEPLOY_SETTINGS)
    root, course = Path(settings["exams"]["root"]), settings["exams"]["course_id"]
    share = root.with_name(f"{root.name}-exchange")  # kynangso.exams.course.ExamPlaces.share
    writers, uids, groups = set(), {}, {}
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        name, pod = d["metadata"]["name"], d["spec"]["template"]["spec"]
        claims = {v["name"] for v in pod["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == "kns-exams"}
        [container] = pod["containers"]
        uids[name] = container["securityContext"]["runAsUser"]
        groups[name] = set(pod["securityContext"].get("supplementalGroups", []))
        for mount in container["volumeMounts"]:
            if mount["name"] not in claims:
                continue
            if mount.get("readOnly"):
                assert name == "kns-reports" and Path(mount["mountPath"]) == root / course
                assert mount["subPath"] == f"{root.name}/{course}"
            else:  # the whole volume: the root and its share beside it
                assert root.parent == share.parent == Path(mount["mountPath"]) and "subPath" not in mount
                writers.add(name)
    assert writers == {"kns-exams", "kns-exams-worker", "kns-formgrader"}
    assert uids["kns-exams-worker"] == uids["kns-formgrader"] != uids["kns-exams"]
    exchange = groups["kns-exams"]
    assert exchange and exchange <= groups["kns-exams-worker"] == groups["kns-formgrader"]
    assert groups["kns-reports"] <= groups["kns-exams-worker"] and not groups["kns-reports"] & exchange


def test_service_manifests_pass_the_kubernetes_schemas():
    """Would the API server's schema accept every manifest (strict: no unknown field)?"""
    docs = manifests()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "PersistentVolumeClaim", "NetworkPolicy"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    broken = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_values_and_settings_agree_where_both_name_a_fact():
    """Where the chart and the platform each need a fact (URL prefix, the home's mount, the
    learners' uid, the culler), do values.yaml, settings.yaml and the learners' image agree?"""
    merged, settings = values("values.yaml"), load_settings(DEPLOY_SETTINGS)
    assert merged["hub"]["baseUrl"] == settings["hub"]["base_url"]
    assert merged["singleuser"]["storage"]["homeMountPath"] == settings["kubernetes"]["home"]
    assert merged["cull"]["enabled"] == settings["culler"]["enabled"]
    assert settings["spawner"] == "kubernetes"
    # null: the chart's singleuser values are the one place for image, volume and resources
    assert all(settings["kubernetes"][key] is None for key in
               ("image", "storage_capacity", "cpu_guarantee", "cpu_limit", "memory_guarantee", "memory_limit"))
    dockerfile = (ROOT / "deploy" / "images" / "singleuser.Dockerfile").read_text()
    assert f"useradd --uid {merged['singleuser']['uid']} --gid {merged['singleuser']['fsGid']}" in dockerfile
    assert f"--home-dir {settings['kubernetes']['home']} " in dockerfile
    image = merged["singleuser"]["image"]["name"]
    assert image.endswith("/singleuser") and merged["hub"]["image"]["name"].endswith("/services")
