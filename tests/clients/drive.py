"""Drives `docker compose` (stackctl installed as the plugin, via DOCKER_CONFIG) through two client
libraries as their users do: python-on-whales and testcontainers-python. Exits 1 naming each call
that failed or answered wrongly.

    drive.py PROJECT_DIR PROJECT_NAME

PROJECT_DIR holds compose.yaml: `web` publishes container port 8000 and sleeps; `worker` depends
on web. Run by tests/dropin.rs.
"""

import os
import sys

project_dir, project = sys.argv[1], sys.argv[2]
os.environ["COMPOSE_PROJECT_NAME"] = project
failures = []


def check(name, call, expect=lambda r: True):
    try:
        result = call()
    except Exception as e:  # the library's own error says what compose printed
        failures.append(f"{name}: {type(e).__name__}: {e}")
        return None
    if not expect(result):
        failures.append(f"{name}: unexpected answer {result!r}")
    return result


def whales():
    from python_on_whales import DockerClient

    d = DockerClient(
        compose_files=[os.path.join(project_dir, "compose.yaml")],
        compose_project_name=project,
    )
    check("whales version", d.compose.version, lambda v: v.startswith("Docker Compose version v"))
    check("whales is_installed", d.compose.is_installed, bool)
    check("whales config", lambda: d.compose.config().services["web"].image, bool)
    check("whales up", lambda: d.compose.up(detach=True, wait=True))
    check(
        "whales ps",
        lambda: sorted((c.name, c.state.status) for c in d.compose.ps()),
        lambda r: r == [(f"{project}-web-1", "running"), (f"{project}-worker-1", "running")],
    )
    check("whales port", lambda: d.compose.port("web", 8000), lambda r: r and int(r[1]) > 0)
    check(
        "whales execute",
        lambda: d.compose.execute("worker", ["sh", "-c", "echo hi"], tty=False),
        lambda r: r == "hi",
    )
    check(
        "whales run",
        lambda: d.compose.run("worker", ["echo", "ran"], remove=True, tty=False),
        lambda r: r == "ran",
    )
    check("whales ls", lambda: [p.name for p in d.compose.ls()], lambda r: project in r)
    for verb in ("stop", "start", "restart", "pause", "unpause", "kill"):
        check(f"whales {verb}", lambda v=verb: getattr(d.compose, v)(["worker"]))
    check("whales rm", lambda: d.compose.rm(["worker"], stop=True))
    check("whales down", lambda: d.compose.down(volumes=True, timeout=1))
    check("whales ps after down", d.compose.ps, lambda r: r == [])


def testcontainers():
    from testcontainers.compose import DockerCompose

    c = DockerCompose(project_dir, compose_file_name="compose.yaml", wait=True)
    check("testcontainers start", c.start)
    check(
        "testcontainers get_containers",
        lambda: sorted((x.Service, x.State) for x in c.get_containers()),
        lambda r: r == [("web", "running"), ("worker", "running")],
    )
    check("testcontainers service_port", lambda: c.get_service_port("web", 8000), lambda p: int(p) > 0)
    check("testcontainers service_host", lambda: c.get_service_host("web", 8000), bool)
    check(
        "testcontainers exec_in_container",
        lambda: c.exec_in_container(["echo", "x"], "worker"),
        lambda r: r[0] == "x\n" and r[2] == 0,
    )
    check("testcontainers get_logs", c.get_logs)
    check("testcontainers stop", c.stop)


whales()
testcontainers()
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("both client libraries drove it without a failure")
