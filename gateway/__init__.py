"""o2c-gateway: the core package (model, X12 engine, mapping, pipeline, CLI)."""
