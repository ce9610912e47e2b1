"""Vector-store kinds: `base` holds what they share (the subject's match,
access, erasure and verification over the `VectorEngine` protocol),
`config` the common part of their config; each engine is one module
(`qdrant`)."""
