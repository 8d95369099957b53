"""Course 02 Chữ ký số: exercises built on sandbox.signing (a private practice CA per learner)."""

import logging

# pyHanko logs every failed validation with a traceback. The faulty documents of the exercises
# fail on purpose and the verifier's Vietnamese report says why, so in a learner's kernel those
# English tracebacks would only frighten; keep them out of the cell output.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

COURSE = "02-chu-ky-so"
