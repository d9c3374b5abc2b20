"""`python -m miserymeter`: the `miserymeter` command."""

import sys

from miserymeter.cli import app

sys.exit(app(prog_name="miserymeter"))
