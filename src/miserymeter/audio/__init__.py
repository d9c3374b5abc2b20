"""Reading, writing and converting audio."""
