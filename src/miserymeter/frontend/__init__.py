"""From samples to what a model sees: windows and log-mel features."""
