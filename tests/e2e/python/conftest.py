"""Shared fixtures for the python-gitlab end-to-end suite.

One jobscope server is started per pytest session (fresh SQLite database in a temporary
directory, random port announced through --port-file) and every test talks to it through
python-gitlab only. Tests share that instance, so each one creates its own users, groups and
projects with unique names and never relies on particular ids or on what other tests did.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gitlab
import pytest
import requests

from helpers import ROOT_TOKEN, unique_name

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ServerRun:
    proc: subprocess.Popen
    tmpdir: Path
    log_path: Path
    base_url: str = ""
    # Filled in at teardown.
    crashed: bool = False  # exited on its own before we stopped it
    unclean_exit: bool = False  # non-zero exit after SIGTERM, or had to be SIGKILLed
    log_text: str = ""


# The finished run, for pytest_terminal_summary (session fixtures are torn down before it).
_finished_run: ServerRun | None = None


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = 100) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Sends `sig` to the server's process group (the server was started as its leader)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _server_binary() -> Path:
    binary = Path(os.environ.get("JOBSCOPE_BIN") or REPO / "target" / "debug" / "jobscope")
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.exit(
            f"jobscope binary not found at {binary}: run `cargo build -p jobscope` "
            "or set JOBSCOPE_BIN",
            returncode=2,
        )
    return binary


def _wait_until_ready(run: ServerRun, port_file: Path) -> str:
    """Waits for the port file, then for GET /version to answer 200; returns the base URL."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    addr = ""
    while time.monotonic() < deadline:
        if run.proc.poll() is not None:
            raise RuntimeError(f"jobscope exited during startup with code {run.proc.returncode}")
        if not addr:
            text = port_file.read_text().strip() if port_file.exists() else ""
            # The file may be observed half-written; only accept a complete host:port.
            if re.fullmatch(r"[^\s:]+:\d+", text):
                addr = text
        if addr:
            try:
                resp = requests.get(
                    f"http://{addr}/api/v4/version",
                    headers={"PRIVATE-TOKEN": ROOT_TOKEN},
                    timeout=2,
                )
                if resp.status_code == 200:
                    return f"http://{addr}"
            except requests.RequestException:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"jobscope did not become ready within {STARTUP_TIMEOUT_S}s")


@pytest.fixture(scope="session")
def base_url() -> Iterable[str]:
    """Starts jobscope for the whole session and yields its base URL (without /api/v4)."""
    global _finished_run
    binary = _server_binary()
    tmpdir = Path(tempfile.mkdtemp(prefix="jobscope-e2e-"))
    port_file = tmpdir / "addr"
    log_path = tmpdir / "server.log"

    env = dict(os.environ)
    # The database: a fresh one made by run.sh (PostgreSQL runs), else a SQLite file here.
    database = os.environ.get("JOBSCOPE_E2E_DATABASE_URL") or f"sqlite://{tmpdir / 'db.sqlite3'}"
    # Settings from the caller's environment must not leak in: in particular an external URL
    # would change the Link headers and web_url fields the tests compare with.
    for key in list(env):
        if key.startswith("JOBSCOPE_") and key != "JOBSCOPE_BIN":
            del env[key]
    env["JOBSCOPE_ROOT_TOKEN"] = ROOT_TOKEN

    cmd = [
        str(binary),
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--port-file",
        str(port_file),
        "--database",
        database,
    ]
    with open(log_path, "wb") as log:
        # A session of its own, so that signals reach the whole process group (also when
        # JOBSCOPE_BIN is a wrapper script) and a Ctrl-C reaches pytest, which then stops it.
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    run = ServerRun(proc=proc, tmpdir=tmpdir, log_path=log_path)

    try:
        run.base_url = _wait_until_ready(run, port_file)
    except RuntimeError as exc:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        log_text = _read_log(log_path)
        shutil.rmtree(tmpdir, ignore_errors=True)
        pytest.exit(f"{exc}\n--- server log ---\n{_tail(log_text)}", returncode=3)

    try:
        yield run.base_url
    finally:
        if proc.poll() is not None:
            run.crashed = True
        else:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
                run.unclean_exit = True
        # Nothing of the server's process group may outlive the session.
        _signal_group(proc, signal.SIGKILL)
        if proc.returncode != 0:
            run.unclean_exit = True
        run.log_text = _read_log(log_path)
        _finished_run = run


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """A server that died, or did not stop cleanly on SIGTERM, fails the run even if every
    test passed (the log is shown by pytest_terminal_summary)."""
    run = _finished_run
    if run is not None and (run.crashed or run.unclean_exit) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Shows the server's log when something went wrong, and cleans up the temp dir."""
    run = _finished_run
    if run is None:
        return
    lines = run.log_text.splitlines()
    # Everything but the per-request INFO lines: warnings, errors, panics, startup messages.
    notable = [line for line in lines if " INFO " not in line]
    panics = [line for line in lines if "panicked" in line]
    if exitstatus != 0 or run.crashed or run.unclean_exit or panics:
        tr = terminalreporter
        tr.section("jobscope server")
        tr.write_line(f"exit code: {run.proc.returncode}; died before teardown: {run.crashed}")
        for line in panics:
            tr.write_line(f"PANIC: {line}")
        tr.write_line(f"full log: {run.log_path}")
        tr.write_line("log lines other than INFO (last 60):")
        tr.write_line("\n".join(notable[-60:]) or "(none)")
        tr.write_line("last 30 log lines:")
        tr.write_line("\n".join(lines[-30:]))
    else:
        shutil.rmtree(run.tmpdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Clients and factories
# --------------------------------------------------------------------------------------------


def client(base_url: str, token: str | None = None) -> gitlab.Gitlab:
    """A python-gitlab client for `token` (no token: anonymous)."""
    return gitlab.Gitlab(base_url, private_token=token)


@pytest.fixture(scope="session")
def gl(base_url: str) -> gitlab.Gitlab:
    """python-gitlab as the administrator root."""
    return client(base_url, ROOT_TOKEN)


@dataclasses.dataclass
class UserHandle:
    """A user created for a test, with one personal access token and a client using it."""

    user: Any  # gitlab.v4.objects.User, as seen by root
    token: str
    token_id: int
    gl: gitlab.Gitlab

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username


class Factory:
    """Creates users, groups, projects and memberships through python-gitlab (as root)."""

    def __init__(self, gl: gitlab.Gitlab, base_url: str):
        self.gl = gl
        self.base_url = base_url

    def client(self, token: str | None) -> gitlab.Gitlab:
        return client(self.base_url, token)

    def user(self, scopes: Iterable[str] = ("api",), **attrs: Any) -> UserHandle:
        name = unique_name("user")
        data = {
            "email": f"{name}@example.com",
            "username": name,
            "name": f"E2E {name}",
            "password": "Pw-" + secrets.token_hex(12),
            "skip_confirmation": True,
        }
        data.update(attrs)
        user = self.gl.users.create(data)
        tok = user.personal_access_tokens.create({"name": f"{name}-token", "scopes": list(scopes)})
        return UserHandle(user=user, token=tok.token, token_id=tok.id, gl=self.client(tok.token))

    def token(self, user: UserHandle, scopes: Iterable[str], **attrs: Any) -> Any:
        """Another token for `user` (returns python-gitlab's UserPersonalAccessToken)."""
        data = {"name": unique_name("token"), "scopes": list(scopes), **attrs}
        return user.user.personal_access_tokens.create(data)

    def group(self, parent: Any = None, visibility: str = "private", gl: Any = None) -> Any:
        name = unique_name("group")
        data = {"name": name, "path": name, "visibility": visibility}
        if parent is not None:
            data["parent_id"] = parent.id
        return (gl or self.gl).groups.create(data)

    def project(self, namespace: Any = None, visibility: str = "private", gl: Any = None) -> Any:
        """A project in `namespace` (a group object), or in the creator's own namespace."""
        name = unique_name("proj")
        data: dict[str, Any] = {"name": name, "path": name, "visibility": visibility}
        if namespace is not None:
            data["namespace_id"] = namespace.id
        return (gl or self.gl).projects.create(data)

    def member(self, resource: Any, user: UserHandle, access_level: int) -> Any:
        """Adds `user` to a project or group (an object with a `members` manager)."""
        return resource.members.create({"user_id": user.id, "access_level": int(access_level)})


@pytest.fixture(scope="session")
def factory(gl: gitlab.Gitlab, base_url: str) -> Factory:
    return Factory(gl, base_url)


@pytest.fixture(scope="session")
def many_projects(factory: Factory) -> list[int]:
    """Ids of 150 private projects in one group: allowlist targets for root (which can read
    them all) in the pagination and limit tests."""
    group = factory.group()
    return [factory.project(group).id for _ in range(150)]
