"""Pure builders: spec in, engine request out. No I/O, unit tested without a cluster."""
