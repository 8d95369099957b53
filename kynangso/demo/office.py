"""The demo office: Văn phòng HĐND và UBND phường Hòa Bình, a FICTIONAL ward office.

Every name, code and address below is invented (DỮ LIỆU MẪU); e-mail addresses use
the reserved `.example` domain, so nothing can reach a real person. The directory
is written as the same CSV file HR would hand over and loaded through the real
importer, so the demo exercises the production path.
"""

from __future__ import annotations

from pathlib import Path

from kynangso.db import upgrade
from kynangso.i18n import t
from kynangso.settings import Settings
from kynangso.staff.export import write_rows
from kynangso.staff.formats import HEADERS, ROLE_LABELS
from kynangso.staff.importer import ImportResult, import_file

# One well-known account per role, printed by `make run`.
DEMO_ACCOUNTS = {
    "hocvien": "hocvien01",
    "giangvien": "giangvien01",
    "nhansu": "nhansu01",
    "quantri": "quantri",
}

VP = "Văn phòng HĐND và UBND"
KT = "Phòng Kinh tế"
VHXH = "Phòng Văn hóa - Xã hội"
TTHCC = "Trung tâm Phục vụ hành chính công"
DOMAIN = "phuonghoabinh.example"

# code, full name, position, department, e-mail local part (None: no address), role.
# Codes are chosen so that usernames (lowercased codes) are easy to remember.
DEMO_STAFF: tuple[tuple[str, str, str, str, str | None, str], ...] = (
    ("QUANTRI", "Lưu Đức Thịnh", "Chuyên viên công nghệ thông tin", VP, "thinh.ld", "quantri"),
    ("GIANGVIEN01", "Phạm Quốc Việt", "Phó Chánh Văn phòng", VP, "viet.pq", "giangvien"),
    ("GIANGVIEN02", "Hoàng Thị Ngọc Ánh", "Trưởng phòng Văn hóa - Xã hội", VHXH, "anh.htn", "giangvien"),
    ("NHANSU01", "Trần Thị Thu Hương", "Chuyên viên tổ chức cán bộ", VP, "huong.ttt", "nhansu"),
    ("NHANSU02", "Đặng Thùy Dương", "Chuyên viên nội vụ", VP, "duong.dt", "nhansu"),
    ("HOCVIEN01", "Nguyễn Văn Bình", "Chủ tịch UBND phường", VP, "binh.nv", "hocvien"),
    ("HOCVIEN02", "Lê Minh Đức", "Phó Chủ tịch UBND phường", VP, "duc.lm", "hocvien"),
    ("HOCVIEN03", "Vũ Đình Khải", "Chánh Văn phòng", VP, "khai.vd", "hocvien"),
    ("HOCVIEN04", "Bùi Thị Hồng Nhung", "Văn thư", VP, "nhung.bth", "hocvien"),
    ("HOCVIEN05", "Ngô Thị Lan Anh", "Kế toán", VP, "anh.ntl", "hocvien"),
    ("HOCVIEN06", "Đỗ Mạnh Hùng", "Trưởng phòng Kinh tế", KT, "hung.dm", "hocvien"),
    ("HOCVIEN07", "Dương Văn Thắng", "Phó Trưởng phòng Kinh tế", KT, "thang.dv", "hocvien"),
    ("HOCVIEN08", "Lý Thị Huyền Trang", "Chuyên viên địa chính - xây dựng", KT, "trang.lth", "hocvien"),
    ("HOCVIEN09", "Phan Thanh Tùng", "Chuyên viên tài chính - kế hoạch", KT, None, "hocvien"),
    ("HOCVIEN10", "Trịnh Thị Mỹ Linh", "Chuyên viên văn hóa - thông tin", VHXH, "linh.ttm", "hocvien"),
    ("HOCVIEN11", "Đinh Quang Huy", "Chuyên viên lao động - thương binh và xã hội", VHXH, None, "hocvien"),
    ("HOCVIEN12", "Hồ Thị Bích Ngọc", "Giám đốc Trung tâm", TTHCC, "ngoc.htb", "hocvien"),
    ("HOCVIEN13", "Tạ Văn Long", "Công chức một cửa", TTHCC, "long.tv", "hocvien"),
    ("HOCVIEN14", "Cao Thị Thanh Hà", "Công chức một cửa", TTHCC, "ha.ctt", "hocvien"),
    ("HOCVIEN15", "Mai Xuân Trường", "Chuyên viên tiếp nhận và trả kết quả", TTHCC, "truong.mx", "hocvien"),
)
NOTE_HEADER = "Ghi chú"  # not a directory column: the importer ignores it


def demo_rows() -> list[list[str]]:
    """The demo directory as HR's file rows (header first), each marked DỮ LIỆU MẪU."""
    note = t("staff.demo_note")
    rows = [[*HEADERS.values(), NOTE_HEADER]]
    for code, name, position, department, mailbox, role in DEMO_STAFF:
        email = f"{mailbox}@{DOMAIN}" if mailbox else ""
        rows.append([code, name, position, department, email, ROLE_LABELS[role], note])
    return rows


def write_demo_csv(path: str | Path) -> Path:
    """Write the demo directory as a CSV in HR's format (UTF-8 with BOM)."""
    return write_rows(path, demo_rows())


def load_demo_office(settings: Settings) -> ImportResult:
    """Create the database if needed and import the demo directory (idempotent).

    The CSV is kept in `<state_dir>/demo/` so an operator can open what was loaded.
    """
    upgrade(settings.database_url)
    path = write_demo_csv(settings.state_dir / "demo" / "danh-sach-can-bo-MAU.csv")
    return import_file(path, settings.database_url)
