"""MQTT and Home Assistant: events on topics, the live state retained, discovery configs.

`destination.py` is the destination (`[mqtt]`), over `client.py`'s connection; `settings.py`
reads its table; `home_assistant.py` makes the discovery configs; `tonight.py` keeps
tonight's totals.
"""
