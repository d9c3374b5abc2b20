"""The dashboard in tests: its settings over a store, an in-process client, a real server,
screenshots (kept in build/test-artifacts/web/, MISERYMETER_ARTIFACTS elsewhere)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.web import ServeSettings
from postgres_server import free_port

# Nights in the tests run from noon to noon in UTC+1, whatever the machine's zone.
ZONE = timezone(timedelta(hours=1))
LOCAL = "http://127.0.0.1:8000"
START_TIMEOUT_S = 10.0
ARTIFACTS = (
    Path(
        os.environ.get(
            "MISERYMETER_ARTIFACTS",
            Path(__file__).resolve().parents[1] / "build" / "test-artifacts",
        )
    )
    / "web"
)


def settings_for(db: Path | str, tmp_path: Path, **changes: object) -> ServeSettings:
    """Settings over `db`, with clips and the dataset in `tmp_path`, unless changed."""
    values: dict[str, object] = {
        "db": str(db),
        "clips_dir": tmp_path / "clips",
        "data_dir": tmp_path / "dataset",
        "model_path": DEFAULT_MODEL_PATH,
        "zone": ZONE,
        **changes,
    }
    return ServeSettings(**values)  # type: ignore[arg-type]


def csrf_token(client: TestClient, page: str = "/login") -> str:
    """The CSRF token a page of the dashboard carries for this client's session."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(page).text)
    assert found is not None
    return found.group(1)


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline_s = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline_s and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)


def shot(page: object, name: str) -> Path:
    """A full-page screenshot of a playwright page, kept as `name` among the artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


# The lines each element's text is laid out on: the distinct tops of its words' boxes.
LINES_JS = """(selector) => [...document.querySelectorAll(selector)].map((e) => {
  const words = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  const tops = new Set();
  for (let node = words.nextNode(); node; node = words.nextNode()) {
    const text = document.createRange();
    text.selectNodeContents(node);
    for (const box of text.getClientRects()) tops.add(Math.round(box.top));
  }
  return tops.size;
})"""


def lines_of(page: object, selector: str) -> list[int]:
    """How many lines the text of each element `selector` finds takes up on `page`."""
    return page.evaluate(LINES_JS, selector)  # type: ignore[attr-defined]
