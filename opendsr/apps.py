from django.apps import AppConfig


class OpenDsrConfig(AppConfig):
    name = "opendsr"
    verbose_name = "OpenDSR (Privacy Desk as a processor)"
