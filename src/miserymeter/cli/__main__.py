"""`python -m miserymeter.cli`."""

import sys

from miserymeter.cli import app

sys.exit(app())
