"""What every WeasyPrint rendering in a process shares.

Building a FontConfiguration (a Pango font map) for each document costs a
few milliseconds and starts every document with cold font caches; one per
process serves every letter and evidence pack. Nothing declares @font-face,
so nothing accumulates in it. Celery prefork and the web server's workers
(privacydesk.web: one thread each) render one document at a time per process.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def pdf_font_config() -> Any:
    """The process's one WeasyPrint font configuration."""
    # Local: WeasyPrint takes ~0.8 s to import; web processes load this module.
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
