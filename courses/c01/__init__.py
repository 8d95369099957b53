"""Course 01 Văn bản điện tử: exercises built on sandbox.documents (NĐ 30/2020/NĐ-CP)."""

COURSE = "01-van-ban-dien-tu"
