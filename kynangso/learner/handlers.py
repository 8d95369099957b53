"""The learner's home page, served by their own Jupyter server behind its login."""

from __future__ import annotations

import os
from importlib import resources

import jinja2
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from kynangso.i18n import t
from kynangso.learner import exam_mode_enabled, home

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                          loader=jinja2.FunctionLoader(
                              lambda name: (resources.files("kynangso.learner") / name).read_text("utf-8")))


def courses_folder(root_dir: str) -> str:
    """The courses folder relative to the server's root (the home), as the spawner set it."""
    folder = os.environ.get("KNS_COURSES_DIR", "")
    if not folder:
        return "KhoaHoc"
    rel = os.path.relpath(folder, os.path.expanduser(root_dir or "~"))
    return "KhoaHoc" if rel.startswith("..") else rel


def render(name: str, **values) -> str:
    return _ENV.get_template(name).render(t=t, **values)


class HomeHandler(JupyterHandler):
    """GET: the home. Only the server's owner reaches it (the server's own login, as /lab)."""

    def initialize(self, app, state=None):
        self.app = app
        self.state = state  # exam mode (kynangso.learner.exam), on a learner-app server

    @web.authenticated
    async def get(self):
        base = self.base_url
        answers = await home.fetch_all()
        if self.state is not None and answers["exams"][0] == 200:
            from kynangso.learner.exam import ExamState, exam_url

            self.state.current = ExamState.in_progress(answers["exams"][1])
            if self.state.current is not None:
                self.redirect(exam_url(base))
                return
        page = home.assemble(self.app.load_catalogue(), answers["progress"], answers["exams"],
                             answers["certificate"], base, courses_folder(self.settings.get("server_root_dir", "")))
        if exam_mode_enabled():  # a learner who runs code, during an exam
            page.notes.append(t("learner.home.exam_mode"))
            page.courses.clear()  # lessons do not open in exam mode (kynangso.learner.exam)
        if self.app.pool is not None and page.courses:
            self.app.pool.refill()  # the learner is choosing a lesson: its kernel starts now
        hub_prefix = os.environ.get("JUPYTERHUB_BASE_URL", "/").rstrip("/") + "/hub/"
        user = self.current_user
        name = getattr(user, "name", None) or os.environ.get("JUPYTERHUB_USER", "")
        self.set_header("Cache-Control", "no-store")
        self.finish(_ENV.get_template("home.html").render(
            t=t, home=page, user=name, hub=hub_prefix,
            stylesheet=url_path_join(hub_prefix, "static/css/style.min.css"),
            logout=url_path_join(hub_prefix, "logout"),
            lab=url_path_join(base, "lab") if not _learner_app() else None,
            fetch=url_path_join(base, "assignments/fetch"), exam_page=url_path_join(base, "kns/exam"),
            xsrf=self.xsrf_token.decode(),
        ))


def _learner_app() -> bool:
    from kynangso.learner import learner_app_enabled

    return learner_app_enabled()
