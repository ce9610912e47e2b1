"""The portal a HubSpot stand-in holds: contacts (each a record of string
properties), archived ones (DELETE: restorable, not searchable, not read by
id) and the GDPR deletion (permanent, gone from everywhere; an unknown
e-mail given by `idProperty` is blocklisted instead). Seeded from the demo
generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings

# What a search or a read returns when no `properties` are asked for.
# Source: https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
DEFAULT_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
WRITABLE = ("email", "firstname", "lastname", "phone", "mobilephone", "company")
STAMP = "2025-01-01T09:00:00.000Z"


def contact_id(customer: int) -> str:
    return str(1_000 + customer)


@dataclass
class Portal(Holdings):
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    archived: set[str] = field(default_factory=set)
    gdpr_deleted: set[str] = field(default_factory=set)
    blocklist: set[str] = field(default_factory=set)
    _next_id: int = 5_000

    @classmethod
    def seeded(cls, customers: int = 10, *, seed: int = 2026) -> Portal:
        portal = cls()
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            first, _, last = person.name.partition(" ")
            cid = contact_id(number)
            portal.contacts[cid] = {
                "hs_object_id": cid,
                "email": person.email,
                "firstname": first,
                "lastname": last,
                "phone": person.phone,
                "company": "",
                "createdate": STAMP,
                "lastmodifieddate": STAMP,
            }
        return portal

    def shown(self, cid: str, properties: list[str] | None) -> dict[str, Any]:
        """A contact as the API shows it: id, the properties asked (else
        the defaults; null when unset), timestamps, archived flag."""
        held = self.contacts[cid]
        names = properties or list(DEFAULT_PROPERTIES)
        return {
            "id": cid,
            "properties": {name: held.get(name) or None for name in names},
            "createdAt": held["createdate"],
            "updatedAt": held["lastmodifieddate"],
            "archived": cid in self.archived,
        }

    # -- reads ----------------------------------------------------------------
    def search(
        self, groups: list[list[tuple[str, str]]], properties: list[str] | None
    ) -> list[dict[str, Any]]:
        """Live contacts matching any group (all its `EQ` filters), by id.
        Archived contacts are not searchable."""
        with self.lock:
            found = []
            for cid in sorted(self.contacts, key=int):
                if cid in self.archived:
                    continue
                held = self.contacts[cid]
                if any(
                    all(
                        (held.get(name) or "").lower() == value.lower()
                        for name, value in group
                    )
                    for group in groups
                ):
                    found.append(self.shown(cid, properties))
            return found

    def read(self, cid: str, properties: list[str] | None) -> dict[str, Any] | None:
        """A live contact by id (an archived one only with archived=true
        in HubSpot; not offered here)."""
        with self.lock:
            if cid not in self.contacts or cid in self.archived:
                return None
            return self.shown(cid, properties)

    def first(self, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            live = [c for c in sorted(self.contacts, key=int) if c not in self.archived]
            return [self.shown(cid, ["hs_object_id"]) for cid in live[:limit]]

    # -- writes ---------------------------------------------------------------
    def update(self, cid: str, changes: dict[str, Any]) -> dict[str, Any] | str:
        """Write properties; the contact, or HubSpot's error category."""
        with self.lock:
            if cid not in self.contacts or cid in self.archived:
                return "OBJECT_NOT_FOUND"
            if any(name not in WRITABLE for name in changes):
                return "VALIDATION_ERROR"
            self.contacts[cid].update({k: str(v) for k, v in changes.items()})
            self.contacts[cid]["lastmodifieddate"] = "2026-01-01T09:00:00.000Z"
            return self.shown(cid, list(changes))

    def archive(self, cid: str) -> None:
        """DELETE by id: archived (restorable for 90 days). HubSpot answers
        204 whether or not the id exists."""
        with self.lock:
            if cid in self.contacts:
                self.archived.add(cid)

    def gdpr_delete(self, object_id: str, id_property: str | None) -> bool:
        """Permanently delete by id (or by e-mail with idProperty=email);
        False when no contact has that id. An unknown e-mail is blocklisted."""
        with self.lock:
            if id_property == "email":
                wanted = object_id.strip().lower()
                matches = [
                    cid
                    for cid, held in self.contacts.items()
                    if (held.get("email") or "").lower() == wanted
                ]
                if not matches:
                    self.blocklist.add(wanted)
                    return True
                object_id = matches[0]
            if object_id not in self.contacts:
                return False
            del self.contacts[object_id]
            self.archived.discard(object_id)
            self.gdpr_deleted.add(object_id)
            return True

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "contacts": len(self.contacts) - len(self.archived),
                "archived": sorted(self.archived),
                "gdpr_deleted": sorted(self.gdpr_deleted),
                "blocklisted": len(self.blocklist),
            }
