"""A realistic, deterministic helpdesk store for the demo, tests and benchmarks.

Four tables, the shape most support tools share: customers, their tickets,
the messages of each ticket (free text with names, e-mails, phone numbers and
order numbers inside), and AI-assistant conversation logs keyed by e-mail.
Everything comes from one seeded random generator: the same seed gives the
same store, byte for byte.

Three modules, each the only home of its names (this package exports
nothing; import from the module that owns a name):

- ``connectors.demo.content``: the generated people and texts (``customer``,
  ``StoreSize``, ``rows``);
- ``connectors.demo.stores``: the builders that write them out (SQLite,
  PostgreSQL, JSON-lines chat transcripts);
- ``connectors.demo.config``: the demo connectors' configuration
  (``SQL_CONNECTOR_TABLES``, ``FILES_CONNECTOR_CONFIG``, disclosures) and
  ``demo_stores_seed``, which builds the stores and creates those connectors.
"""
