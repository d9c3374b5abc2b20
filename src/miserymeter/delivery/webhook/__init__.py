"""Webhooks (`--webhook`, `[[webhook]]`): every event POSTed as JSON, signed (`destination.py`)."""
