"""A stateful HubSpot CRM stand-in on loopback (see `server.start`)."""

from standins.hubspot.server import StandIn, start
from standins.hubspot.state import Portal

__all__ = ["Portal", "StandIn", "start"]
