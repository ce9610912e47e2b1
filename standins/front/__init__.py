"""A stateful Front stand-in on loopback (see `server.start`)."""

from standins.front.server import StandIn, start
from standins.front.state import Company

__all__ = ["Company", "StandIn", "start"]
