"""Transports and ERP connectors that plug into the gateway through gateway.ports."""
