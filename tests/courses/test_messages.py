"""Every sentence the courses show comes from the message catalogue, in NFC Vietnamese."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from courses.c00.man_hinh import questions
from courses.c02.kiem_tra import ANSWERS
from courses.c02.y_nghia import rules
from courses.c03.tiep_nhan import ACTIONS
from courses.c03.truc_tuyen import BREAKERS
from courses.c04.kenh_gui import CASES, MESSAGES
from kynangso.i18n import catalogue
from sandbox.email.rules import channel_rules, sign_keys

AREAS = "courses|competency|documents|signing|filing|workdays|email"
LITERAL = re.compile(rf"""\b(?:t|para)\(\s*["']((?:{AREAS})\.[a-z0-9_.]+)["']""")


def used_keys() -> set[str]:
    keys = set()
    for folder in ("courses", "assessments/competency"):
        for path in Path(folder).rglob("*.py"):
            found = LITERAL.findall(path.read_text(encoding="utf-8"))
            keys |= {k for k in found if not k.endswith((".", "_"))}  # prefixes + variable
    return keys


def data_keys() -> set[str]:
    keys = set()
    for q in questions():
        keys |= {f"courses.c00.question.{q['key']}", f"courses.c00.why.{q['key']}"}
        keys |= {f"courses.c00.option.{o}" for o in q["options"]}
    keys |= {f"courses.c02.prop.{r['key']}" for r in rules()["properties"]}
    keys |= {f"courses.c02.situation.{r['key']}" for r in rules()["situations"]}
    keys |= {f"courses.c02.why_{r['kind']}" for r in rules()["situations"]}
    keys |= {f"courses.c02.{kind}.{a}" for a in ANSWERS for kind in ("verdict", "explain")}
    keys |= {f"courses.c03.action.{a}" for a in ACTIONS}
    keys |= {f"filing.form.{f}.title_new" for f in ACTIONS.values()}
    keys |= {f"filing.fully_online.{k}" for k in BREAKERS}
    keys |= {f"courses.c04.case.{k}" for k in CASES}
    keys |= {f"courses.c04.msg.{k}_text" for k in MESSAGES}
    keys |= {f"courses.c04.topic.t{n}" for n in range(1, 5)}
    keys |= {f"courses.c04.person.p{n}" for n in range(1, 3)}
    keys |= {f"courses.c04.verify_{a}{s}" for a in ("accept", "refuse") for s in ("", "_why")}
    keys |= {f"email.sign.{k}.name" for k in sign_keys()}
    keys |= {f"email.channel.{c}" for c in channel_rules()["channels"]}
    return keys


@pytest.mark.parametrize("key", sorted(used_keys() | data_keys()))
def test_key_exists(key):
    """Is every message key the courses use in the catalogue?"""
    assert key in catalogue()


def test_messages_are_nfc_vietnamese():
    """Are the courses' and the framework's messages NFC text?"""
    for key, text in catalogue().items():
        if key.startswith(("courses.", "competency.")):
            assert unicodedata.is_normalized("NFC", text), key


def test_notebooks_are_nfc():
    """Is the lesson text of every notebook NFC (so search and speech work)?"""
    for path in Path("courses").glob("[0-9][0-9]-*/*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), path
