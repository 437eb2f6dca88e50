"""No Docker engine runs here: check that docker-compose.yml only uses what the code has."""

import re
from pathlib import Path

import yaml

from petitions import create_app

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
        elif program == "gunicorn":
            assert command[-1] == "petitions:create_app()"
        elif program == "celery":
            assert command[1:3] == ["-A", "workers"] and command[3] in ("worker", "beat")
        else:
            raise AssertionError(f"{name}: unknown program {program}")
    assert "workers.celery_app" in (ROOT / "workers" / "__init__.py").read_text()


def test_web_is_behind_a_buffering_proxy_with_the_production_gunicorn_settings():
    """Slow clients (issue 11): nginx buffers bodies in front; gunicorn reads one settings file."""
    services = _compose()["services"]
    web, proxy = services["web"], services["proxy"]
    assert "ports" not in web, "only the proxy is published"
    assert proxy["ports"] == ["8000:8000"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert web["command"][:3] == ["gunicorn", "--config", "deploy/gunicorn.conf.py"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"--config", "deploy/gunicorn.conf.py"' in dockerfile
    assert "COPY deploy ./deploy" in dockerfile
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    for directive in (
        "proxy_request_buffering on;",
        "client_body_timeout 10s;",
        "client_header_timeout 10s;",
        "server web:8000;",
    ):
        assert directive in nginx, directive
    assert "${TRUSTED_PROXIES:-1}" in (ROOT / "docker-compose.yml").read_text()
