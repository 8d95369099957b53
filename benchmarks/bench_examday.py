"""Exam day on this machine (issue 16, part 5): N learners, one window, faults, then grading.

A real hub (configurable-http-proxy, its database and the platform's on a throwaway PostgreSQL
server), N learners imported into the staff directory in one file (the hub loads them as users
at its start) and each given a hub token by an admin through the hub's REST API, with the scope
a learner's server token has for the desk (`access:services!service=exams`). A tiny exam (one
notebook, two tests) is released through the desk's own page by an instructor's token, and a
window is opened for group `hocvien` with the windows API (what `kns exam open` calls: this hub
does not isolate users, so the command and the desk's page refuse to open a window, rightly).

The learners (asyncio, tornado's HTTP client) fetch early in the window, answer in their copy of
the notebook (three in four correctly, the others half), and submit at times spread over the
window, half in its last 5 (scaled) minutes; one in five submits a first draft earlier. They call
the desk copies directly over loopback as learners' servers do (KNS_EXAMS_URL), round-robin
across copies as a Kubernetes Service spreads connections, and press again with a backoff on a
connection error or a 5xx. Desk copy 0 is the hub's managed `exams` service; the others are
processes started here with the managed copy's environment (its hub token included), as the
replicas of one Deployment share one Secret.

Faults: the hub is stopped and started again mid-window (same databases: tokens stay valid);
one desk copy is SIGKILLed during the last minutes' rush and comes back (a copy of ours after
KNS_BENCH_EXAMDAY_RESTART_S, the hub's own at its next poll); after the window the instructor
asks for grading and the worker that claimed it is SIGKILLed with its whole process tree (a
host dying) while `kns grade` runs; the other worker (or the hub's, restarted) must finish.

Report: submissions accepted, lost (accepted but missing from the exchange, or not graded as
the learner's latest), duplicated (a submission stored or recorded twice), latencies, retried
errors, grading throughput, the CPU of every kind of process in each phase, and a sizing for
2,000 learners in one 40-minute window, computed from the figures measured here.

Settings (environment): KNS_BENCH_EXAMDAY_N (learners, default 200), KNS_BENCH_EXAMDAY_DESKS
(desk copies, default 2), KNS_BENCH_EXAMDAY_WINDOW_S (the 40-minute window in real seconds,
whole minutes, default 120), KNS_BENCH_EXAMDAY_FAULTS (default `hub,desk,worker`; empty: none),
KNS_BENCH_EXAMDAY_WORKERS (grading workers beside the hub's, default 1),
KNS_BENCH_EXAMDAY_RESTART_S (default 2), KNS_BENCH_EXAMDAY_STALL_S (grading given up when no
grading process has run for this long while the job is unfinished, default 120).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import requests

EXAM = "ngay-thi"
SCALED_MINUTES = 40  # the window being simulated
RUSH_MINUTES = 5  # half the learners submit in the window's last 5 minutes
TARGET_LEARNERS = 2000  # issue 16: 1,000–2,000 learners in one 40-minute window
HUB_STAFF = {
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
}
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Quân", "Sơn",
         "Tâm", "Thảo", "Trung", "Vân"]
ANSWERS = {"correct": "def tong(a, b):\n    return a + b\n",
           "partial": "def tong(a, b):\n    return a + b if a > 0 else 1\n"}
EXPECTED = {"correct": 2.0, "partial": 1.0}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


# --- the exam ----------------------------------------------------------------------------------

def exam_notebook() -> nbformat.NotebookNode:
    """One nbgrader notebook: a function to write, two tests of one point each."""
    def meta(**kw):
        return {"nbgrader": {"schema_version": 3, "locked": False, "solution": False, "grade": False,
                             **kw}}

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Ngày thi: bài ngắn\n\nViết hàm `tong(a, b)` trả về tổng hai số.",
                                      metadata=meta(grade_id="de-bai", locked=True)),
        nbformat.v4.new_code_cell("def tong(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n"
                                  "    ### END SOLUTION", metadata=meta(grade_id="tra-loi", solution=True)),
        nbformat.v4.new_code_cell("assert tong(2, 3) == 5", metadata=meta(
            grade_id="kiem-tra-1", grade=True, locked=True, points=1)),
        nbformat.v4.new_code_cell("assert tong(-1, 1) == 0", metadata=meta(
            grade_id="kiem-tra-2", grade=True, locked=True, points=1)),
    ]
    return nb


def answered(files: list[dict], quality: str) -> list[dict]:
    """The fetched files with the learner's answer typed into the solution cell (what the
    learner's server holds when they press submit), and the exam-info file the server adds."""
    out = []
    for item in files:
        data = base64.b64decode(item["data"])
        if item["path"] == f"{EXAM}.ipynb":
            nb = json.loads(data)
            for cell in nb["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                    cell["source"] = ANSWERS[quality]
            data = json.dumps(nb, ensure_ascii=False).encode()
        out.append({"path": item["path"], "data": base64.b64encode(data).decode("ascii")})
    return out


# --- processes ---------------------------------------------------------------------------------

KINDS = ("hub", "proxy", "desk", "desk (starting)", "worker", "grading", "postgres", "services",
         "learners (this process)", "other")


def _kind(cmd: str) -> str:
    if "kynangso.exams.service" in cmd:
        return "desk"
    if "kynangso.exams.worker" in cmd:
        return "worker"
    if "kynangso.hub.app" in cmd or "jupyterhub" in cmd.split(" ")[0]:
        return "hub"
    if "configurable-http-proxy" in cmd:
        return "proxy"
    if cmd.startswith("postgres") or "/postgres " in cmd or cmd.startswith("/usr/lib/postgresql"):
        return "postgres"
    return ""


def classify(procs: dict[int, dict], me: int, roots: set[int]) -> dict[int, str]:
    """pid -> kind. Only processes below `roots` (this process, our PostgreSQL server) are ours:
    others on this shared machine run hubs and desks too, and are `other`. Below a worker,
    processes of no known kind are `grading`; other processes of ours are `services`."""
    kinds: dict[int, str] = {}
    mine: dict[int, bool] = {}

    def ours(pid: int, depth: int = 0) -> bool:
        if pid not in mine:
            info = procs.get(pid)
            mine[pid] = pid in roots or bool(info and info["ppid"] and depth < 40
                                              and ours(info["ppid"], depth + 1))
        return mine[pid]

    def kind_of(pid: int, depth: int = 0) -> str:
        if pid in kinds:
            return kinds[pid]
        info = procs.get(pid)
        if info is None or depth > 40 or not ours(pid):
            return "other"
        found = "learners (this process)" if pid == me else _kind(" ".join(info["cmdline"] or []))
        if not found:
            parent = kind_of(info["ppid"], depth + 1) if info["ppid"] else "other"
            found = "grading" if parent in ("worker", "grading") else "services"
        kinds[pid] = found
        return found

    for pid in procs:
        kind_of(pid)
    return kinds


class Sampler:
    """CPU seconds and resident memory of each kind of process, per phase, from psutil every
    second. Descendants of a grading worker (nbgrader, kns grade, sandboxed kernels) are
    `grading`; processes this simulation does not know are `other` (the machine is shared)."""

    def __init__(self):
        self.phase = "setup"
        self.roots = {os.getpid()}  # and our PostgreSQL server's, once it runs
        self.cpu: dict[str, Counter] = defaultdict(Counter)
        self.wall: Counter = Counter()
        self.machine: Counter = Counter()  # phase -> the machine's busy CPU seconds
        self.peak_rss: dict[str, Counter] = defaultdict(Counter)  # phase -> kind -> bytes
        self.grade_runs: dict[int, list[float]] = {}  # pid of `kns grade` -> [first, last seen]
        self._last: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        previous = time.monotonic()
        busy = self._busy()
        while not self._stop.wait(1.0):
            now = time.monotonic()
            self.wall[self.phase] += now - previous
            previous = now
            # The whole machine's busy CPU: processes that live less than a sample's second
            # (a grading kernel) are missed one by one but counted here.
            busy, before = self._busy(), busy
            self.machine[self.phase] += busy - before
            try:
                self._sample(now)
            except Exception as exc:  # noqa: BLE001 - a figure missing, not the run
                progress(f"CPU sample failed: {exc!r}")

    def _sample(self, now: float) -> None:
        me = os.getpid()
        procs = {}
        for p in psutil.process_iter(["pid", "ppid", "cmdline", "cpu_times", "memory_info",
                                      "create_time"]):
            procs[p.info["pid"]] = p.info
        kinds = classify(procs, me, self.roots)
        rss = Counter()
        for pid, info in procs.items():
            kind = kinds.get(pid, "other")
            if kind == "desk" and (info["create_time"] or 0) > time.time() - 15:
                kind = "desk (starting)"  # imports and start: not the cost of a request
            times = info["cpu_times"]
            if times is None:
                continue
            total = times.user + times.system
            key = (pid, info["create_time"] or 0)
            before = self._last.get(key)
            # A process seen for the first time: its CPU so far counts if it started now.
            start = before if before is not None else (
                0.0 if (info["create_time"] or 0) > time.time() - 1.5 else total)
            self.cpu[self.phase][kind] += max(0.0, total - start)
            self._last[key] = total
            if info["memory_info"]:
                rss[kind] += info["memory_info"].rss
            cmd = info["cmdline"] or []
            if kind == "grading" and "grade" in cmd and "--json" in cmd:
                seen = self.grade_runs.setdefault(pid, [now, now])
                seen[1] = now
        for kind, value in rss.items():
            self.peak_rss[self.phase][kind] = max(self.peak_rss[self.phase][kind], value)

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def unseen(self, phase: str) -> float:
        """Busy CPU of the machine that no sampled process accounts for (short-lived ones)."""
        return max(0.0, self.machine[phase] - sum(self.cpu[phase].values()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def processes(cmd_part: str, ancestor: int | None = None) -> list[psutil.Process]:
    """Our live processes whose command line holds `cmd_part`: below `ancestor`, by default
    this process (others on this machine run desks and workers too: never touch theirs)."""
    found = []
    for p in psutil.Process(ancestor or os.getpid()).children(recursive=True):
        try:
            if cmd_part in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            continue
    return found


def kill_tree(proc: psutil.Process) -> None:
    """SIGKILL a process and everything below it at once, as when its host dies."""
    try:
        tree = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return
    for p in tree:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass


@dataclass
class Copy:
    """A process started here: a desk copy or a grading worker."""

    cmd: list[str]
    env: dict
    cwd: str
    log: Path
    url: str = ""
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = self.log.open("a")
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_port(url: str, token: str, timeout: float = 120) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if requests.get(url + "api/exams", headers={"Authorization": f"token {token}"},
                            timeout=5).status_code == 200:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"desk copy {url} did not answer in {timeout} s")


# --- learners ----------------------------------------------------------------------------------

@dataclass
class Stats:
    fetch_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)  # one request that was accepted
    press_ms: list[float] = field(default_factory=list)  # first press to accepted, retries included
    errors: Counter = field(default_factory=Counter)  # (what, status or error) -> count
    accepted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    late: int = 0
    refused: Counter = field(default_factory=Counter)
    gave_up: list[str] = field(default_factory=list)
    quality: dict[str, str] = field(default_factory=dict)
    presses: int = 0


class Desks:
    """Round-robin over the desk copies' URLs, as a Service spreads new connections."""

    def __init__(self, urls: list[str]):
        self.urls, self.n = urls, 0

    def next(self) -> str:
        self.n += 1
        return self.urls[self.n % len(self.urls)]


async def call(client, desks: Desks, stats: Stats, what: str, method: str, path: str, token: str,
               body: dict | None, give_up_at: float):
    """One learner's press: retried on a connection error or a 5xx with a backoff (the learner
    presses again), until accepted, refused (4xx), or past `give_up_at`. (status, body)."""
    from tornado.httpclient import HTTPRequest

    payload = None if body is None else json.dumps(body)
    delay, first = 1.0, time.monotonic()
    while True:
        start = time.monotonic()
        request = HTTPRequest(desks.next() + path, method=method, body=payload,
                              headers={"Authorization": f"token {token}",
                                       "Content-Type": "application/json"},
                              connect_timeout=10, request_timeout=120)
        try:
            response = await client.fetch(request, raise_error=False)
            code = response.code
        except Exception as exc:  # noqa: BLE001 - refused, reset, timeout: the learner presses again
            code, response = None, None
            stats.errors[(what, type(exc).__name__)] += 1
        if code is not None and code < 500 and code != 599:
            ms = (time.monotonic() - start) * 1000
            data = json.loads(response.body) if response.body else {}
            if code == 200:
                (stats.fetch_ms if what == "fetch" else stats.submit_ms).append(ms)
                if what == "submit":
                    stats.press_ms.append((time.monotonic() - first) * 1000)
            return code, data
        if code is not None:
            stats.errors[(what, code)] += 1
        if time.time() > give_up_at:
            return None, {}
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 8.0)


async def learner(client, desks: Desks, stats: Stats, name: str, token: str, plan: dict,
                  give_up_at: float) -> None:
    await asyncio.sleep(max(0.0, plan["fetch"] - time.time()))
    code, data = await call(client, desks, stats, "fetch", "GET", f"api/exams/{EXAM}", token, None,
                            give_up_at)
    if code != 200:
        stats.refused[("fetch", code)] += 1
        stats.gave_up.append(name)
        return
    files = data["files"] + [{"path": "exam-info.json", "data": base64.b64encode(
        json.dumps(data["info"], ensure_ascii=False).encode()).decode("ascii")}]
    for at, quality in plan["submits"]:
        await asyncio.sleep(max(0.0, at - time.time()))
        stats.presses += 1
        code, data = await call(client, desks, stats, "submit", "POST",
                                f"api/exams/{EXAM}/submissions", token,
                                {"files": answered(files, quality)}, give_up_at)
        if code == 200:
            stats.accepted[name].append(data["timestamp"])
            stats.quality[name] = quality
            stats.late += bool(data.get("late"))
        else:
            stats.refused[("submit", code)] += 1
            if code is None:
                stats.gave_up.append(name)


def plans(names: list[str], opens: float, window_s: float, seed: int = 16) -> dict[str, dict]:
    """When each learner fetches and submits: fetch in the first 4 (scaled) minutes; half submit
    in the last 5 minutes, the others between minute 10 and 35; one in five sends a draft first;
    one in four answers half right."""
    rnd = random.Random(seed)
    scale = window_s / SCALED_MINUTES
    out = {}
    for i, name in enumerate(names):
        fetch = opens + rnd.uniform(0.05, 4) * scale
        if i % 2 == 0:
            final = opens + rnd.uniform(SCALED_MINUTES - RUSH_MINUTES, SCALED_MINUTES - 0.2) * scale
        else:
            final = opens + rnd.uniform(10, SCALED_MINUTES - RUSH_MINUTES) * scale
        quality = "partial" if i % 4 == 3 else "correct"
        submits = [(final, quality)]
        if i % 5 == 1:
            submits.insert(0, (opens + rnd.uniform(6, 9) * scale, "partial"))
        out[name] = {"fetch": fetch, "submits": submits}
    return out


# --- the run -----------------------------------------------------------------------------------

def staff_file(path: Path, n: int) -> list[str]:
    """HR's directory file for `n` learners (the platform's import reads it)."""
    names = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["Mã cán bộ", "Họ và tên", "Chức vụ", "Đơn vị", "Vai trò"])
        for i in range(n):
            code = f"HV{i + 1:05d}"
            full = f"{FAMILY[i % 10]} {MIDDLE[(i // 10) % 8]} {GIVEN[(i // 80) % 16]}"
            out.writerow([code, full, "Chuyên viên", f"Phòng {i % 20 + 1}", "hocvien"])
            names.append(code.lower())
    return names


async def make_tokens(hub_url: str, admin: str, users: dict[str, list[str]]) -> dict[str, str]:
    """One hub token per user, made by an admin through the hub's REST API, in batches."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    client = AsyncHTTPClient(force_instance=True, max_clients=16)
    tokens: dict[str, str] = {}

    async def one(name: str, scopes: list[str]) -> None:
        body = json.dumps({"note": "exam-day simulation", "expires_in": 6 * 3600, "scopes": scopes})
        for _ in range(5):
            r = await client.fetch(HTTPRequest(f"{hub_url}/hub/api/users/{name}/tokens", method="POST",
                                               body=body, headers={"Authorization": f"token {admin}"},
                                               request_timeout=120), raise_error=False)
            if r.code == 201:
                tokens[name] = json.loads(r.body)["token"]
                return
            await asyncio.sleep(1)
        raise RuntimeError(f"no token for {name}: {r.code} {r.body[:300]!r}")

    names = list(users)
    for i in range(0, len(names), 64):
        await asyncio.gather(*(one(n, users[n]) for n in names[i:i + 64]))
    client.close()
    return tokens


def progress(message: str) -> None:
    """Where a long run is, on stderr (the report comes at the end)."""
    print(f"[examday {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def sql(url: str, query: str, **params) -> list:
    """Read the platform database (the desk's own records) with plain SQL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params))
    finally:
        engine.dispose()


def run(n: int = 200, desks: int = 2, window_s: int = 120, faults: frozenset = frozenset(
        {"hub", "desk", "worker"}), extra_workers: int = 1, restart_s: float = 2.0,
        stall_s: float = 120, out=print) -> dict:
    """One simulated exam day; prints its report through `out` and returns its figures."""
    from kynangso import db
    from kynangso.exams import windows  # the windows API: what `kns exam open` calls
    from kynangso.hub.harness import api_token, free_port, launch_hub, log_in
    from kynangso.pgcluster import Cluster
    from kynangso.run import start_hub, stop_hub, wait_for_login_page
    from kynangso.staff.importer import import_file

    minutes = max(1, round(window_s / 60))  # a window lasts whole minutes
    window_s = minutes * 60
    base = Path(tempfile.mkdtemp(prefix="kns-examday-"))
    prefix = f"knsd{secrets.token_hex(2)}-"
    sampler = Sampler()
    copies: list[Copy] = []
    workers: list[Copy] = []
    cluster = hub = None
    setup: dict[str, float] = {}
    events: list[str] = []
    t_run = time.monotonic()
    result: dict = {}
    try:
        # 1. Databases and the staff directory: one import of HR's file, before the hub starts.
        t0 = time.monotonic()
        cluster = Cluster(max_connections=300)
        platform_url, hub_db_url = cluster.create("kns"), cluster.create("hub")
        # pg_ctl detaches the server from us: its postmaster is a root of ours too.
        sampler.roots.add(int((cluster.data / "postmaster.pid").read_text().split()[0]))
        db.upgrade(platform_url)
        names = staff_file(base / "staff.csv", n)
        import_file(base / "staff.csv", platform_url)
        setup["PostgreSQL + staff import"] = time.monotonic() - t0
        progress("staff imported; starting the hub")

        # 2. The hub, which loads the N learners as users of group hocvien at its start.
        t0 = time.monotonic()
        extra = {"database": {"url": platform_url}, "hub": {"db_url": hub_db_url},
                 "lab": {"advanced_learners": []}}  # learners on the learner app: no exam-mode restart
        hub = launch_hub(base, {"mode": "none", "user_prefix": prefix}, HUB_STAFF, extra)
        setup["hub start (N users loaded)"] = time.monotonic() - t0
        progress("hub up; making tokens")
        settings = hub.settings
        course_id = settings["exams"]["course_id"]
        course_dir = Path(settings["exams"]["root"]) / course_id
        desk0 = f"http://127.0.0.1:{settings['services']['exams_port']}/services/exams/"

        # 3. Tokens: an admin's, then one per learner and the instructor's, through the REST API.
        t0 = time.monotonic()
        admin = api_token(hub, log_in(hub, "quantri").session, "quantri")
        wanted = {name: ["access:services!service=exams"] for name in names}
        wanted["giangvien01"] = ["access:services!service=exams", "custom:exams:manage"]
        tokens = asyncio.run(make_tokens(hub.url, admin, wanted))
        teacher = tokens.pop("giangvien01")
        setup[f"{len(tokens)} learner tokens (REST API)"] = time.monotonic() - t0

        # 4. The exam: its source in the course, released by the instructor on the desk's page.
        t0 = time.monotonic()
        source = course_dir / "source" / EXAM
        source.mkdir(parents=True, exist_ok=True)
        nbformat.write(exam_notebook(), source / f"{EXAM}.ipynb")
        outbound = Path(settings["exams"]["root"]) / "exchange" / course_id / "outbound" / EXAM
        deadline = time.monotonic() + 300
        while not outbound.is_dir():
            if time.monotonic() > deadline:
                raise RuntimeError("the exam was not released in 300 s:\n" + hub.log()[-3000:])
            # Refused while the worker has not yet listed the new source (it looks every 2 s).
            requests.post(desk0, data={"action": "release", "exam": EXAM},
                          headers={"Authorization": f"token {teacher}"}, timeout=60)
            for _ in range(20):
                if outbound.is_dir():
                    break
                time.sleep(0.5)
        setup["exam released (desk page, worker)"] = time.monotonic() - t0

        # 5. The other desk copies and grading workers, with the managed ones' environment.
        managed_desk = processes("kynangso.exams.service", hub.proc.pid)[0]
        desk_env = managed_desk.environ()
        urls = [desk0]
        for i in range(1, desks):
            port = free_port()
            env = {**desk_env, "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}"}
            copy = Copy([sys.executable, "-m", "kynangso.exams.service"], env, "/",
                        base / f"desk{i}.log", url=f"http://127.0.0.1:{port}/services/exams/")
            copy.start()
            copies.append(copy)
            urls.append(copy.url)
        worker_env = processes("kynangso.exams.worker", hub.proc.pid)[0].environ()
        for i in range(extra_workers):
            w = Copy([sys.executable, "-m", "kynangso.exams.worker"], worker_env, str(course_dir),
                     base / f"worker{i}.log")
            w.start()
            workers.append(w)
        some_token = next(iter(tokens.values()))
        for url in urls:
            wait_port(url, some_token)

        # 6. The window, from now for `minutes` (the desk's clock and ours are this machine's).
        window = windows.open_window(platform_url, course_id, EXAM, "hocvien", minutes,
                                     "accept_zero", by="bench:examday")
        opens, closes = window.opens_at.timestamp(), window.closes_at.timestamp()
        sampler.phase = "exam"
        progress(f"window open for {window_s} s")
        stats = Stats()
        downtime: dict[str, float] = {}

        def restart_hub() -> None:
            t = time.monotonic()
            stop_hub(hub.proc)
            hub.proc = start_hub(settings, log_file=hub.log_path.open("a"),
                                 extra_env={"KNS_SETTINGS": str(hub.settings_file)})
            wait_for_login_page(hub.url, hub.proc, timeout=480)
            downtime["hub (stop, start, login page)"] = time.monotonic() - t

        def kill_desk() -> None:
            t = time.monotonic()
            if copies:  # a copy of ours: back after restart_s, as a kubelet restarts a pod
                victim = copies[-1]
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait()
                time.sleep(restart_s)
                victim.start()
                wait_port(victim.url, some_token)
                downtime[f"desk copy {len(copies)} (SIGKILL, restarted here)"] = time.monotonic() - t
            else:  # the hub's own copy: the hub starts it again at its next poll
                kill_tree(processes("kynangso.exams.service", hub.proc.pid)[0])
                time.sleep(1)
                wait_port(desk0, some_token, timeout=300)
                downtime["desk copy 0 (SIGKILL, restarted by the hub)"] = time.monotonic() - t

        async def at(when: float, what, label: str) -> None:
            await asyncio.sleep(max(0.0, when - time.time()))
            events.append(f"{label} at minute {(time.time() - opens) / window_s * SCALED_MINUTES:.1f}")
            try:
                await asyncio.to_thread(what)
            except Exception as exc:  # noqa: BLE001 - reported; the learners go on
                events.append(f"{label} FAILED: {exc!r}")

        async def exam_day() -> None:
            from tornado.httpclient import AsyncHTTPClient

            client = AsyncHTTPClient(force_instance=True, max_clients=max(10, min(n, 500)))
            give_up_at = closes + 300
            chosen = plans(names, opens, window_s)
            spread = Desks(urls)  # one counter for everyone, as a Service's round-robin
            tasks = [learner(client, spread, stats, name, tokens[name], chosen[name], give_up_at)
                     for name in names]
            chaos = []
            if "hub" in faults:
                chaos.append(at(opens + 0.4 * window_s, restart_hub, "hub restart"))
            if "desk" in faults:
                chaos.append(at(opens + 0.9 * window_s, kill_desk, "desk copy SIGKILL"))
            await asyncio.gather(*tasks, *chaos)
            client.close()

        t_exam = time.monotonic()
        asyncio.run(exam_day())
        exam_wall = time.monotonic() - t_exam
        while time.time() < closes + 1:
            time.sleep(0.5)

        # 7. Grading, asked for by the instructor on the desk's page; a worker dies mid-run.
        sampler.phase = "grading"
        progress("window closed; grading")
        t_grade = time.monotonic()
        r = requests.post(desk0, data={"action": "grade", "exam": EXAM},
                          headers={"Authorization": f"token {teacher}"}, timeout=60)
        events.append(f"grading asked: HTTP {r.status_code}")
        killed = False
        last_active = time.monotonic()
        stuck = False
        while True:
            graders = processes("--json")
            graders = [p for p in graders if "grade" in p.cmdline()]
            if graders or processes("nbgrader collect"):
                last_active = time.monotonic()
            if "worker" in faults and not killed and graders:
                time.sleep(1.5)  # let it grade some: mid-run
                for w in processes("kynangso.exams.worker"):
                    below = {c.pid for c in w.children(recursive=True)}
                    if any(g.pid in below for g in graders):
                        mine = next((c for c in workers if c.proc and c.proc.pid == w.pid), None)
                        kill_tree(w)
                        killed = True
                        events.append("grading worker SIGKILL (with its kns grade and kernels): "
                                      + ("one started here, replaced" if mine else "the hub's own"))
                        if mine:
                            mine.proc.wait()
                            mine.start()
                        break
            active = sql(platform_url, "SELECT count(*) FROM exam_jobs WHERE exam = :e AND kind = "
                         "'grade' AND status IN ('queued', 'running')", e=EXAM)[0][0]
            if not active:
                break
            if time.monotonic() - last_active > stall_s:
                stuck = True
                events.append(f"grading job still unfinished, no grading process for {stall_s:.0f} s: given up")
                break
            time.sleep(1)
        grade_wall = time.monotonic() - t_grade
        sampler.phase = "after"
        progress("grading over; checking")

        # 8. What was stored, recorded and graded, against what the learners were told.
        inbound = Path(settings["exams"]["root"]) / "exchange" / course_id / "inbound"
        stored = Counter()
        staging = 0
        for entry in os.listdir(inbound):
            if entry.startswith("."):
                staging += 1
                continue
            student, exam, stamp, _rnd = entry.split("+")
            if exam == EXAM:
                stored[(student, stamp)] += 1
        recorded = Counter((u, ts) for u, ts in sql(
            platform_url, "SELECT username, timestamp FROM exam_submissions WHERE exam = :e", e=EXAM))
        accepted = {(u, ts) for u, stamps in stats.accepted.items() for ts in stamps}
        lost_stored = accepted - set(stored)
        dup_stored = sum(c - 1 for c in stored.values() if c > 1) + sum(
            c - 1 for c in recorded.values() if c > 1)
        unacknowledged = set(stored) - accepted
        from nbgrader.api import Gradebook, MissingEntry

        graded, wrong_score, not_graded = 0, 0, []
        jobs_done = sql(platform_url, "SELECT status, count(*) FROM exam_jobs WHERE exam = :e AND "
                        "kind = 'grade' GROUP BY status", e=EXAM)
        from kynangso.exams.course import places

        # The course's own answer (SQLite in the course, or exams.gradebook_url where settable).
        with Gradebook(places(settings, False).gradebook_url, course_id=course_id) as gb:
            for name, stamps in stats.accepted.items():
                latest = max(ts for (u, ts) in stored if u == name) if any(
                    u == name for (u, _t) in stored) else max(stamps)
                try:
                    sub = gb.find_submission(EXAM, name)
                except MissingEntry:
                    not_graded.append(name)
                    continue
                got = sub.timestamp.replace(tzinfo=None) if sub.timestamp else None
                want = dt.datetime.strptime(latest, "%Y-%m-%d %H:%M:%S.%f %Z")
                # Graded: every test cell scored (a killed run leaves rows without scores).
                scored = all(g.auto_score is not None or g.manual_score is not None
                             for nb in sub.notebooks for g in nb.grades)
                if got != want or not scored:
                    not_graded.append(name)
                    continue
                graded += 1
                # The tests' score; accept_zero takes a late one's back as a separate penalty.
                if abs(sub.score - EXPECTED[stats.quality[name]]) > 1e-6:
                    wrong_score += 1
        learners_ok = len(stats.accepted)
        nb_graded = graded
        run_wall = time.monotonic() - t_run
        grade_runs = sorted(sampler.grade_runs.values())
        last_grade_s = (grade_runs[-1][1] - grade_runs[-1][0]) if grade_runs else float("nan")
        result = {
            "learners": n, "desks": desks, "window_s": window_s, "accepted": len(accepted),
            "learners_with_accepted": learners_ok, "lost": len(lost_stored) + len(not_graded),
            "lost_stored": len(lost_stored), "not_graded": len(not_graded),
            "duplicated": dup_stored, "unacknowledged": len(unacknowledged), "staging_left": staging,
            "graded": graded, "wrong_score": wrong_score, "stuck": stuck, "events": events,
        }

        # --- the report --------------------------------------------------------------------
        scale = window_s / SCALED_MINUTES
        out(f"exam day: {n} learners, {desks} desk cop{'y' if desks == 1 else 'ies'} on PostgreSQL, "
            f"{1 + extra_workers} grading workers, window {SCALED_MINUTES} min simulated in "
            f"{window_s} s (1 min = {scale:.1f} s), faults: {', '.join(sorted(faults)) or 'none'}")
        out("setup (before the exam, not part of it):")
        for label, s in setup.items():
            out(f"  {label:42s} {s:7.1f} s")
        out("faults:")
        for line in events:
            out(f"  {line}")
        for label, s in downtime.items():
            out(f"  down: {label}: {s:.1f} s")
        out(f"submissions: {stats.presses} presses, {len(accepted)} accepted ({stats.late} late) from "
            f"{learners_ok}/{n} learners; refused {dict(stats.refused) or 0}; "
            f"gave up {len(stats.gave_up)}")
        out(f"  LOST: {len(lost_stored)} accepted but not in the exchange, {len(not_graded)} learners "
            f"whose latest submission was not graded   (must be 0)"
            + ("; the grade job claimed by the killed worker was never taken up again" if stuck else ""))
        out(f"  DUPLICATED: {dup_stored} stored or recorded twice   (must be 0)")
        out(f"  stored but never acknowledged (the answer died with a desk copy; the retry stored "
            f"it again): {len(unacknowledged)}; staging folders left in inbound by a killed copy: "
            f"{staging}")
        out(f"  graded: {graded} learners, {wrong_score} with an unexpected score; grade jobs by "
            f"status: {dict((s, c) for s, c in jobs_done)}")
        out("latency (ms)      p50      p95      max    count")
        for label, values in (("fetch", stats.fetch_ms), ("submit", stats.submit_ms),
                              ("submit, press to accepted", stats.press_ms)):
            out(f"  {label:26s} {percentile(values, .5):7.0f}  {percentile(values, .95):7.0f}  "
                f"{max(values, default=float('nan')):7.0f}  {len(values):6d}")
        out(f"errors seen by learners and retried: {sum(stats.errors.values())} "
            f"{dict(sorted((f'{w} {c}', k) for (w, c), k in stats.errors.items()))}")
        # Only a run that finished the job says how fast grading goes.
        nb_s = (nb_graded / last_grade_s) if nb_graded and not stuck and last_grade_s == last_grade_s \
            and last_grade_s > 0 else float("nan")
        out(f"grading: {nb_graded} notebooks; grade job {grade_wall:.1f} s from the instructor's "
            f"request; the last `kns grade` run {last_grade_s:.1f} s: {nb_s:.2f} notebooks/s")
        out("CPU seconds by process kind (cores used = CPU s / wall s):")
        for phase in ("exam", "grading"):
            wall = max(sampler.wall[phase], 1e-9)
            used = sampler.cpu[phase]
            top = ", ".join(f"{k} {used[k]:.1f} ({used[k] / wall:.2f})" for k in KINDS if used[k] >= 0.05)
            out(f"  {phase:8s} ({wall:5.1f} s): {top}; short-lived, not sampled "
                f"{sampler.unseen(phase):.1f} ({sampler.unseen(phase) / wall:.2f})")
        grading_cpu = sampler.cpu["grading"]["grading"] + sampler.cpu["grading"]["worker"]
        ours = [k for k in KINDS if k != "other"]  # `other`: whoever else uses the machine
        busiest = max(ours, key=lambda k: sampler.cpu["grading"][k])
        if nb_graded and not stuck:
            out(f"  grading is limited by the CPU of `{busiest}` processes "
                f"({sampler.cpu['grading'][busiest] / max(sampler.wall['grading'], 1e-9):.2f} of "
                f"{os.cpu_count()} cores; `other` is whoever else uses this machine)")
        else:
            out("  grading: nothing graded, so no limit to name")
        total = sum(sampler.cpu[p][k] for p in sampler.cpu for k in ours)
        out(f"CPU of all the simulation's processes: {total:.0f} s (of which setup "
            f"{sum(sampler.cpu['setup'][k] for k in ours):.0f} s); other processes on this shared "
            f"machine: {sum(sampler.cpu[p]['other'] for p in sampler.cpu):.0f} s")
        out(f"wall time of the whole run: {run_wall:.0f} s (exam {exam_wall:.0f} s, grading "
            f"{grade_wall:.0f} s)")

        # --- sizing --------------------------------------------------------------------------
        # What reached a desk: answers and 5xx (a refused connection never did).
        requests_served = len(stats.fetch_ms) + len(stats.submit_ms) + sum(
            k for (_w, code), k in stats.errors.items() if isinstance(code, int))
        desk_cpu = sampler.cpu["exam"]["desk"]
        per_request = desk_cpu / max(requests_served, 1)
        per_copy = 1 / per_request if per_request > 0 else float("inf")
        # Upper bound: the unsampled CPU of the grading phase is mostly its short-lived kernels.
        cpu_per_nb = (grading_cpu + sampler.unseen("grading")) / nb_graded if nb_graded else float("nan")
        desk_rss = sampler.peak_rss["exam"]["desk"] / max(desks, 1) / 2**20
        grade_rss = sampler.peak_rss["grading"]["grading"] / 2**20
        peak = TARGET_LEARNERS / 2 / (RUSH_MINUTES * 60) * 5  # the rush, 5x its mean at its peak
        need = max(2, math.ceil(peak / (0.5 * per_copy))) if per_copy != float("inf") else 2
        cores_30 = TARGET_LEARNERS * cpu_per_nb / 1800 if nb_graded else float("nan")
        out("sizing for 2,000 learners in one 40-minute window (from the figures above):")
        out(f"  desk: {per_request * 1000:.1f} ms CPU per request -> one copy (one core) serves about "
            f"{per_copy:.0f} requests/s; the last 5 minutes bring 1,000 submissions, "
            f"{peak:.1f}/s at a peak 5x their mean: {need} copies at 50 % load (2 at least, to "
            f"survive one), about {desk_rss:.0f} MB each")
        wall_cores = TARGET_LEARNERS / 1800 / (nb_s / (os.cpu_count() or 1)) if nb_graded else float("nan")
        out(f"  grading: {cpu_per_nb:.2f} CPU s per notebook (workers, kns grade, kernels, and the "
            f"machine's unsampled CPU) -> 2,000 notebooks in 30 minutes need {cores_30:.1f} cores; "
            f"from the wall throughput ({nb_s:.2f}/s on {os.cpu_count()} shared cores) "
            f"{wall_cores:.1f} cores; about {grade_rss:.0f} MB of grading processes here")
        out(f"  hub: {sampler.cpu['exam']['hub'] / max(sampler.wall['exam'], 1e-9):.2f} cores during "
            f"the exam for {n} learners (token and group checks for the desks), "
            f"{sampler.peak_rss['exam']['hub'] / 2**20:.0f} MB; PostgreSQL "
            f"{sampler.cpu['exam']['postgres'] / max(sampler.wall['exam'], 1e-9):.2f} cores, "
            f"{sampler.peak_rss['exam']['postgres'] / 2**20:.0f} MB (RSS summed over its processes)")
        result.update(per_copy_rps=per_copy, cpu_per_nb=cpu_per_nb, nb_s=nb_s, cpu_s=total)
        return result
    finally:
        sampler.stop()
        for c in copies + workers:
            c.stop()
        if hub is not None:
            stop_hub(hub.proc)
            shutil.rmtree(hub.settings["exams"]["root"], ignore_errors=True)
        if cluster is not None:
            cluster.stop()
        if os.environ.get("KNS_BENCH_EXAMDAY_KEEP"):
            print(f"(kept {base})")
        else:
            shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    # A run stopped with SIGTERM still stops its hub, copies and PostgreSQL server (`finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    faults = os.environ.get("KNS_BENCH_EXAMDAY_FAULTS", "hub,desk,worker")
    run(n=env_int("KNS_BENCH_EXAMDAY_N", 200), desks=env_int("KNS_BENCH_EXAMDAY_DESKS", 2),
        window_s=env_int("KNS_BENCH_EXAMDAY_WINDOW_S", 120),
        faults=frozenset(f for f in faults.split(",") if f),
        extra_workers=env_int("KNS_BENCH_EXAMDAY_WORKERS", 1),
        restart_s=float(os.environ.get("KNS_BENCH_EXAMDAY_RESTART_S", "2")),
        stall_s=float(os.environ.get("KNS_BENCH_EXAMDAY_STALL_S", "120")))


if __name__ == "__main__":
    main()
