"""The five competency exams as data: the single source the notebooks (build_notebooks.py),
the simulated submissions (answers.py) and the README's tables come from.

This folder is deliberately NOT a Python package of the installed distribution (no
__init__.py, so `setuptools.packages.find` skips it): it holds the answer keys, and learners'
kernels import the installed package. Run it from the repository (tests, `make`).

Item kinds: single, multiple, number, text, ordering (answer keys given here); task (a
simulation task of assessments.questions.tasks, judged by the sandbox's rule code from the
learner's seed); written (graded by hand with the mark scheme in huong-dan-cham/<exam>.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kynangso.workdays.convention import Convention
from sandbox.email.channels import Situation, decide
from sandbox.signing.rules import rule

ON = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Item:
    kind: str
    item_id: str
    competence: str
    level: str
    points: float
    prompt: str = ""
    options: tuple[tuple[str, str], ...] = ()
    answer: Any = None           # key, keys, number, accepted texts or order
    tolerance: float = 0
    unit: str = ""
    method: str = ""             # task: Exam method name (assessments.questions.tasks.TASKS)
    simulation: str = "none"
    rows: int = 10
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ExamDef:
    exam_id: str
    title: str
    minutes: int
    intro: str
    items: tuple[Item, ...]

    @property
    def auto_points(self) -> float:
        return sum(i.points for i in self.items if i.kind != "written")

    @property
    def manual_points(self) -> float:
        return sum(i.points for i in self.items if i.kind == "written")


SIGNING_STEPS = (("mo", "Mở văn bản cần ký trên hệ thống"),
                 ("chon", "Chọn chứng thư số của mình"),
                 ("mat-khau", "Nhập mật khẩu (mã PIN) của khóa bí mật"),
                 ("kiem-tra", "Kiểm tra lại chữ ký số trên tệp đã ký"))

TONG_HOP = ExamDef(
    "tong-hop", "Kiểm tra năng lực số: phần chung", 20,
    "Bài kiểm tra gồm 8 câu về sử dụng nền tảng số, an toàn thông tin và chữ ký số. "
    "Mỗi câu trả lời được lưu ngay khi Anh/Chị chọn hoặc gõ; không cần bấm nút lưu.",
    (
        Item("single", "unicode", "NT.2", "co_ban", 1,
             "Văn bản tiếng Việt trong cơ quan nhà nước phải dùng bộ mã ký tự nào?",
             (("a", "Bộ mã Unicode theo TCVN 6909:2001"), ("b", "Bảng mã TCVN3 (ABC)"),
              ("c", "Bảng mã VNI-Windows"), ("d", "Bảng mã nào cũng được, miễn đọc được")),
             "a"),
        Item("multiple", "bao-ve-khoa", "KS.4", "co_ban", 2,
             "Những việc nào dưới đây là đúng khi bảo vệ khóa bí mật dùng để ký số? "
             "(chọn tất cả các ý đúng)",
             (("a", "Không cho ai biết mật khẩu (mã PIN) của khóa bí mật"),
              ("b", "Ghi mật khẩu lên thiết bị lưu khóa để khỏi quên"),
              ("c", "Khóa màn hình máy tính khi rời chỗ làm việc"),
              ("d", "Báo ngay cho tổ chức cung cấp dịch vụ khi nghi khóa bị lộ"),
              ("e", "Gửi tệp khóa qua thư điện tử để đồng nghiệp ký thay")),
             ("a", "c", "d")),
        Item("single", "gia-tri-chu-ky", "KS.1", "co_ban", 1,
             "Chữ ký số hợp lệ trên một văn bản điện tử bảo đảm điều gì?",
             (("a", "Văn bản chắc chắn đúng nội dung pháp luật"),
              ("b", "Xác định được người ký và nội dung không bị thay đổi sau khi ký"),
              ("c", "Văn bản đã được gửi đến đúng người nhận"),
              ("d", "Văn bản không thể bị sao chép")),
             "b"),
        Item("text", "dinh-dang", "NT.1", "co_ban", 1,
             "Văn bản điện tử gửi ra ngoài cơ quan nên ở định dạng tệp nào để giữ nguyên bố "
             "cục và ký số được? (gõ tên định dạng, ví dụ: DOCX)",
             answer=("PDF", ".pdf", "tệp PDF")),
        Item("number", "ngay-lam-viec", "DVC.3", "co_ban", 1,
             "Một tuần không có ngày lễ, cơ quan hành chính nhà nước có bao nhiêu ngày làm việc?",
             answer=5, unit="ngày"),
        Item("ordering", "nop-bai", "NT.1", "co_ban", 2,
             "Sắp xếp các bước làm một bài kiểm tra trực tuyến trên hệ thống theo đúng thứ tự.",
             (("dang-nhap", "Đăng nhập bằng tài khoản của mình"),
              ("mo-bai", "Mở bài kiểm tra"),
              ("tra-loi", "Trả lời các câu hỏi"),
              ("nop", "Nộp bài trước giờ kết thúc")),
             ("dang-nhap", "mo-bai", "tra-loi", "nop")),
        Item("task", "han-xu-ly", "VB.4", "co_ban", 2, method="task_handling_deadline",
             simulation="documents"),
        Item("written", "tinh-huong-khoa", "KS.4", "thanh_thao", 3,
             "Tình huống: Anh/Chị sắp đi công tác ba ngày. Một đồng nghiệp đề nghị Anh/Chị "
             "cho biết mật khẩu và để lại thiết bị lưu khóa ký số để ký thay các văn bản gấp. "
             "Anh/Chị trả lời đồng nghiệp thế nào, vì sao, và đề xuất cách làm đúng quy định?",
             rows=8),
    ),
)

VAN_BAN = ExamDef(
    "van-ban", "Kiểm tra năng lực số: văn bản điện tử và công tác văn thư", 30,
    "Bài kiểm tra gồm 8 câu về số, ký hiệu, thể thức, đăng ký văn bản đến và thời hạn giải "
    "quyết (Nghị định 30/2020/NĐ-CP). Các câu thực hành dùng hệ thống văn bản mô phỏng: mỗi "
    "người có văn bản riêng.",
    (
        Item("single", "viet-tat", "VB.1", "co_ban", 1,
             "Chữ viết tắt tên loại văn bản «Tờ trình» theo Phụ lục III Nghị định 30/2020 là gì?",
             (("a", "TT"), ("b", "TTr"), ("c", "TTR"), ("d", "TrT")), "b"),
        Item("text", "so-dau-nam", "VB.1", "co_ban", 1,
             "Văn bản đầu tiên cơ quan ban hành trong năm mang số mấy? (ghi đúng như trên văn bản)",
             answer=("01",)),
        Item("task", "so-ky-hieu", "VB.1", "thanh_thao", 2, method="task_read_symbol",
             simulation="documents"),
        Item("multiple", "the-thuc", "VB.2", "co_ban", 2,
             "Những thành phần nào thuộc thể thức văn bản hành chính (Điều 8)? "
             "(chọn tất cả các ý đúng)",
             (("a", "Quốc hiệu và Tiêu ngữ"), ("b", "Số, ký hiệu của văn bản"),
              ("c", "Địa danh và thời gian ban hành văn bản"),
              ("d", "Số điện thoại của người soạn thảo"), ("e", "Ảnh của người ký")),
             ("a", "b", "c")),
        Item("ordering", "quy-trinh-den", "VB.3", "co_ban", 2,
             "Sắp xếp các bước xử lý văn bản đến (Điều 20) theo đúng thứ tự.",
             (("tiep-nhan", "Tiếp nhận văn bản đến"), ("dang-ky", "Đăng ký văn bản đến"),
              ("trinh", "Trình, chuyển giao văn bản đến"),
              ("giai-quyet", "Giải quyết, theo dõi, đôn đốc việc giải quyết")),
             ("tiep-nhan", "dang-ky", "trinh", "giai-quyet")),
        Item("task", "dang-ky-den", "VB.3", "thanh_thao", 4, method="task_register_incoming",
             simulation="documents"),
        Item("task", "han-xu-ly", "VB.4", "thanh_thao", 2, method="task_handling_deadline",
             simulation="documents"),
        Item("written", "van-ban-bi-sua", "VB.3", "nang_cao", 4,
             "Tình huống: hệ thống báo văn bản điện tử đến từ Sở Nội vụ có giá trị băm không "
             "khớp với giá trị bên gửi khai báo. Là Văn thư, Anh/Chị xử lý văn bản này thế nào "
             "(có đăng ký không, làm gì trên hệ thống, báo cho ai), căn cứ quy định nào?",
             rows=10),
    ),
)

CHU_KY_SO = ExamDef(
    "chu-ky-so", "Kiểm tra năng lực số: chữ ký số", 30,
    "Bài kiểm tra gồm 7 câu về chữ ký số. Câu kiểm tra chữ ký dùng các văn bản mô phỏng được "
    "tạo trong thư mục bài thi; câu ký số cần chứng thư số cá nhân đào tạo của Anh/Chị (cấp "
    "trong bài «Ký số» của khóa Chữ ký số) và mật khẩu khóa bí mật của mình.",
    (
        Item("single", "thu-tu-ky", "KS.1", "co_ban", 1,
             "Văn bản hành chính điện tử phát hành ra ngoài cần những chữ ký số nào, theo thứ "
             "tự nào (Nghị định 30/2020, Điều 32)?",
             (("a", "Chỉ chữ ký số của cơ quan"),
              ("b", "Chữ ký số của người có thẩm quyền, sau đó chữ ký số của cơ quan"),
              ("c", "Chữ ký số của cơ quan, sau đó chữ ký số của người có thẩm quyền"),
              ("d", "Chữ ký số của người soạn thảo")),
             "b"),
        Item("number", "thoi-han-chung-thu", "KS.1", "co_ban", 1,
             "Chứng thư chữ ký số cấp mới cho thuê bao có thời hạn tối đa bao nhiêu năm "
             "(Nghị định 68/2024/NĐ-CP)?",
             answer=rule("validity", ON)["new_subscriber_years"], unit="năm"),
        Item("multiple", "khong-tin-cay", "KS.3", "co_ban", 2,
             "Kết quả kiểm tra nào cho thấy chữ ký số KHÔNG hợp lệ? (chọn tất cả các ý đúng)",
             (("a", "Nội dung văn bản bị thay đổi sau khi ký"),
              ("b", "Chứng thư đã bị thu hồi trước thời điểm ký"),
              ("c", "Chứng thư đã hết hạn tại thời điểm ký"),
              ("d", "Chứng thư bị thu hồi sau thời điểm ký vì người ký chuyển công tác"),
              ("e", "Văn bản có nhiều trang")),
             ("a", "b", "c")),
        Item("task", "kiem-tra-chu-ky", "KS.3", "thanh_thao", 4,
             method="task_find_invalid_signature", simulation="signing"),
        Item("ordering", "buoc-ky", "KS.2", "co_ban", 2,
             "Sắp xếp các bước ký số một văn bản theo đúng thứ tự.", SIGNING_STEPS,
             tuple(k for k, _ in SIGNING_STEPS)),
        Item("task", "ky-van-ban", "KS.2", "thanh_thao", 5, method="task_sign_file",
             simulation="signing"),
        Item("written", "lo-khoa", "KS.4", "thanh_thao", 3,
             "Tình huống: Anh/Chị phát hiện thiết bị lưu khóa ký số bị mất (hoặc nghi mật khẩu "
             "bị lộ). Anh/Chị làm những việc gì, theo thứ tự nào, và các văn bản đã ký trước đó "
             "có còn giá trị không?",
             rows=8),
    ),
)

DICH_VU_CONG = ExamDef(
    "dich-vu-cong", "Kiểm tra năng lực số: dịch vụ công trực tuyến và một cửa", 30,
    "Bài kiểm tra gồm 8 câu về tiếp nhận hồ sơ, thời hạn giải quyết theo ngày làm việc và "
    "dịch vụ công trực tuyến. Các câu thực hành dùng danh mục thủ tục và lịch ngày làm việc "
    "của hệ thống mô phỏng.",
    (
        Item("single", "toan-trinh", "DVC.4", "co_ban", 1,
             "Dịch vụ công trực tuyến «toàn trình» là gì?",
             (("a", "Người dân chỉ tra cứu thông tin thủ tục trên mạng"),
              ("b", "Người dân tải mẫu đơn trên mạng rồi nộp giấy tại Bộ phận Một cửa"),
              ("c", "Toàn bộ quá trình từ nộp hồ sơ, giải quyết đến trả kết quả đều trên môi "
                    "trường mạng"),
              ("d", "Người dân nộp hồ sơ trên mạng nhưng phải đến nhận kết quả giấy")),
             "c"),
        Item("multiple", "danh-muc", "DVC.1", "co_ban", 2,
             "Danh mục một thủ tục hành chính cho biết những thông tin nào? "
             "(chọn tất cả các ý đúng)",
             (("a", "Thành phần hồ sơ"), ("b", "Thời hạn giải quyết"), ("c", "Phí, lệ phí"),
              ("d", "Số điện thoại riêng của cán bộ tiếp nhận"),
              ("e", "Kết quả giải quyết của từng hồ sơ")),
             ("a", "b", "c")),
        Item("number", "gio-gioi-han", "DVC.3", "co_ban", 1,
             "Hồ sơ tiếp nhận sau mấy giờ chiều thì được tính là tiếp nhận vào ngày làm việc "
             "tiếp theo? (ghi số giờ, ví dụ 16)",
             answer=Convention().cutoff.hour, unit="giờ"),
        Item("text", "mau-bo-sung", "DVC.2", "co_ban", 1,
             "Khi hồ sơ chưa đầy đủ, cán bộ một cửa lập phiếu theo mẫu nào? (ghi ký hiệu mẫu, "
             "ví dụ BM.05)",
             answer=("BM.02", "BM02", "BM 02", "Mẫu BM.02")),
        Item("ordering", "quy-trinh-mot-cua", "DVC.2", "co_ban", 2,
             "Sắp xếp các bước giải quyết hồ sơ tại Bộ phận Một cửa theo đúng thứ tự.",
             (("kiem-tra", "Kiểm tra tính đầy đủ, hợp lệ của hồ sơ"),
              ("tiep-nhan", "Tiếp nhận, cấp mã hồ sơ và Giấy tiếp nhận, hẹn trả kết quả"),
              ("chuyen", "Chuyển hồ sơ đến cơ quan có thẩm quyền giải quyết"),
              ("tra", "Trả kết quả cho người dân")),
             ("kiem-tra", "tiep-nhan", "chuyen", "tra")),
        Item("task", "tiep-nhan", "DVC.2", "thanh_thao", 5, method="task_process_dossier",
             simulation="filing"),
        Item("task", "hen-tra", "DVC.3", "thanh_thao", 5, method="task_dossier_due",
             simulation="filing"),
        Item("written", "huong-dan-nop", "DVC.4", "thanh_thao", 3,
             "Tình huống: một người dân lớn tuổi muốn nộp hồ sơ trực tuyến trên Cổng Dịch vụ "
             "công quốc gia nhưng chưa biết cách. Anh/Chị hướng dẫn họ những bước chính nào "
             "(tài khoản, nộp hồ sơ, thanh toán, theo dõi và nhận kết quả)?",
             rows=8),
    ),
)


# What may go by e-mail: each option a situation of sandbox.email.channels, its key decided by
# the sandbox's own rule table (rules/channels.yaml, each rule with its sources).
BY_EMAIL = (
    ("du-thao", "Gửi dự thảo văn bản cho phòng chuyên môn khác để xin ý kiến góp ý",
     Situation("working_exchange")),
    ("lich-hop", "Trao đổi, thống nhất lịch họp với đồng nghiệp ở cơ quan khác",
     Situation("working_exchange")),
    ("phat-hanh", "Phát hành quyết định đã ký số của Ủy ban đến các cơ quan liên quan",
     Situation("official_document")),
    ("bao-cao-mat", "Gửi báo cáo có dấu chỉ độ «MẬT» cho lãnh đạo đang đi công tác",
     Situation("working_exchange", "mat")),
    ("gmail", "Gửi hồ sơ của người dân từ hộp thư Gmail cá nhân vì hộp thư công vụ bị đầy",
     Situation("personal_data", mailbox="personal")),
)
CHANNEL_TEXT = {
    "official_email": "Gửi bằng thư điện tử công vụ, đính kèm tệp văn bản",
    "document_system": "Qua Hệ thống quản lý văn bản và điều hành: Văn thư đăng ký, phát hành "
                       "văn bản điện tử (liên thông)",
    "secret_channel": "Chuyển theo quy định bảo vệ bí mật nhà nước (trực tiếp hoặc qua cơ yếu), "
                      "không qua thư điện tử hay mạng Internet",
}

THU_DIEN_TU = ExamDef(
    "thu-dien-tu", "Kiểm tra năng lực số: thư điện tử công vụ và an toàn thông tin", 20,
    "Bài kiểm tra gồm 8 câu về dùng thư điện tử công vụ: việc gì được gửi qua thư, việc gì "
    "phải qua hệ thống quản lý văn bản, tài liệu mật, hộp thư công vụ và nhận biết thư lừa "
    "đảo. Câu thực hành dùng các thư mô phỏng trong thư mục bài thi: mỗi người có thư riêng.",
    (
        Item("single", "kenh-cong-van", "TD.3", "co_ban", 1,
             "Ủy ban nhân dân phường cần gửi một công văn đã được Chủ tịch ký số đến Sở Nội "
             "vụ. Công văn phải đi theo kênh nào?",
             tuple(CHANNEL_TEXT.items()) + (
                 ("zalo", "Chụp ảnh công văn gửi qua nhóm Zalo của cơ quan"),),
             decide(Situation("official_document")).channel),
        Item("single", "van-ban-mat", "TD.3", "co_ban", 1,
             "Một tài liệu có dấu chỉ độ «MẬT» cần chuyển gấp cho lãnh đạo. Anh/Chị chuyển "
             "bằng cách nào?",
             tuple(CHANNEL_TEXT.items()) + (
                 ("nen-mat-khau", "Nén tệp có đặt mật khẩu rồi gửi qua thư điện tử công vụ"),),
             decide(Situation("official_document", "mat")).channel),
        Item("multiple", "gui-qua-thu", "TD.3", "thanh_thao", 2,
             "Những việc nào dưới đây được làm qua thư điện tử? (chọn tất cả các ý đúng)",
             tuple((k, text) for k, text, _s in BY_EMAIL),
             tuple(k for k, _t, s in BY_EMAIL if decide(s).email_allowed)),
        Item("single", "hop-thu-cong-vu", "TD.2", "co_ban", 1,
             "Anh/Chị dùng hộp thư nào để trao đổi công việc của cơ quan?",
             (("cong-vu", "Hộp thư công vụ theo tên miền của cơ quan (…gov.vn) được cấp cho "
                          "mình"),
              ("ca-nhan", "Hộp thư cá nhân (Gmail, Yahoo…) vì dễ dùng trên điện thoại"),
              ("chung", "Hộp thư của đồng nghiệp, dùng chung mật khẩu cho tiện"),
              ("bat-ky", "Hộp thư nào cũng được, miễn người nhận đọc được")),
             "cong-vu"),
        Item("single", "chuyen-tiep", "TD.2", "co_ban", 1,
             "Anh/Chị cần gửi thư của Sở Nội vụ (kèm tệp đính kèm) cho một đồng nghiệp, để "
             "đồng nghiệp thấy cả thư gốc. Anh/Chị dùng chức năng nào?",
             (("tra-loi", "Trả lời (Reply)"), ("chuyen-tiep", "Chuyển tiếp (Forward)"),
              ("tra-loi-tat-ca", "Trả lời tất cả (Reply all)"),
              ("soan-moi", "Soạn thư mới và chép lại nội dung")),
             "chuyen-tiep"),
        Item("single", "thu-den-la-cong-van", "TD.4", "co_ban", 1,
             "Hộp thư công vụ của Anh/Chị (chuyên viên) nhận được một công văn của Sở gửi đích "
             "danh, về việc chung của cơ quan. Anh/Chị làm gì trước tiên?",
             (("van-thu", "Chuyển cho Văn thư cơ quan để đăng ký vào sổ văn bản đến"),
              ("tu-giai-quyet", "Tự giải quyết ngay vì thư gửi đích danh mình"),
              ("in-luu", "In ra, lưu vào hồ sơ cá nhân"),
              ("xoa", "Xóa thư vì văn bản chỉ có giá trị khi đến bằng giấy")),
             "van-thu"),
        Item("task", "nhan-biet-lua-dao", "TD.1", "thanh_thao", 6,
             method="task_judge_phishing", simulation="email"),
        Item("written", "lo-mat-khau", "TD.1", "nang_cao", 3,
             "Tình huống: Anh/Chị vừa bấm vào liên kết trong một thư báo «hộp thư sắp bị khóa» "
             "và đã nhập mật khẩu hộp thư công vụ, rồi mới nhận ra đó là thư lừa đảo. Anh/Chị "
             "làm những việc gì, theo thứ tự nào, và báo cho ai?",
             rows=8),
    ),
)

EXAMS: dict[str, ExamDef] = {e.exam_id: e for e in (TONG_HOP, VAN_BAN, CHU_KY_SO, DICH_VU_CONG,
                                                    THU_DIEN_TU)}
