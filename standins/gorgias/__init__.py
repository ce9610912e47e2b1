"""A stateful Gorgias stand-in on loopback (see `server.start`)."""

from standins.gorgias.server import StandIn, start
from standins.gorgias.state import Account

__all__ = ["Account", "StandIn", "start"]
