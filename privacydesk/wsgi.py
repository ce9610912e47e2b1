"""The WSGI application the web server serves (privacydesk.web):
the API under /api/v1/ through its own middleware stack, the rest through
the site's (privacydesk.handlers)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")
django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application

from privacydesk.handlers import SiteApplication  # noqa: E402  # after setup

application = SiteApplication()
