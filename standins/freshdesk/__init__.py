"""A stateful Freshdesk stand-in on loopback (see `server.start`)."""

from standins.freshdesk.server import StandIn, start
from standins.freshdesk.state import Account

__all__ = ["Account", "StandIn", "start"]
