"""Writes of the training app, one module per concern.

- `exclusions`: recording and lifting training exclusions (the feed)
- `triggers`: what a verified request or a consent change sets off
- `datasets`: registering datasets and flagging those that must be rebuilt
"""
