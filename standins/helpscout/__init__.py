"""A stateful Help Scout (Mailbox API 2.0) stand-in on loopback (see `server.start`)."""

from standins.helpscout.server import StandIn, start
from standins.helpscout.state import Account

__all__ = ["Account", "StandIn", "start"]
