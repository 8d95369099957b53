"""Fixtures: a practice registry in tmp_path with a controllable clock and two organisations."""

from datetime import datetime

import pytest

from sandbox.documents.storage import Registry


class Clock:
    """A clock the test moves by hand (the registry's only source of time)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(datetime(2026, 4, 24, 9, 0))


@pytest.fixture
def registry(tmp_path, clock):
    reg = Registry(tmp_path / "documents.sqlite", clock=clock)
    reg.add_organisation("UBND", "Ủy ban nhân dân phường Ba Đình", "Ba Đình",
                         "THÀNH PHỐ HÀ NỘI")
    reg.add_organisation("SNV", "Sở Nội vụ thành phố Hà Nội", "Hà Nội", "UBND THÀNH PHỐ HÀ NỘI")
    yield reg
    reg.close()
