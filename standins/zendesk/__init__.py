"""A stateful Zendesk Support stand-in on loopback (see `server.start`)."""

from standins.zendesk.server import StandIn, start
from standins.zendesk.state import Account

__all__ = ["Account", "StandIn", "start"]
