"""Telling the family: events out of the listener's records, and the destinations they go to.

The listener's records become `Event`s (`events.py`); each configured `Destination` (MQTT,
webhook, push notifications) says which events it wants and sends one at a time. The outbox
(in the store) holds every event bound for a destination until that destination took it.
"""
