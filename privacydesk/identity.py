"""The plaintext identifiers of a data subject, as one value.

Shared by the layer that reads them (`subjects.selectors.subjects_identity`
decrypts them) and the layer that uses them (`connectors.base` hands them to
every kind), which are siblings and may not import each other: so the type
lives in the foundation, and `connectors.base` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """The subject as a connector sees it: plaintext identifiers, in memory only."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    customer_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def values(self, kind: str, namespace: str = "") -> tuple[str, ...]:
        if kind == "email":
            return self.emails
        if kind == "phone":
            return self.phones
        if kind == "customer_id":
            if namespace:
                return self.customer_ids.get(namespace, ())
            return tuple(v for values in self.customer_ids.values() for v in values)
        raise KeyError(kind)

    def all_values(self) -> tuple[str, ...]:
        return self.emails + self.phones + self.values("customer_id")

    def is_empty(self) -> bool:
        return not self.all_values()
