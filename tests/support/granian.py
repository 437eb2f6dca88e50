"""granian started the way production starts it: the Dockerfile's command, deploy/granian.env.

The command runs as it is written in the Dockerfile (a shell loads the settings file, then
``exec granian petitions:create_app``), from the project root (the image's working directory
holds ``deploy/``). Only the address is overridden, through the environment, which is also how
an operator overrides a setting; every other value is the file's.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.timing import wait_until

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "deploy" / "granian.env"
DOCKERFILE = ROOT / "Dockerfile"


def settings() -> dict[str, str]:
    """deploy/granian.env: ``KEY=VALUE`` lines; blank lines and ``#`` comments are skipped."""
    values = {}
    for line in SETTINGS.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key.isupper() and " " not in value, f"not KEY=VALUE: {line!r}"
        values[key] = value
    return values


def production_command() -> list[str]:
    """The Dockerfile's ``CMD`` (exec form: a JSON array)."""
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("CMD "):
            return list(json.loads(line.removeprefix("CMD ")))
    raise AssertionError("the Dockerfile has no CMD")


def _healthz(port: int, timeout: float) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
        return int(response.status)


@contextlib.contextmanager
def production_granian(port: int, log: Path, env: dict[str, str]) -> Iterator[int]:
    """Run the production command on 127.0.0.1:``port`` until the block ends; its standard
    output and error (granian's log and access log) go to ``log``. ``env`` is the app's
    environment (database, Redis, instance directory)."""
    run_env = {
        key: value
        for key, value in os.environ.items()
        # The file's settings, not whatever this machine's environment says.
        if not key.startswith("GRANIAN_") and key != "WEB_CONCURRENCY"
    }
    run_env.update(env)
    run_env.update(
        {
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(port),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{run_env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            production_command(),
            cwd=ROOT,
            env=run_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers are stopped with it, whatever happens
        )

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(log.read_text(errors="replace")[-3000:])
            try:
                return _healthz(port, timeout=5) == 200
            except OSError:
                return False

        try:
            wait_until(up, timeout=90, interval=0.2)
            yield port
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                # A worker that missed the signal is killed by granian after
                # GRANIAN_WORKERS_KILL_TIMEOUT; this test has no need to wait for that.
                proc.wait(5)
            with contextlib.suppress(ProcessLookupError):  # nothing of its group outlives it
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
