"""Courses in every learner's home, through the real hub, and updates that keep their work."""

import json
import time

import pytest

from kynangso.hub.harness import api_token, cookie, new_session, open_lab

pytestmark = pytest.mark.hub
LESSON = "00-lam-quen"


def contents(hub, session, username, path):
    return session.get(f"{hub.url}/user/{username}/api/contents/KhoaHoc/{path}", timeout=60)


def restart_server(hub, session, username):
    token = api_token(hub, session, username)
    http = new_session()
    http.delete(f"{hub.url}/hub/api/users/{username}/server", headers={"Authorization": f"token {token}"},
                timeout=120)
    for _ in range(60):
        state = http.get(f"{hub.url}/hub/api/users/{username}", headers={"Authorization": f"token {token}"},
                         timeout=30).json()
        if not state.get("servers"):
            break
        time.sleep(1)
    open_lab(hub, session, username)


def test_learner_finds_courses_and_updates_keep_their_work(hub, login, courses_source):
    """Are the courses in a new learner's home, and does an update spare the lesson they edited?"""
    session = login("hocvien03")
    open_lab(hub, session, "hocvien03")
    listing = contents(hub, session, "hocvien03", LESSON)
    assert listing.status_code == 200
    notebooks = sorted(x["name"] for x in listing.json()["content"] if x["name"].endswith(".ipynb"))
    assert len(notebooks) >= 2, notebooks
    edited, untouched = notebooks[0], notebooks[1]

    # The learner edits one lesson (saved through JupyterLab's contents API).
    model = contents(hub, session, "hocvien03", f"{LESSON}/{edited}").json()
    model["content"]["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "ghichu",
                                      "source": "Ghi chú của tôi: nhớ hỏi chánh văn phòng."})
    xsrf = cookie(session, "_xsrf", "/user/hocvien03/") or ""
    saved = session.put(f"{hub.url}/user/hocvien03/api/contents/KhoaHoc/{LESSON}/{edited}",
                        data=json.dumps({"type": "notebook", "content": model["content"]}),
                        headers={"X-XSRFToken": xsrf}, timeout=60)
    assert saved.status_code == 200, saved.text

    # The platform publishes new versions of both lessons.
    for name in (edited, untouched):
        path = courses_source / LESSON / name
        nb = json.loads(path.read_text(encoding="utf-8"))
        nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "id": "capnhat",
                               "source": "Cập nhật tháng 12/2026."})
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")

    restart_server(hub, session, "hocvien03")
    mine = json.dumps(contents(hub, session, "hocvien03", f"{LESSON}/{edited}").json()["content"],
                      ensure_ascii=False)
    assert "Ghi chú của tôi" in mine and "Cập nhật tháng 12/2026" not in mine
    new_copy = contents(hub, session, "hocvien03", f"{LESSON}/{edited.removesuffix('.ipynb')}-ban-moi.ipynb")
    assert new_copy.status_code == 200 and "Cập nhật tháng 12/2026" in json.dumps(
        new_copy.json()["content"], ensure_ascii=False)
    other = json.dumps(contents(hub, session, "hocvien03", f"{LESSON}/{untouched}").json()["content"],
                       ensure_ascii=False)
    assert "Cập nhật tháng 12/2026" in other
