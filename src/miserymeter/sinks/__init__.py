"""Where the listener's records go, each behind `records.RecordSink`: the store (`store.py`,
which also queues the events for the destinations), the console and JSON lines (`console.py`),
Prometheus (`prometheus.py`). A destination that takes the live state of every second too
(MQTT) hands the listener its own sink (`delivery.destination.WithLiveState`)."""
