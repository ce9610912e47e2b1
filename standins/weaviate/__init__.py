"""A stateful Weaviate (REST v1) stand-in on loopback (see `server.start`)."""

from standins.weaviate.server import StandIn, start
from standins.weaviate.state import Store

__all__ = ["StandIn", "Store", "start"]
