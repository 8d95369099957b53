"""Shared fixtures: a fresh practice desk in tmp_path and a helper to walk a dossier along."""

from datetime import datetime

import pytest

from sandbox.filing.desk import FilingDesk

APPLICANT = {"name": "Nguyễn Thị Hoa", "id_number": "001190012345",
             "address": "Số 5 ngõ 12 phố Hòa Bình", "phone": "0912345678",
             "email": "hoa@example.vn"}

FULL_HKD = {"giay_de_nghi": 1, "hop_dong_thue": 1}


@pytest.fixture
def desk(tmp_path):
    return FilingDesk(tmp_path / "filing.sqlite")


@pytest.fixture
def received(desk):
    """A business-household dossier received Mon 02/03/2026 09:00 (due Thu 05/03 17:00)."""
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tuyen", documents=FULL_HKD,
                    at=datetime(2026, 3, 2, 8, 30))
    desk.receive(i, datetime(2026, 3, 2, 9, 0), "Lê Văn Tâm")
    return i


@pytest.fixture
def processing(desk, received):
    desk.hand_over(received, "Phòng Kinh tế", datetime(2026, 3, 2, 10, 0), "Lê Văn Tâm",
                   "Trần Minh Đức")
    return received
