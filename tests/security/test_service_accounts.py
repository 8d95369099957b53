"""Hub services as the attacker sees them: who runs them, and what secrets a learner can read.

Issue 13, parts 2 and 3. Run as root against the session's real isolated hub (`hub` fixture):
the services (progress, signing, reports with its Voilà and kernels, the idle culler, the admin
app) must run
as their own unprivileged accounts, and a learner's Unix account, reading every process's
command line and every file under the state folder, the exam root and /var/lib/kynangso, must
find none of the hub's secrets (collected here as root from the state folder and from the
services' environments).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from kynangso.exams.course import places
from kynangso.hub.harness import open_lab
from kynangso.hub.system_accounts import service_account

pytestmark = [pytest.mark.hub,
              pytest.mark.skipif(os.geteuid() != 0, reason="service accounts need a root hub")]

DASHBOARD = "/services/reports/voila/render/tong-quan.ipynb"
# How each service's process is recognised in /proc/<pid>/cmdline.
SERVICES = {
    "progress": "kynangso.progress.service",
    "signing": "sandbox.signing.service",
    "reports": "reports.service",
    "jupyterhub-idle-culler": "jupyterhub_idle_culler",
    "admin": "kynangso.admin.service",
}
SECRET_NAMES = ("TOKEN", "SECRET", "KEY", "PASSWORD")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {k: v for k, _, v in pairs}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _exists(account: str) -> bool:
    try:
        pwd.getpwnam(account)
    except KeyError:
        return False
    return True


def _uid(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return -1  # gone
    for line in text.splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[2])  # the effective uid
    raise AssertionError(f"no Uid line for {pid}")


def service_processes(hub) -> dict[str, int]:
    """pid of each service process of this hub (its children are the hub process's)."""
    found = {}
    for pid in _descendants(hub.proc.pid):
        args = " ".join(_cmdline(pid))
        for name, marker in SERVICES.items():
            if f"-m {marker}" in args:
                found[name] = pid
    return found


@pytest.fixture
def hr_opened_a_dashboard(hub, login):
    """HR has opened a dashboard, so Voilà has a kernel for it; a learner's server runs."""
    r = login("nhansu01").get(hub.url + DASHBOARD, timeout=300)
    assert r.status_code == 200, r.status_code
    learner = login("hocvien01")
    open_lab(hub, learner, "hocvien01")
    return True


def test_each_service_runs_as_its_own_unprivileged_account(hub, hr_opened_a_dashboard):
    """Attack: a bug in a hub service (or in a dashboard's code) is a bug as root. Every
    service, and Voilà and its kernels under reports, must run as the service's own account."""
    procs = service_processes(hub)
    assert set(procs) == set(SERVICES), (procs, hub.log()[-3000:])
    uids = {}
    for name, pid in procs.items():
        uid = _uid(pid)
        owner = pwd.getpwuid(uid).pw_name
        assert uid != 0, f"{name} (pid {pid}) runs as root"
        assert owner == service_account(hub.settings, name), (name, owner)
        uids[name] = uid
    assert len(set(uids.values())) == len(uids), f"services share an account: {uids}"
    below = _descendants(procs["reports"])
    voila = [p for p in below if "voila" in " ".join(_cmdline(p))]
    # The dashboards' kernel is ipykernel without its debugger (reports.kernel).
    kernels = [p for p in below if "reports.kernel" in _cmdline(p)]
    assert voila and kernels, [(p, _cmdline(p)) for p in below]
    for pid in voila + kernels:
        assert _uid(pid) == uids["reports"], (pid, _cmdline(pid), _uid(pid))


def test_proxy_runs_as_its_own_account_without_capabilities(hub):
    """Attack: configurable-http-proxy parses every request from the network; as root, a bug in
    it (or in node) is root. It must run as its own account, with no capability left."""
    proxies = [p for p in _descendants(hub.proc.pid)
               if any("configurable-http-proxy" in a for a in _cmdline(p)[:3])]
    assert proxies, hub.log()[-3000:]
    for pid in proxies:
        assert pwd.getpwuid(_uid(pid)).pw_name == service_account(hub.settings, "proxy"), _cmdline(pid)
        status = Path(f"/proc/{pid}/status").read_text()
        for field in ("CapEff", "CapPrm", "CapBnd"):
            value = next(line.split()[1] for line in status.splitlines() if line.startswith(field + ":"))
            assert int(value, 16) == 0, (field, value)


def _secrets(hub) -> dict[str, str]:
    """Every secret of this hub, read as root: label -> value."""
    found: dict[str, str] = {}
    state = hub.settings.state_dir
    for path in (state / "hub").glob("*"):
        if path.name.endswith(("secret", ".token")) and path.is_file():
            found[f"file {path}"] = path.read_bytes().hex() if "cookie" in path.name else path.read_text().strip()
    for path in state.rglob("*"):
        if path.is_file() and b"PRIVATE KEY-----" in path.read_bytes()[:200]:
            body = path.read_text().splitlines()
            found[f"key {path}"] = max(body, key=len)  # one whole line of the key's base64
    learners = {pwd.getpwnam(hub.unix_name(u)).pw_uid for u in hub.passwords if _exists(hub.unix_name(u))}
    for pid in [hub.proc.pid, *_descendants(hub.proc.pid)]:
        if _uid(pid) in learners:  # a learner's own server holds only that learner's token
            continue
        args = _cmdline(pid)
        for name, value in _environ(pid).items():
            if any(word in name for word in SECRET_NAMES) and len(value) >= 16:
                found[f"env {name} of {' '.join(args[:3])}"] = value
        for arg in args:  # e.g. --Voila.token=... (the old reports service)
            key, eq, value = arg.partition("=")
            if eq and any(w.lower() in key.lower() for w in SECRET_NAMES) and len(value) >= 16:
                found[f"argv {key}"] = value
    assert any("TOKEN" in label for label in found), found.keys()
    assert any(label.startswith("key ") for label in found), "the training CA's key was not found"
    return found


# The attacker's script: run as a learner's Unix account. It reads what it can and says which
# of the secrets (given on stdin, as a test harness does) it has seen, and where.
ATTACK = r"""
import json, os, sys
secrets = json.load(sys.stdin)
roots = sys.argv[1:]
seen = []
def look(where, data):
    for label, value in secrets.items():
        for form in (value.encode(), value.encode().hex().encode()):
            if form and form in data:
                seen.append([label, where])
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            look(f"/proc/{pid}/cmdline", open(f"/proc/{pid}/cmdline", "rb").read())
        except OSError:
            pass
        try:
            look(f"/proc/{pid}/environ", open(f"/proc/{pid}/environ", "rb").read())
        except OSError:
            pass
for root in roots:
    for folder, dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as f:
                    look(path, f.read(50_000_000))
            except OSError:
                pass
print(json.dumps(seen))
"""


def test_learner_finds_no_secret(hub, hr_opened_a_dashboard):
    """Attack: a learner reads every process's command line (and environment) in /proc and
    every file it can open under the state folder, the exam root and /var/lib/kynangso,
    looking for a hub token, the cookie secret, Voilà's token or the training CA's key."""
    secrets = _secrets(hub)
    learner = hub.unix_name("hocvien01")
    roots = [str(hub.settings.state_dir), str(places(hub.settings, True).root), "/var/lib/kynangso"]
    out = subprocess.run(["runuser", "-u", learner, "--", "/usr/bin/python3", "-c", ATTACK, *roots],
                         input=json.dumps(secrets), capture_output=True, text=True, timeout=600,
                         cwd="/")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert not seen, "the learner read secrets:\n" + "\n".join(f"{label} at {where}" for label, where in seen)


def test_no_secret_on_any_command_line(hub, hr_opened_a_dashboard):
    """Attack: /proc/<pid>/cmdline is world-readable whatever the uid; no process of the hub
    may carry a secret there."""
    secrets = _secrets(hub)
    bad = []
    for pid in [hub.proc.pid, *_descendants(hub.proc.pid)]:
        args = " ".join(_cmdline(pid))
        bad += [f"{label} in pid {pid}: {args[:120]}" for label, value in secrets.items() if value in args]
    assert not bad, "\n".join(bad)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def _can_read(account: str, path: Path) -> bool:
    done = subprocess.run(["runuser", "-u", account, "--", "/usr/bin/python3", "-c",
                           "import sys; open(sys.argv[1], 'rb').read(1)", str(path)],
                          capture_output=True, timeout=60, cwd="/")
    return done.returncode == 0


def test_only_the_signing_account_reads_the_ca_key(hub, hr_opened_a_dashboard):
    """Attack: another service (a dashboard's kernel under reports, progress) or a learner
    reads the training CA's private key. Only the signing account may."""
    keys = [p for p in (hub.settings.state_dir / "pki").rglob("*")
            if p.is_file() and b"PRIVATE KEY-----" in p.read_bytes()[:200]]
    assert keys, "the training CA's keys were not found"
    grader = hub.settings["exams"]["grader_account"]
    others = [service_account(hub.settings, s) for s in ("progress", "reports", "jupyterhub-idle-culler")]
    others.append(grader)
    # The grader grades the signing exam against the CA's public part and registry.
    public = [hub.settings.state_dir / "pki" / "ca" / "root.pem", hub.settings.state_dir / "pki" / "registry.sqlite"]
    for path in public:
        assert not path.exists() or _can_read(grader, path), f"the grader cannot read {path}"
    for key in keys:
        assert _can_read(service_account(hub.settings, "signing"), key), key
        for account in [*others, hub.unix_name("hocvien01")]:
            assert not _can_read(account, key), f"{account} read {key}"


def test_reports_reads_its_data_and_not_the_hub_state(hub, hr_opened_a_dashboard):
    """Attack: code in a dashboard kernel (the reports account) reads the hub's cookie secret,
    its database or its tokens. It must read the platform database and the exam gradebook
    (its job), and nothing under the hub's own state folder."""
    reports = service_account(hub.settings, "reports")
    state = hub.settings.state_dir
    assert _can_read(reports, state / "kynangso.sqlite")
    hub_files = [p for p in (state / "hub").rglob("*") if p.is_file()]
    assert any(p.name == "jupyterhub_cookie_secret" for p in hub_files), hub_files
    for path in hub_files:
        assert not _can_read(reports, path), f"reports read {path}"
    course = places(hub.settings, True).course
    source = [p for p in (course / "source").rglob("*.ipynb")]
    assert source and all(_can_read(reports, p) for p in source)
    if (course / "gradebook.db").exists():
        assert _can_read(reports, course / "gradebook.db")
