"""Course 00 Làm quen với nền tảng: the screen, exercises and feedback, typing Vietnamese,
and the learner's own progress page."""

COURSE = "00-lam-quen"
