"""Fan-out: one RequestTask per (connector, action), run as Celery jobs.

The database is the truth; the broker only carries task ids. Every step is a
guarded transition (compare-and-swap on status), so a message delivered twice,
a worker killed mid-task or a sweeper re-enqueueing a task can never make an
action count twice or a request close early.

The executor's modules, each importing only those above it:

- `planning`: a request's tasks created and sent to the broker after commit,
  and the follow-ups a worker runs itself right after a task;
- `finalising`: the last task to end closes the request (or plans erasure's
  verification pass, or the access package);
- `recording`: what a task's end writes (its outcome, the check made right
  after an erasure, the audit events);
- `running`: one task run once: claim, connector call, result file, the
  check after erasing, failures and retries;
- `staff`: what people and external parties do to a task (retry, skip,
  done by hand, a result or a failure reported);
- `sweeping`: work a dead worker or a lost message left behind.
"""
