"""Home Assistant MQTT discovery: the configs that make a room's entities appear by themselves.

Each room is one device ("Misery Meter <room>") with a `binary_sensor` (crying, device class
sound) and four `sensor`s (loudness, crying probability, episodes and minutes cried tonight),
all unavailable while the room's listener is offline. The configs are retained under
`<discovery_prefix>/<component>/miserymeter_<room>/<entity>/config`.

Each entity's id is `<component>.miserymeter_<room>_<entity>`, the one docs/notifications.md's
automation names: `default_entity_id` sets it in Home Assistant 2025.10 and later, `object_id`
before (from 2026.4 Home Assistant ignores `object_id` and would name the entity after the
device, `binary_sensor.misery_meter_nursery_crying`).
"""

from __future__ import annotations

import json
from typing import Any

from miserymeter import __version__
from miserymeter.delivery.mqtt.client import OFFLINE, ONLINE
from miserymeter.delivery.mqtt.settings import MqttSettings, RoomTopics
from miserymeter.rooms import room_slug

MANUFACTURER = "Misery Meter"
MODEL = "crying detector"


def discovery_messages(settings: MqttSettings, *, room: str) -> list[tuple[str, str]]:
    """(topic, JSON payload) of every entity of `room`, to publish retained."""
    topics = RoomTopics.of(settings, room)
    node_id = f"miserymeter_{room_slug(room)}"
    device = {
        "identifiers": [node_id],
        "name": f"Misery Meter {room}",
        "manufacturer": MANUFACTURER,
        "model": MODEL,
        "sw_version": __version__,
    }
    entities: list[tuple[str, str, dict[str, Any]]] = [
        (
            "binary_sensor",
            "crying",
            {
                "name": "Crying",
                "state_topic": topics.crying,
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": "sound",
            },
        ),
        (
            "sensor",
            "loudness",
            {
                "name": "Loudness",
                "state_topic": topics.loudness_dbfs,
                "unit_of_measurement": "dBFS",
                "state_class": "measurement",
                "icon": "mdi:volume-high",
            },
        ),
        (
            "sensor",
            "probability",
            {
                "name": "Crying probability",
                "state_topic": topics.probability,
                "unit_of_measurement": "%",
                "value_template": "{{ (value | float(0) * 100) | round(0) }}",
                "state_class": "measurement",
                "icon": "mdi:emoticon-cry-outline",
            },
        ),
        (
            "sensor",
            "episodes_tonight",
            {
                "name": "Episodes tonight",
                "state_topic": topics.episodes_tonight,
                "state_class": "total_increasing",
                "icon": "mdi:counter",
            },
        ),
        (
            "sensor",
            "minutes_cried_tonight",
            {
                "name": "Minutes cried tonight",
                "state_topic": topics.minutes_cried_tonight,
                "unit_of_measurement": "min",
                "device_class": "duration",
                "state_class": "total_increasing",
            },
        ),
    ]
    messages = []
    for component, entity, fields in entities:
        config = {
            **fields,
            "unique_id": f"{node_id}_{entity}",
            "default_entity_id": f"{component}.{node_id}_{entity}",
            "object_id": f"{node_id}_{entity}",
            "availability_topic": topics.availability,
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": device,
        }
        topic = f"{settings.discovery_prefix}/{component}/{node_id}/{entity}/config"
        messages.append((topic, json.dumps(config)))
    return messages
