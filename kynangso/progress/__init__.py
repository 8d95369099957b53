"""Course progress: events from learners' kernels, stored per user, read back by role.

- `client.submit_answer(...)`, `client.record(...)`: what course widgets call (no token or code
  for the learner to see);
- `judge`: the service rebuilds a learner's task and judges their answer;
- `service`: the `progress` JupyterHub service behind hub authentication;
- `store`: the database side, used by the service and by reports.
"""

# What the table holds. Kernels may report only "lesson_opened"; the other kinds are written
# by the service from its own verdicts (kynangso.progress.judge, store.record_verdict).
KINDS = ("lesson_opened", "exercise_attempted", "exercise_passed", "lesson_completed")
SERVICE_NAME = "progress"
READ_OTHERS_SCOPE = "custom:progress:read"
