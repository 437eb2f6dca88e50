"""``run_script`` answers as the client's own script call, whatever happened to its connection."""

from __future__ import annotations

import redis as redis_lib

from petitions.core import redis as core_redis
from tests.conftest import TEST_REDIS_URL

_SCRIPT = "return {redis.call('INCR', KEYS[1]), ARGV[1]}"


def _kept(client: redis_lib.Redis) -> object:
    return core_redis._kept.connections[id(client)][1]


def test_answers_as_the_clients_call_and_keeps_its_connection(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    client.delete("pt:run-script")
    script = client.register_script(_SCRIPT)
    assert core_redis.run_script(script, ["pt:run-script"], ["a"]) == [1, b"a"]
    first = _kept(client)
    assert core_redis.run_script(script, ["pt:run-script"], ["b"]) == [2, b"b"]
    assert _kept(client) is first
    assert script(keys=["pt:run-script"], args=["c"]) == [3, b"c"]


def test_a_script_redis_forgot_is_loaded_again(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    client.delete("pt:run-script")
    script = client.register_script(_SCRIPT)
    assert core_redis.run_script(script, ["pt:run-script"], ["a"]) == [1, b"a"]
    client.script_flush()
    assert core_redis.run_script(script, ["pt:run-script"], ["a"]) == [2, b"a"]


def test_a_lost_kept_connection_is_replaced(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    client.delete("pt:run-script")
    script = client.register_script(_SCRIPT)
    assert core_redis.run_script(script, ["pt:run-script"], ["a"]) == [1, b"a"]
    old_id = _client_id(_kept(client))
    redis_lib.Redis.from_url(TEST_REDIS_URL).client_kill_filter(_id=str(old_id))
    assert core_redis.run_script(script, ["pt:run-script"], ["b"]) == [2, b"b"]
    assert core_redis.run_script(script, ["pt:run-script"], ["c"]) == [3, b"c"]
    assert _client_id(_kept(client)) != old_id  # a new connection, kept again


def _client_id(connection: object) -> int:
    connection.send_command("CLIENT", "ID")  # type: ignore[attr-defined]
    return int(connection.read_response())  # type: ignore[attr-defined]
