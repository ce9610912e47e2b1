from django.apps import AppConfig


class DsrConfig(AppConfig):
    name = "dsr"
    verbose_name = "Data-subject requests"

    def ready(self) -> None:
        # Fail at start-up, not on the first erasure, on a mistyped setting.
        from django.conf import settings

        from dsr.review import work_review_parse

        work_review_parse(list(settings.REVIEW_BEFORE_ERASURE))
