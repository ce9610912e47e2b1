"""Writes of the retention app, one module per concern (import from the
module that owns the name; this package re-exports nothing).

- `policy_rules`: a policy's input rules (scope, action, fields, schedule)
- `policies`: creating and changing policies, the built-in one included
- `schedules`: a policy's schedule mirrored into django-celery-beat
- `runs`: starting, resuming and handing purge runs to a worker
- `run_batches`: a run's work, batch by batch from its checkpoint
- `progress`: a run's batches and held rows recorded (store purges and
  self-minimisation alike)
- `run_endings`: how a run ends: audit, the officers' alert, its evidence pack
- `minimise`: the built-in policy: Privacy Desk minimises its own data
- `holds`: legal holds placed and released
"""
