"""Deadline engine for data-subject requests, in plain Python (no Django).

Two modules, each the only home of its names (this package exports nothing;
import from the module that owns a name):

- ``dsr.deadlines.dates``: the working calendar of a jurisdiction (weekends
  and public holidays) and calendar arithmetic (``add_months``,
  ``hours_deadline``);
- ``dsr.deadlines.counting``: regimes, pauses and their rules, and
  ``compute_deadlines``, which counts a request's deadlines with them.
"""
