"""One Redis client per app, with short timeouts so a dead Redis never stalls a request; and
scripts run on a connection each thread keeps (``run_script``)."""

from __future__ import annotations

import threading
from typing import Any

import redis
from flask import current_app
from hiredis import pack_command
from redis.commands.core import Script


def get_redis() -> redis.Redis | None:
    """The app's Redis client, or None when the service runs without Redis."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    client = current_app.extensions.get("petitions_redis")
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=1.0, health_check_interval=30
        )
        current_app.extensions["petitions_redis"] = client
    return client


_kept = threading.local()


def run_script(script: Script, keys: list[Any], args: list[Any]) -> Any:
    """``script(keys=keys, args=args)``, on a connection this thread keeps from the client's
    pool, so a call is one send and one read (the client's checkout, check-in and retry
    wrapper were most of a call's CPU; signing makes two). Anything unusual — the script not
    loaded yet, a lost connection — is handed to the client's own call, with its retries."""
    client: Any = script.registered_client
    kept: dict[int, tuple[Any, Any]] | None = getattr(_kept, "connections", None)
    if kept is None:
        kept = _kept.connections = {}
    entry = kept.get(id(client))
    if entry is None or entry[0] is not client:
        entry = kept[id(client)] = (client, client.connection_pool.get_connection())
    connection = entry[1]
    # Packed by hiredis in C: the client's own packing (an encoder call and type checks per
    # argument) was a tenth of a signature's CPU. The same bytes for str and int arguments.
    packed = pack_command(("EVALSHA", script.sha, len(keys), *keys, *args))
    try:
        connection.send_packed_command([packed])
        return connection.read_response()
    except redis.exceptions.NoScriptError:
        pass  # the connection is fine: the client's call loads the script
    except redis.exceptions.ResponseError:
        raise  # the script's own error, as the client's call raises it
    except BaseException:
        del kept[id(client)]
        connection.disconnect()
        client.connection_pool.release(connection)
    return script(keys=keys, args=args)
