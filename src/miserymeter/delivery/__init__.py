"""Telling the family: events out of the listener's records, and the destinations they go to.

The listener's records become `Event`s (`miserymeter/events.py`); each configured
`Destination` (MQTT, webhook, push notifications) says which events it wants and sends one at
a time. The outbox
(in the store) holds every event bound for a destination until that destination took it.

One sub-package per kind of destination (`mqtt/`, `notify/`, `webhook/`), each exposing
`from_config` in its `destination.py`; `configure.py` builds the configured ones,
`courier.py` delivers each one's outbox in order, `destination.py` is their contract.
"""
