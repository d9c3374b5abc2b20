"""Where the listener's records go besides the console: the store, MQTT, webhooks, push."""
