"""Writes of consent, one module per concern.

- `events`: recording grants and withdrawals (portal, dashboard, GPC) and
  the one function that applies every event
- `inputs`: the input rules of an event (evidence, purpose, version, time)
- `states`: the derived state, and what a withdrawal sets off
- `assessments`: erasure assessments opened by a withdrawal, decided by staff
- `intake`: events arriving through the API, one or an all-or-nothing batch
- `policies`: purposes, published wording, links to connectors
- `propagations`: pushing withdrawals to connectors, with retries
- `jobs`: withdrawals worked outside (webhook callbacks, pull agents)
"""
