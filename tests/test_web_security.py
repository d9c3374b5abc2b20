"""Who may see the dashboard: a password and a session cookie off loopback, CSRF everywhere,
and a generated barrage of bad parameters at every endpoint that never makes a 500."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from miserymeter.errors import ConfigError
from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.login_throttle import FIRST_WAIT_S, FREE_ATTEMPTS, LoginThrottle
from miserymeter.web.passwords import hash_password, verify_password
from miserymeter.web.sessions import COOKIE_NAME, SessionSigner
from store_records import episode, minute_of_records
from web_helpers import LOCAL, csrf_token, settings_for

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("security") / "store.db"
    with open_store(path) as store:
        store.write(minute_of_records("nursery", 0, rng=np.random.default_rng(1)))
        store.write([episode("nursery", 10.0, 30.0)])
    return path


@pytest.fixture
def guarded(db: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The dashboard with a password, as served on the home network."""
    settings = settings_for(db, tmp_path, host="0.0.0.0", password_hash=hash_password(PASSWORD))
    with TestClient(create_app(settings), base_url="http://192.168.1.20:8000") as client:
        yield client


def test_a_password_hash_verifies_only_its_password() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("scrypt$") and PASSWORD not in hashed
    assert verify_password(PASSWORD, hashed) and not verify_password("wrong horse", hashed)
    assert hash_password(PASSWORD) != hashed  # salted
    with pytest.raises(ConfigError, match="too short"):
        hash_password("short")


def test_other_hosts_need_a_password(db: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--host 0\.0\.0\.0: .*password"):
        create_app(settings_for(db, tmp_path, host="0.0.0.0"))
    with pytest.raises(ConfigError, match="hash-password"):
        create_app(settings_for(db, tmp_path, host="0.0.0.0", password_hash="plain text"))


def test_without_logging_in_nothing_is_shown(guarded: TestClient) -> None:
    page = guarded.get("/rooms/nursery", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/rooms/nursery"
    odd = guarded.get("/rooms/Room%202%2FB/nights", follow_redirects=False)  # back there after
    assert odd.headers["location"] == f"/login?next={quote('/rooms/Room%202%2FB/nights')}"
    api = guarded.get("/api/rooms/nursery/timeline")
    assert api.status_code == 401 and "log in" in api.json()["error"]
    audio = guarded.get("/api/rooms/nursery/episodes/2026-11-24T19:00:10.250Z/audio")
    assert audio.status_code == 401
    for method in ("POST", "DELETE"):  # a review, and its undo
        review = guarded.request(
            method, "/api/rooms/nursery/episodes/2026-11-24T19:00:10.250Z/review"
        )
        assert review.status_code == 401, method
    assert guarded.get("/login").status_code == 200


def test_logging_in_opens_a_session_and_logging_out_ends_it(guarded: TestClient) -> None:
    token = csrf_token(guarded)
    wrong = guarded.post("/login", data={"password": "nope", "csrf_token": token, "next": "/"})
    assert wrong.status_code == 401 and "Wrong password" in wrong.text
    forged = guarded.post("/login", data={"password": PASSWORD, "csrf_token": "x", "next": "/"})
    assert forged.status_code == 403
    before = guarded.cookies.get(COOKIE_NAME)
    logged_in = guarded.post(
        "/login",
        data={"password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/"
    cookie = logged_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert guarded.cookies.get(COOKIE_NAME) != before  # a new session, not the one before
    assert guarded.get("/api/rooms").json() == ["nursery"]
    new_token = csrf_token(guarded, "/rooms/nursery")
    assert new_token != token
    guarded.post("/logout", headers={"X-CSRF-Token": new_token})
    assert guarded.get("/api/rooms").status_code == 401


def test_a_cookie_copied_before_logging_out_is_no_session_after_it(guarded: TestClient) -> None:
    token = csrf_token(guarded)
    guarded.post("/login", data={"password": PASSWORD, "csrf_token": token, "next": "/"})
    copied = guarded.cookies.get(COOKIE_NAME)
    assert guarded.get("/api/rooms").status_code == 200
    guarded.post("/logout", headers={"X-CSRF-Token": csrf_token(guarded, "/rooms/nursery")})
    guarded.cookies.set(COOKIE_NAME, copied)
    assert guarded.get("/api/rooms").status_code == 401


def test_wrong_passwords_make_the_next_try_wait_even_with_the_right_one(
    guarded: TestClient,
) -> None:
    token = csrf_token(guarded)
    for _ in range(FREE_ATTEMPTS):
        wrong = guarded.post("/login", data={"password": "guess", "csrf_token": token})
        assert wrong.status_code == 401
    right = guarded.post("/login", data={"password": PASSWORD, "csrf_token": token})
    assert right.status_code == 429 and "Too many wrong passwords" in right.text
    assert int(right.headers["Retry-After"]) > 0
    assert guarded.get("/api/rooms").status_code == 401


def test_the_wait_doubles_with_each_further_miss_and_a_login_forgets_it() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(FREE_ATTEMPTS - 1):
        throttle.missed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 0.0
    throttle.missed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == FIRST_WAIT_S and throttle.wait_s("10.0.0.8") == 0.0
    now[0] += FIRST_WAIT_S
    throttle.missed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 2 * FIRST_WAIT_S
    throttle.succeeded("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 0.0


def test_a_forged_or_tampered_cookie_is_no_session(guarded: TestClient) -> None:
    other_key = SessionSigner().dump(SessionSigner().new(authenticated=True))
    guarded.cookies.set(COOKIE_NAME, other_key)
    assert guarded.get("/api/rooms").status_code == 401
    body, signature = other_key.split(".")
    guarded.cookies.set(COOKIE_NAME, f"{body}x.{signature}")
    assert guarded.get("/api/rooms").status_code == 401


def test_on_loopback_only_local_host_names_are_answered(db: Path, tmp_path: Path) -> None:
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        assert client.get("/api/rooms").status_code == 200
        rebound = client.get("/api/rooms", headers={"Host": "attacker.example:8000"})
        assert rebound.status_code == 400 and "localhost" in rebound.json()["error"]


BAD_VALUES = [
    "",
    "nope",
    "../../etc/passwd",
    "..%2F..%2Fetc",
    "2026-13-45",
    "2026-11-25T25:61",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59-23:59",
    "-1",
    "0",
    "1e309",
    "NaN",
    "ünïcødé 🍼",
    "%",
    "a/../../b",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "x" * 3000,
]
QUERY_NAMES = ["since", "until", "night", "last", "n", "after"]


def bad_requests(route: APIRoute, rng: np.random.Generator) -> Iterator[str]:
    """URLs of `route` with generated bad path values and query parameters."""
    template = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)  # {room:room} → {room}
    names = re.findall(r"{(\w+)}", template)
    for values in itertools.islice(itertools.product(BAD_VALUES, repeat=len(names)), 30):
        path = template
        for name, value in zip(names, values, strict=True):
            path = path.replace(f"{{{name}}}", quote(value, safe=""))
        query = {
            n: BAD_VALUES[int(rng.integers(len(BAD_VALUES)))]
            for n in QUERY_NAMES
            if rng.random() < 0.5
        }
        yield path + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()) if query else "")
    real_room = template.replace("{room}", "nursery")
    for name in QUERY_NAMES:
        for value in BAD_VALUES[:8]:
            yield (
                re.sub(r"{\w+}", "2026-11-24T19:00:10.250Z", real_room) + f"?{name}={quote(value)}"
            )
    yield (
        real_room.replace("{night}", "2026-11-24")
        + "?since=2026-01-01T00:00Z&until=2026-12-31T00:00Z"
    )


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route, those of included routers too (FastAPI keeps those in `original_router`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from api_routes(original.routes)


def test_generated_bad_requests_get_a_clear_4xx_never_a_500(db: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        token = csrf_token(client, "/rooms/nursery")
        routes = list(api_routes(client.app.routes))  # type: ignore[attr-defined]
        assert len(routes) >= 14
        n_requests = 0
        for route in routes:
            for url in bad_requests(route, rng):
                for method in (route.methods or set()) & {"GET", "POST"}:
                    answer = client.request(
                        method, url, headers={"X-CSRF-Token": token}, json={"label": "crying"}
                    )
                    n_requests += 1
                    assert answer.status_code < 500, (method, url, answer.text)
                    if answer.status_code >= 400 and answer.headers["content-type"].startswith(
                        "application/json"
                    ):
                        assert answer.json()["error"], (method, url)
        huge = client.get(
            "/api/rooms/nursery/timeline?since=2020-01-01T00:00Z&until=2026-01-01T00:00Z"
        )
        assert huge.status_code == 400 and "at most 31 days" in huge.json()["error"]
        backwards = client.get(
            "/api/rooms/nursery/timeline?since=2026-01-02T00:00Z&until=2026-01-01T00:00Z"
        )
        assert backwards.status_code == 400 and "after" in backwards.json()["error"]
        unknown = client.get("/api/rooms/kitchen/nights")
        assert unknown.status_code == 404 and "the rooms are: nursery" in unknown.json()["error"]
    assert n_requests > 500
