"""One JSON encoder for many small documents, as `json.dumps` writes them.

`JSONEncoder.encode` builds its C encoder again at every call (about as long
as encoding a small record); the streams of records of a large access (the
task's result lines, the package's data.json) encode a million of them.
`encoder()` builds it once. The text is exactly `json.dumps(value,
ensure_ascii=False, default=default, sort_keys=sort_keys)`'s, for values
without cycles (it does not look for them: records read from a database or
from JSON have none).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any


def encoder(
    *, sort_keys: bool = False, default: Callable[[Any], Any] | None = None
) -> Callable[[Any], str]:
    """A function from a value to its JSON text (non-ASCII kept as is)."""
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the standard path
        return json.JSONEncoder(
            ensure_ascii=False, default=default, sort_keys=sort_keys
        ).encode
    encode = make(
        None,  # markers: no cycle check
        default or json.JSONEncoder().default,
        _encoder.encode_basestring,
        None,  # indent
        ": ",
        ", ",
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )

    def text(value: Any) -> str:
        return "".join(encode(value, 0))

    return text
