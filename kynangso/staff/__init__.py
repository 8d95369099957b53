"""The staff directory: import HR's file, list and export staff, the hub state it implies."""

from kynangso.staff.directory import StaffEntry, desired_hub_state, list_staff
from kynangso.staff.importer import ImportResult, StaffRow, StaffUpdate, import_file

__all__ = [
    "ImportResult",
    "StaffEntry",
    "StaffRow",
    "StaffUpdate",
    "desired_hub_state",
    "import_file",
    "list_staff",
]
