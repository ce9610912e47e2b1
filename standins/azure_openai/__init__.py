"""A stateful Azure OpenAI stand-in on loopback: the OpenAI stand-in's
stored chat completions behind a resource's /openai/v1/ and Entra ID
tokens (see `server.start`)."""

from standins.azure_openai.server import start
from standins.openai.server import StandIn
from standins.openai.state import Account

__all__ = ["Account", "StandIn", "start"]
