"""Course 04 Thư điện tử công vụ và an toàn thông tin: exercises built on sandbox.email (the
mailbox, the signs of phishing, the channel rules, the way from an attachment to the register)."""

import logging

# pyHanko logs every failed validation with a traceback; the tampered attachment of lesson 04
# fails on purpose and the verifier's Vietnamese report says why (as in course 02).
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

COURSE = "04-thu-dien-tu"
