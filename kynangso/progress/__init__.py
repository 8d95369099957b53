"""Course progress: events from learners' kernels, stored per user, read back by role.

- `client.record(...)`: what course widgets call (no token or code for the learner to see);
- `service`: the `progress` JupyterHub service behind hub authentication;
- `store`: the database side, used by the service and by reports.
"""

KINDS = ("lesson_opened", "exercise_attempted", "exercise_passed", "lesson_completed")
SERVICE_NAME = "progress"
READ_OTHERS_SCOPE = "custom:progress:read"
