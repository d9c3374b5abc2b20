"""The dashboard: a FastAPI app over the store, the episode clips and the review dataset.

`create_app(settings)` builds it (nothing is built at import time); `miserymeter serve` runs it.
"""

from miserymeter.web.app import create_app
from miserymeter.web.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
