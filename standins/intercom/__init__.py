"""A stateful Intercom stand-in on loopback (see `server.start`)."""

from standins.intercom.server import StandIn, start
from standins.intercom.state import Workspace

__all__ = ["StandIn", "Workspace", "start"]
