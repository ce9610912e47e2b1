"""A stateful OpenAI stand-in on loopback: stored chat completions (see
`server.start`)."""

from standins.openai.server import StandIn, start
from standins.openai.state import Account

__all__ = ["Account", "StandIn", "start"]
