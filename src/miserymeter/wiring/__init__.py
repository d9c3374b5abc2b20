"""Long-running commands, wired: each built from its typed options, run, and torn down."""
