"""`miserymeter train` asks OpenMP for sleeping waiting threads before PyTorch is loaded: with
spinning ones, a busy laptop slowed training several times over (bench/train_load.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import cli_env

# Runs `train` in-process and reports OMP_WAIT_POLICY as it was when `torch` began to import
# (OpenMP reads it then); the run itself fails at once on a missing folder.
WAIT_POLICY_AT_TORCH_IMPORT = """
import json, os, sys
seen = []
def hook(event, args):
    if event == "import" and args[0] == "torch" and not seen:
        seen.append(os.environ.get("OMP_WAIT_POLICY"))
sys.addaudithook(hook)
from miserymeter.cli import app
try:
    app(["train", "--data_dir=/nonexistent", "--wanted_words=crying"], standalone_mode=False)
except BaseException:
    pass
print(json.dumps(seen))
"""


@pytest.mark.parametrize(("chosen", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_training_threads_sleep_while_waiting_unless_the_user_chose_otherwise(
    chosen: str | None, expected: str
) -> None:
    env = {k: v for k, v in cli_env().items() if k != "OMP_WAIT_POLICY"}
    if chosen is not None:
        env["OMP_WAIT_POLICY"] = chosen
    finished = subprocess.run(
        [sys.executable, "-c", WAIT_POLICY_AT_TORCH_IMPORT],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )

    assert json.loads(finished.stdout.splitlines()[-1]) == [expected]
