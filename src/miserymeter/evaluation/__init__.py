"""Long test nights with known truth, and how well a detector did on them (runtime only)."""
