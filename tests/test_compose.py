"""No Docker engine runs here: check that docker-compose.yml only uses what the code has."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from petitions import create_app
from tests.support.granian import production_command, settings

ROOT = Path(__file__).resolve().parent.parent
SERVICE_IMAGES_VARS = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_present_with_health_checks():
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "mail", "migrate", "proxy"} <= set(
        services
    )
    for name in ("web", "postgres", "redis", "worker", "proxy"):
        assert "healthcheck" in services[name], name
    redis_cmd = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "noeviction" in redis_cmd


def test_every_environment_variable_is_read_by_the_code():
    source = "\n".join(p.read_text() for p in (ROOT / "petitions").rglob("*.py"))
    read = set(re.findall(r'env_(?:str|int|bool|float)\(\s*"([A-Z_]+)"', source))
    read |= set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z_]+)"', source))
    for name, service in _compose()["services"].items():
        for var in service.get("environment") or {}:
            assert var in read or var in SERVICE_IMAGES_VARS, f"{name}: {var} is not read"


def test_every_command_exists():
    app = create_app("test")
    cli_commands = set(app.cli.commands) | {"db"}
    for name, service in _compose()["services"].items():
        command = service.get("command")
        if not command or name in ("redis", "proxy"):
            continue
        program = command[0]
        if program == "flask":
            assert command[1:3] == ["--app", "petitions"]
            assert command[3] in cli_commands, f"{name}: flask {command[3]}"
        elif program == "granian":
            assert command[-1] == "petitions:create_app"
        elif program == "celery":
            assert command[1:3] == ["-A", "workers"] and command[3] in ("worker", "beat")
        else:
            raise AssertionError(f"{name}: unknown program {program}")
    assert "workers.celery_app" in (ROOT / "workers" / "__init__.py").read_text()


def test_web_is_behind_a_buffering_proxy_with_the_production_granian_settings():
    """Slow clients (issue 11): nginx buffers bodies in front; granian reads one settings file."""
    services = _compose()["services"]
    web, proxy = services["web"], services["proxy"]
    assert "ports" not in web, "only the proxy is published"
    assert proxy["ports"] == ["8000:8000"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    # The image's command, with the one settings file (compose passes it too, as env_file).
    assert "command" not in web, "web runs the Dockerfile's CMD"
    assert web["env_file"] == "deploy/granian.env"
    command = production_command()
    assert command[:2] == ["sh", "-c"]
    assert ". deploy/granian.env;" in command[2]
    assert command[2].endswith("; exec granian petitions:create_app")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY deploy ./deploy" in dockerfile
    values = settings()
    # Inside the container, on the compose network; only the proxy's port is published.
    assert values["GRANIAN_PORT"] == "8000" and values["GRANIAN_HOST"] == "0.0.0.0"  # noqa: S104
    assert values["GRANIAN_INTERFACE"] == "wsgi" and values["GRANIAN_FACTORY"] == "true"
    assert values["GRANIAN_WEBSOCKETS"] == "false"
    assert values["GRANIAN_LOG_ACCESS_ENABLED"] == "true"  # redacted: test_privacy_copies.py
    # Docker waits for granian's own bound on stopping its workers before it kills them.
    grace = re.fullmatch(r"(\d+)s", web["stop_grace_period"])
    assert grace and int(grace.group(1)) > int(values["GRANIAN_WORKERS_KILL_TIMEOUT"])
    # Every name is one granian reads (`granian --help` lists each option's variable).
    granian = str(Path(sys.executable).parent / "granian")
    help_text = subprocess.run([granian, "--help"], capture_output=True, text=True, check=True)
    granian_help = " ".join(help_text.stdout.split())
    for name in values:
        assert f"env var: {name}" in granian_help, name
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    for directive in (
        "proxy_request_buffering on;",
        "client_body_timeout 10s;",
        "client_header_timeout 10s;",
        "server web:8000;",
    ):
        assert directive in nginx, directive
    assert "${TRUSTED_PROXIES:-1}" in (ROOT / "docker-compose.yml").read_text()
    # nginx's own logs hold no link token or client address (granian's are redacted).
    log_format = re.search(r"log_format private ([^;]*);", nginx)
    assert log_format and "access_log /dev/stdout private;" in nginx
    personal = r"\$(?:request|request_uri|uri|args|arg_\w+|query_string|remote_addr|http_\w+)\b"
    assert re.findall(personal, log_format.group(1)) == []
    assert re.search(r"^error_log \S+ crit;", nginx, re.M), "error lines quote the request"
    # nginx stops reusing an idle upstream connection before granian closes it.
    keepalive = re.search(r"upstream web \{[^}]*keepalive_timeout (\d+)s;", nginx)
    assert keepalive, "upstream keepalive_timeout"
    assert int(keepalive.group(1)) * 1000 < int(values["GRANIAN_HTTP1_HEADER_READ_TIMEOUT"])
