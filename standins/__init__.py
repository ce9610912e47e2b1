"""Stand-ins of the services Privacy Desk reaches (the SaaS edge of the
world), for the tests and the embedded demo only: never in INSTALLED_APPS,
never imported by product code outside the `make run` launcher's embedded
mode. Each is a real HTTP server on loopback that keeps state and follows
the service's documented behaviour."""
