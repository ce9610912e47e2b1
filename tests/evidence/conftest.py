"""Evidence packs read the domain: the access-package fixtures serve here too
(a pack shows the request's package)."""

from tests.dsr.packages.conftest import (  # noqa: F401 - fixtures
    _clear_cache,
    answered_request,
    make_connector,
    media,
)
