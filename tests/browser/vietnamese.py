"""The check every role's pages pass (issue 12): no English word from upstream in what a
person sees.

A word of the visible text (document.body.innerText) written in ASCII letters only must be a
word of the Vietnamese catalogue (Vietnamese words without diacritics, such as "Trang", are
there) or one of the names and codes the page may show (`allowed`: login names, people's names,
file types). Words that JupyterHub, Voilà and JupyterLab show in English are never allowed,
even where a catalogue sentence happens to contain them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from kynangso.i18n import catalogue

# Names that may show in ASCII letters on any page: JupyterHub (the underlying software's
# name) and nbgrader's Formgrader (the instructors' advanced tool).
NAMES = {"jupyterhub", "nbgrader", "formgrader"}
# Upstream words the hub pages used to show: never allowed.
UPSTREAM = {"progress", "signing", "reports", "spawning", "server", "requested", "ready",
            "forbidden", "found", "error", "services", "home", "logout", "revoke",
            "failed", "permission", "access", "start", "stop"}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@cache
def catalogue_words() -> frozenset[str]:
    """The words of the message catalogue and of the course catalogue's texts (course and
    lesson titles, which learners and HR read)."""
    import yaml

    import courses

    texts = list(catalogue().values())
    texts += _strings(yaml.safe_load((Path(courses.__file__).parent / "catalogue.yaml").read_text("utf-8")))
    return frozenset(w.lower() for text in texts for w in re.findall(r"[A-Za-z]+", text))


def english_words(text: str, allowed: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Words of `text` in ASCII letters only that are neither Vietnamese nor allowed."""
    known = (catalogue_words() | NAMES | {a.lower() for a in allowed}) - UPSTREAM
    words = re.findall(r"(?<![\w@./-])[^\W\d_]+(?![\w@/-])", unicodedata.normalize("NFC", text))
    return sorted({w for w in words if w.isascii() and w.lower() not in known})


def visible_text(page) -> str:
    # ipywidgets writes dropdown options with non-breaking spaces.
    return page.evaluate("() => document.body.innerText").replace("\xa0", " ")
