"""Alembic revision scripts, oldest first by their revision id."""
