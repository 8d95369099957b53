"""Shared fixtures: a real JupyterHub (random ports, temporary state, real proxy).

Fixtures:
- `hub`: one hub per session, isolated (per-user Unix accounts) when the tests
  run as root, with a small staff directory whose accounts were activated
  through the hub's own activation page. The Unix accounts and homes it made
  are removed afterwards.
- `login(username)`: a logged-in `requests.Session`.

Nothing is mocked: the spawner creates real accounts and runs real servers.

Markers (registered in pyproject.toml; `make test-fast` runs `-m "not hub and not browser"`):
- `hub`: the test starts or uses a real hub. Every test that asks for the `hub` or `login`
  fixture gets it automatically (pytest_collection_modifyitems below); a module that starts
  its own hub (launch_hub / isolated_hub) sets `pytestmark = pytest.mark.hub` itself.
- `browser`: drives headless Chromium; everything under tests/browser/ gets it automatically.
- `root`: needs root (Unix accounts); `postgres`: needs a PostgreSQL server.
A new hub-using module (e.g. under tests/security/) should reuse the session `hub` fixture
when the default settings serve (one hub for the whole session), and start its own only
when it needs other settings.

Waits and timeouts: the suite runs on 2 busy cores (CI, other jobs). Every wait is a
deadline loop with a generous limit and a comment saying why; no test asserts a duration.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from kynangso.hub.harness import IS_ROOT, launch_hub, log_in, remove_unix_accounts, stop_hub

REPO = Path(__file__).resolve().parents[1]
# `make run`'s demo results, built by the real grading pipeline in test_make_run and
# tests/reports/test_demo.py: five of the fifteen demo learners (27 notebooks instead of 84)
# still give every quality, an absence and a Văn thư (reports.demo.demo_learners). Set here,
# before any worker starts a process, so the platform's background build inherits it.
os.environ.setdefault("KNS_DEMO_LEARNERS", "5")

# username: (full name, role, password)
STAFF = {
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "hocvien02": ("Trần Văn Đức", "hocvien", "HocVien2@2026"),
    "hocvien03": ("Lê Thị Ánh", "hocvien", "HocVien3@2026"),
    "hocvien04": ("Vũ Văn Hùng", "hocvien", "HocVien4@2026"),  # only the lock-out test logs in
    # Only tests/browser/test_hub_pages.py logs in: it reads the spawn-pending page of a first start.
    "hocvien05": ("Bùi Văn Khánh", "hocvien", "HocVien5@2026"),
    "hocvien07": ("Đặng Thị Hường", "hocvien", "HocVien7@2026"),  # on the learner app (not advanced)
    "hocvien08": ("Lý Thị Tuyết", "hocvien", "HocVien8@2026"),  # learner app: its kernel started ahead
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),  # the instructor's hub pages
    "nhansu01": ("Phạm Thu Hà", "nhansu", "NhanSu@2026!"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
}


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's). Module scope: Playwright's sync API keeps an event loop
    running while it is open, and later tests that call asyncio.run (pyHanko, jinja) would fail."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this worker's session (kynangso.pgcluster; `make test`
    installs Debian's postgresql). Tests take their own database from it: `pg_url`."""
    from kynangso import pgcluster

    if pgcluster.binaries() is None:
        pytest.skip("PostgreSQL is not installed (make test installs Debian's postgresql)")
    with pgcluster.Cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(postgres) -> str:
    """A new, empty PostgreSQL database of this test's own."""
    return postgres.create()


def private_homes(prefix: str) -> Path:
    """Homes must be reachable by the users' accounts: not under pytest's 0700 temp folder."""
    home_root = Path(f"/tmp/{prefix}homes")
    home_root.mkdir(mode=0o755)
    return home_root


# Parallel runs (`make test` uses pytest-xdist with `--dist loadgroup`). Each worker builds its
# own session and module fixtures, so tests are sent to workers in groups:
# - every test that uses one of these expensive session fixtures goes to one group, so that the
#   fixture is built once per run, not once per worker (add a fixture here when you make one);
# - every other test goes with its file, so that a module's own hub or browser starts once.
SHARED_FIXTURES = {
    "hub": "session-hub",  # a real hub with Unix accounts (login depends on it)
    "exam_copies": "exam-grading",  # the four real exams graded by nbgrader and by kns grade
    "demo_build": "demo-build",  # `make run`'s demo gradebook, built by the real pipeline
    "demo_cache": "demo-build",  # where test_make_run's build leaves it for `demo_build`
    "exam_hub": "security-exam-hub",  # tests/security/conftest.py: the exam attacks' hub
}

SHARED_FIXTURE_TIMEOUT_S = 1800  # pyproject's per-test limit is 600 s


# A module marked slow gets this after its path in its group's name: xdist's controller, which
# collects nothing, reads from the names which groups are long (pytest_xdist_make_scheduler).
SLOW_SUFFIX = "#slow"


def _group(item) -> str:
    mark = item.get_closest_marker("xdist_group")  # a module may choose its group itself
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    names = set(getattr(item, "fixturenames", ()))
    shared = [group for fixture, group in SHARED_FIXTURES.items() if fixture in names]
    if shared:
        return shared[0]
    path = item.nodeid.split("::")[0]
    return path + SLOW_SUFFIX if item.get_closest_marker("slow") else path


def _long_group(group: str) -> bool:
    return group in SHARED_FIXTURES.values() or group.endswith(SLOW_SUFFIX)


def pytest_xdist_make_scheduler(config, log):
    """xdist's group scheduler, except that a worker still holding a long group is sent a short
    one next. xdist sends a worker its next group as soon as two of its tests are left to run,
    so a worker given a one-test slow module at once takes the next group too: in one run the
    three longest modules (the exam cycle, the exam day, the grading equivalence; 10 minutes)
    queued on one worker and ran after the others had finished."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class LongGroupsApart(LoadGroupScheduling):
        def _assign_work_unit(self, node):
            holding = self.assigned_work.get(node, {})
            if any(_long_group(group) and not all(done.values()) for group, done in holding.items()):
                short = next((group for group in self.workqueue if not _long_group(group)), None)
                if short is not None:
                    self.workqueue.move_to_end(short, last=False)
            super()._assign_work_unit(node)

    return LongGroupsApart(config, log)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Mark hub and browser tests that did not say so, so that `-m "not hub"` is reliable;
    under xdist, put each test in its group and start the slow groups first."""
    for item in items:
        if {"hub", "login"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.hub)
        if "tests/browser/" in item.nodeid or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.hub)
        # The first test to use a shared fixture builds it (the exams graded twice take
        # minutes on a busy machine): its limit covers that build, not only the test.
        if item.get_closest_marker("timeout") is None and _group(item) in SHARED_FIXTURES.values():
            item.add_marker(pytest.mark.timeout(SHARED_FIXTURE_TIMEOUT_S))
    # In an xdist worker `dist` reads "no"; `loadgroup` says whether groups are used.
    if not getattr(config.option, "loadgroup", False) and config.getoption("dist", "no") != "loadgroup":
        return
    # group -> rank: shared fixtures, then modules marked slow (over a minute each, the longest
    # first), then the other hubs and browsers, then the rest.
    slow: dict[str, tuple[int, float]] = {}
    for item in items:
        group = _group(item)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        long = item.get_closest_marker("slow")
        rank = ((0, 0.0) if group in SHARED_FIXTURES.values()
                else (1, -float(long.args[0])) if long
                else (2, 0.0) if item.get_closest_marker("hub") else (3, 0.0))
        slow[group] = min(rank, slow.get(group, rank))
    # Longest first, so that no worker starts a hub while the others are idle at the end
    # (with --no-loadscope-reorder, xdist hands out the groups in this order; sort is stable).
    items.sort(key=lambda item: slow[_group(item)])


@pytest.hookimpl(tryfirst=True)  # before xdist sends the ids to the scheduler
def pytest_collection_finish(session):
    """Put the group into each node id ("<id>@<group>"), which is how xdist's scheduler reads
    it. pytest-xdist 3.8 writes `item._nodeid`, which pytest 9.2 no longer reads (node ids live
    in `item._id`), so without this every test would be scheduled alone."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in session.items:
        if "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{_group(item)}")


@pytest.fixture(scope="session")
def courses_source(tmp_path_factory) -> Path:
    """A copy of the installed courses, so a test can publish a new lesson version."""
    import courses

    target = tmp_path_factory.mktemp("courses-source") / "courses"
    shutil.copytree(Path(courses.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="session")
def hub(tmp_path_factory, courses_source):
    base = tmp_path_factory.mktemp("hub")
    prefix = f"knst{secrets.token_hex(2)}-"
    home_root = private_homes(prefix)
    instance = launch_hub(base, {"mode": "auto", "user_prefix": prefix, "home_root": str(home_root)}, STAFF,
                          extra={"reports": {"pool_size": 1},  # as deployed: pre-run dashboards
                                 "lab": {"courses_source": str(courses_source),
                                         # The others drive JupyterLab and kernels (see STAFF).
                                         "advanced_learners": ["hocvien01", "hocvien02", "hocvien03",
                                                               "hocvien05"]}})
    yield instance
    stop_hub(instance.proc)
    if IS_ROOT:
        remove_unix_accounts(prefix, home_root)
    shutil.rmtree(home_root, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory) -> Path:
    """This session's demo cache (`make run`'s KNS_DEMO_CACHE). tests/hub/test_make_run.py's
    background build fills it; `demo_build` then copies the course from it, so the demo
    notebooks are graded once per session, not twice. Both are in one xdist group, and
    test_make_run comes first in it."""
    return tmp_path_factory.getbasetemp() / "demo-cache"


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory, demo_cache):
    """(settings, course folder, how it was made): the demo exam results of `make run`
    (reports.demo.build_demo_gradebook, the real grading pipeline), built once per session
    and shared by tests/reports/test_demo.py and tests/hub/test_make_run.py: copied from the
    cache that test_make_run's build filled when it ran first, else built here (and cached).
    Read-only for users."""
    import os
    import time

    from kynangso.demo import load_demo_office
    from kynangso.settings import load_settings
    from reports.demo import build_demo_gradebook

    state = tmp_path_factory.mktemp("demo") / "state"
    cached = demo_cache.is_dir() and any(demo_cache.iterdir())
    with pytest.MonkeyPatch.context() as mp:
        # The grading kernels import this working tree and see this state folder.
        mp.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        mp.setenv("KNS_STATE_DIR", str(state))
        for name in ("KNS_REPORTS_GRADEBOOKS", "JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN"):
            mp.delenv(name, raising=False)
        settings = load_settings(overrides={"state_dir": str(state),
                                            "exams": {"root": str(state / "exams")}})
        load_demo_office(settings)
        started = time.perf_counter()
        course = build_demo_gradebook(settings, cache_dir=demo_cache)
        seconds = time.perf_counter() - started
    how = f"{'copied from the cache of test_make_run' if cached else 'built'} in {seconds:.1f} s"
    return settings, course, how


@pytest.fixture
def login(hub):
    def _login(username: str):
        r = log_in(hub, username)
        assert r.status_code == 302, f"login of {username} failed: {r.status_code}"
        return r.session

    return _login


# KNS_TEST_TIMELINE=<folder>: each worker writes when each test started and ended there (one
# file per worker, "start end cpu own nodeid": epoch seconds, then the CPU seconds that the worker
# and every process under it (hubs, servers, kernels, browsers) spent meanwhile, and of those the
# worker's own), to see where a run's wall time and CPU go; and, in <worker>.fds, the worker's
# open file descriptors after it.
_TIMELINE = os.environ.get("KNS_TEST_TIMELINE")
_started: dict[str, tuple[float, float, float]] = {}


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _tree_cpu() -> float:
    """CPU seconds of this process, its reaped children and its live descendants."""
    import resource

    import psutil

    total = sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                for field in ("ru_utime", "ru_stime"))
    for proc in psutil.Process().children(recursive=True):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def pytest_configure(config):
    global _TIMELINE
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        _TIMELINE = None  # xdist's controller sees every test too: its workers write


def pytest_runtest_logstart(nodeid, location):
    if _TIMELINE:
        import time

        _started[nodeid] = (time.time(), _tree_cpu(), _own_cpu())


def pytest_runtest_logfinish(nodeid, location):
    if _TIMELINE and nodeid in _started:
        import time

        started, cpu, own = _started.pop(nodeid)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(os.path.join(_TIMELINE, f"{worker}.txt"), "a", encoding="utf-8") as fh:
            fh.write(f"{started:.1f} {time.time():.1f} {_tree_cpu() - cpu:.1f} {_own_cpu() - own:.1f} "
                     f"{nodeid}\n")
        # Open file descriptors of the worker after each test: a leak shows as a rising count.
        with open(os.path.join(_TIMELINE, f"{worker}.fds"), "a", encoding="utf-8") as fh:
            fh.write(f"{len(os.listdir('/proc/self/fd'))} {nodeid}\n")
