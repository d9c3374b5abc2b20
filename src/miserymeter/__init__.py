"""Misery Meter: hears when the baby is crying and shows how the nights went."""

__version__ = "0.1.0"
