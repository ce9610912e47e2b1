"""Vector-store kinds: `base` holds what they share (config, the subject's
match, access, erasure, verification over the `VectorEngine` protocol); each
engine is one module (`qdrant`)."""
