"""A stateful Salesforce (Service Cloud) stand-in on loopback (see `server.start`)."""

from standins.salesforce.server import StandIn, start
from standins.salesforce.state import Org

__all__ = ["Org", "StandIn", "start"]
