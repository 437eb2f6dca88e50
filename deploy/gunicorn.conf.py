"""Gunicorn settings for production: the one place the Dockerfile, docker-compose.yml and the
slow-client test (tests/faults/test_slow_clients.py) read them from.

Why these (docs/operations.md, "Slow clients"): a sync worker is one request at a time, from
the first byte of the body to the last byte of the response, so a handful of clients that send
a body slowly would hold every worker and the site (``/healthz`` included) waits. Here:

* ``gthread`` workers: each process serves ``threads`` requests at once, and keep-alive
  connections wait in the process's event loop, not in a thread;
* in the compose file, nginx sits in front and buffers each request body completely before
  gunicorn sees it (and each response), so slow clients cost nginx a socket, not a thread;
* timeouts: a worker silent for ``timeout`` seconds is restarted; nginx gives up on a client
  that stalls its headers or body for 10 seconds.

``GUNICORN_BIND``, ``WEB_CONCURRENCY`` and ``GUNICORN_THREADS`` override the defaults.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Requests nobody legitimate sends: overlong request lines and headers are refused early.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
