"""Adapters between the engine and the outside world (Asterisk, stores, HTTP)."""
