"""Calibrating a room: its quiet level, and thresholds chosen from the family's reviewed clips.

`quiet_room`, `sounds` and `thresholds` are pure (numpy, no store, no model); `clip_scores`
scores the dataset's clips with the model (ONNX Runtime).
"""
