"""'Làm lại bài': restore a lesson notebook from the package's original copy.

The learner's own copy is kept first as a backup beside it
(`<bài>.ban-cu-YYYYmmdd-HHMMSS.ipynb`), so nothing is lost. The learner's course folder is
`$KNS_COURSES_DIR` (set by the hub's spawner) or `~/KhoaHoc` (where delivery puts the copies), laid out like the
package: `<NN-slug>/<lesson>.ipynb`.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime
from importlib import resources
from pathlib import Path

from courses.catalogue import load_catalogue
from kynangso.errors import KnsError

log = logging.getLogger(__name__)


def courses_dir() -> Path:
    env = os.environ.get("KNS_COURSES_DIR")
    return Path(env) if env else Path.home() / "KhoaHoc"


def reset_lesson(course: str, lesson: str, target_dir: Path | None = None,
                 now: datetime | None = None) -> tuple[Path, Path | None]:
    """Restore one lesson; returns (the restored copy, the backup or None if there was none)."""
    entry = load_catalogue().lesson(course, lesson)
    original = resources.files("courses").joinpath(entry.notebook)
    if not original.is_file():
        raise KnsError("courses.reset.no_original", lesson=entry.title)
    target = (target_dir or courses_dir()) / entry.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if target.exists():
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        backup = target.with_name(f"{target.stem}.ban-cu-{stamp}{target.suffix}")
        shutil.copy2(target, backup)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(original.read_bytes())
    os.replace(tmp, target)
    log.info("lesson %s/%s restored to %s (backup %s)", course, lesson, target, backup)
    return target, backup


class ResetPanel:
    """'Làm lại bài' for any lesson, chosen from a list: useful when a lesson's own copy is so
    damaged that its toolbar no longer runs. `.box` is the widget; `.parts` its controls."""

    def __init__(self, target_dir: Path | None = None):
        import ipywidgets as w

        from courses.common import status_html
        from kynangso.i18n import t

        self._status, self._t, self.target_dir = status_html, t, target_dir
        cat = load_catalogue()
        options = [(f"{c.title} — {le.title}", (c.id, le.id)) for c in cat.courses
                   for le in c.lessons]
        self.lesson = w.Dropdown(options=[(t("courses.reset.choose"), None)] + options,
                                 value=None, description=t("courses.reset.lesson"),
                                 style={"description_width": "120px"},
                                 layout=w.Layout(width="640px"))
        self.confirm = w.Checkbox(value=False, description=t("courses.ui.reset_confirm"),
                                  indent=False, layout=w.Layout(width="auto"))
        self.button = w.Button(description=t("courses.ui.reset"), icon="undo",
                               button_style="warning", tooltip=t("courses.ui.reset_tip"))
        self.message = w.HTML()
        self.button.on_click(lambda _b: self.reset())
        self.box = w.VBox([self.lesson, w.HBox([self.button, self.confirm]), self.message])
        self.parts = {"lesson": self.lesson, "confirm": self.confirm, "reset": self.button,
                      "message": self.message}

    def reset(self):
        t, show = self._t, self._status
        if self.lesson.value is None:
            self.message.value = show(t("courses.reset.need_lesson"), False)
            return None
        if not self.confirm.value:
            self.message.value = show(t("courses.reset.need_confirm"), False)
            return None
        try:
            target, backup = reset_lesson(*self.lesson.value, target_dir=self.target_dir)
        except KnsError as exc:
            self.message.value = show(exc.user_message, False)
            return None
        self.confirm.value = False
        key = "courses.reset.done_backup" if backup else "courses.reset.done"
        self.message.value = show(t(key, path=str(target), backup=backup.name if backup else ""),
                                  True)
        return target, backup


def reset_panel(target_dir: Path | None = None):
    """The 'Làm lại bài' panel for every lesson of the catalogue."""
    return ResetPanel(target_dir).box
