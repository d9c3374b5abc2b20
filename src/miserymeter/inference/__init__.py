"""Run an exported Misery Meter model with ONNX Runtime (no PyTorch)."""
