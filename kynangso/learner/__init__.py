"""The learner app: what a learner sees on their own Jupyter server instead of JupyterLab.

A jupyter-server extension (enabled in kynangso/hub/userconfig/jupyter_server_config.json):

- `home.py`: what the home shows (courses and progress, open exams, the certificate), assembled
  from the catalogue and the services' answers; pure functions plus one fetch per service.
- `handlers.py`: the home page (`<server>/kns/home`), rendered from `home.html`.
- here: the wiring. At link time (before Voilà loads) the `kns` Voilà template is written
  with the lessons' loading sentence and made Voilà's template, so lessons open as apps with
  a Vietnamese loading screen. On a learner-app server (KNS_LEARNER_APP=1, set by the hub's
  spawner for learners outside the advanced group, kynangso.hub.landing) the kernels accept
  only the messages widgets need: Voilà as a server extension sets no such limit itself, so
  without this the page's websocket would run any `execute_request`. The kernels get a fresh
  IPython folder (nothing from ~/.ipython runs in them). The contents API is
  read-only there: a notebook of the learner's own making, rendered by Voilà, would run its
  code (the gate in kynangso.learner.exam refuses the writes).
- light pages: lessons use Voilà's progressive rendering (scripts load while the kernel runs
  the cells); voila.js and its chunks are served from a versioned path and cached for a year,
  Voilà's other static files are cached with revalidation (`CacheHashedAssets`); a kernel is
  kept started ahead for the next lesson page (`pool.py`).

The course catalogue lives in the `courses` package, which the core does not import: the
extension is told where to find it (`KnsLearnerApp.catalogue`, set in the same config file).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import os
import re
import shutil
import tempfile

from tornado import web
from traitlets import Bool, Unicode
from traitlets.config import Configurable

from kynangso import voila_template
from kynangso.i18n import t

# What a Voilà page needs from its kernel: widgets (comm_*), the kernel's info and shutdown,
# as the standalone `voila` app allows (voila/app.py, 0.5.13). No execute_request.
APP_MESSAGE_TYPES = ["comm_open", "comm_close", "comm_msg", "comm_info_request",
                     "kernel_info_request", "shutdown_request"]
HOME_PATH = "kns/home"
VOILA_UNUSED_EXTENSIONS = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension")
# Voilà serves its labextensions (the widget managers, ipywidgets) with "no-cache", though those
# files are named by their content's hash: a lesson page then asks for each of them again.
HASHED_ASSET = re.compile(r"/voila/labextensions/.+\.[0-9a-f]{16,}\.js$")


# Voilà's other static files (its templates' files, themes): kept, but asked again each time
# (tornado's ETag and Last-Modified answer 304 when they have not changed).
VOILA_STATIC = re.compile(r"/voila/(static|templates|labextensions|api/themes)/")


class CacheHashedAssets(web.OutputTransform):
    """Cache Voilà's content-hashed labextension files for a year (a new version is a new name);
    every other static file of Voilà's that says nothing is cached with revalidation."""

    def __init__(self, request):
        super().__init__(request)
        self.hashed = HASHED_ASSET.search(request.path) is not None
        self.static = request.method in ("GET", "HEAD") and VOILA_STATIC.search(request.path) is not None

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if status_code in (200, 304):
            if self.hashed:
                headers["Cache-Control"] = "public, max-age=31536000, immutable"
            elif self.static and "Cache-Control" not in headers:
                headers["Cache-Control"] = "no-cache"
        return status_code, headers, chunk


# Voilà serves /voila/static (voila.js and its webpack chunks, named by number, not content) with
# no Cache-Control at all. The same files, under a path naming the installed voila.js's hash
# (the entry script lists every chunk, so a new Voilà is a new path), are cached for a year.
STATIC_ROUTE = "voila/kns-static"


def static_paths() -> list[str]:
    """The folders Voilà serves /voila/static from, for our template (its own search)."""
    from voila.paths import collect_static_paths

    return collect_static_paths(["voila", "nbconvert"], voila_template.TEMPLATE)


def static_version(paths: list[str]) -> str:
    """A short hash of the voila.js that /voila/static serves ("" when there is none)."""
    for folder in paths:
        entry = os.path.join(folder, "voila.js")
        if os.path.isfile(entry):
            with open(entry, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()[:16]
    return ""


def versioned_static_handler():
    from voila.static_file_handler import MultiStaticFileHandler

    class VersionedStatic(MultiStaticFileHandler):
        """Voilà's static files under a versioned path: the same bytes, cached for a year."""

        def set_extra_headers(self, path):
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")

    return VersionedStatic


class KnsLearnerApp(Configurable):
    catalogue = Unicode("courses.catalogue:load_catalogue",
                        help="`module:function` returning the course catalogue.").tag(config=True)
    kernel_pool = Bool(True, help="Keep one kernel started ahead, with the lessons' imports done, "
                                  "for the next lesson page (learner-app servers).").tag(config=True)

    pool = None  # the KernelPool on a learner-app server (warmed from the home page)

    def load_catalogue(self):
        module, _, name = self.catalogue.partition(":")
        return getattr(importlib.import_module(module), name)()


def learner_app_enabled() -> bool:
    return os.environ.get("KNS_LEARNER_APP") == "1"


def exam_mode_enabled() -> bool:
    """A learner who runs code, during an exam window (kynangso.hub.landing)."""
    return os.environ.get("KNS_EXAM_MODE") == "1"


def _jupyter_server_extension_points():
    return [{"module": "kynangso.learner"}]


def _link_jupyter_server_extension(serverapp) -> None:
    """Before any extension loads: Voilà's template (it reads JUPYTER_PATH and its config when
    it loads)."""
    folder = tempfile.mkdtemp(prefix="kns-voila-")  # private to this server's account
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # one per server start: not left in /tmp
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (folder, os.environ.get("JUPYTER_PATH")) if p)
    version = static_version(static_paths())
    serverapp.kns_static_version = version
    voila_template.write_template(folder, t("learner.app.loading"),
                                  static=f"{STATIC_ROUTE}/{version}" if version else None)
    if learner_app_enabled():
        # Fresh folders, not the home's: the kernels' IPython folder (no startup file or
        # profile that the account wrote into ~/.ipython, before an exam say, runs in a lesson's
        # or exam's kernel), and Jupyter's data folder, read from here on (kernel specs) and
        # written (the notebook-signing secret). The spawner started the server with the
        # environment's own, read-only (kynangso.hub.landing).
        os.environ["IPYTHONDIR"] = os.path.join(folder, "ipython")
        os.environ["JUPYTER_DATA_DIR"] = os.path.join(folder, "data")
    voila = serverapp.config.VoilaConfiguration
    voila.template = voila_template.TEMPLATE
    voila.show_tracebacks = False
    voila.theme = "light"
    # The page (and its scripts) first, the cells' outputs streamed to it as they run: the
    # browser loads and starts the widget manager while the kernel runs the lesson, instead of
    # after (Voilà's /voila/execution/<kernel> websocket runs the notebook's own cells, kept
    # server-side; the page sends only the kernel id).
    voila.progressive_rendering = True
    # JupyterLab extensions that do nothing in a Voilà page (nbgrader's Assignment List and
    # validate buttons, Notebook's menus: their plugins need JupyterLab's own services) but
    # that the page would download and parse before the widgets start.
    voila.extension_denylist = list(VOILA_UNUSED_EXTENSIONS)


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    from kynangso.learner.handlers import HomeHandler

    app = KnsLearnerApp(parent=serverapp)
    web_app = serverapp.web_app
    base = web_app.settings["base_url"]
    state = None
    if learner_app_enabled():
        from kynangso.learner import exam

        serverapp.kernel_manager.allowed_message_types = list(APP_MESSAGE_TYPES)
        serverapp.log.info("learner app: kernels accept only %s", ", ".join(APP_MESSAGE_TYPES))
        # Not in exam mode: the kernel started ahead would run in the home, where a learner
        # who runs code may have left modules of theirs for its imports.
        if app.kernel_pool and not exam_mode_enabled():
            from kynangso.learner.pool import KernelPool

            app.pool = KernelPool(serverapp.kernel_manager)
            app.pool.install()
        state = exam.ExamState()
        web_app.find_handler = exam.ExamGate(web_app, web_app.find_handler, state)
        # Before gzip (compress_response): the bar goes into the page's plain bytes.
        web_app.transforms.insert(0, exam.bar_transform(state, base))
        web_app.add_handlers(".*$", [
            (url_path_join(base, "kns/exam"), exam.ExamHandler, {"state": state}),
            (url_path_join(base, "kns/exam/done"), exam.DoneHandler, {"state": state}),
        ])
    web_app.transforms.insert(0, CacheHashedAssets)
    handlers = [(url_path_join(base, HOME_PATH), HomeHandler, {"app": app, "state": state})]
    version = getattr(serverapp, "kns_static_version", "")
    if version:
        handlers.append((url_path_join(base, STATIC_ROUTE, version, "(.*)"), versioned_static_handler(),
                         {"paths": static_paths()}))
    web_app.add_handlers(".*$", handlers)
