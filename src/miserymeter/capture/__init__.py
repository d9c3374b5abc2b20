"""Continuous capture: microphones, the segment archive, retention and the recorder loop."""
