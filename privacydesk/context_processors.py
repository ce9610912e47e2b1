from django.conf import settings
from django.http import HttpRequest


def product(request: HttpRequest) -> dict[str, str]:
    return {"controller_name": settings.CONTROLLER_NAME}
