"""Fixtures: a real xenapi-server process on a free port, with its own state."""
import json
import os
import signal
import subprocess
import tempfile
import time
import xmlrpc.client

import pytest

ROOT_PASSWORD = "integration-secret"


class Server:
    """A running xenapi-server; `url` is its XML-RPC endpoint."""

    def __init__(self, state_dir, extra_args=(), password=ROOT_PASSWORD, failure_delay="0.3"):
        self.state_dir = state_dir
        self.port_file = os.path.join(state_dir, "ports.json")
        args = [os.environ.get("XENAPI_SERVER_BIN", "xenapi-server"),
                "--state-dir", state_dir,
                "--http", "127.0.0.1:0",
                "--port-file", self.port_file,
                "--auth-failure-delay", failure_delay,
                "--log-level", "warn"]
        if password is not None:
            pw_file = os.path.join(state_dir, "root-password")
            with open(pw_file, "w") as f:
                f.write(password + "\n")
            args += ["--root-password-file", pw_file]
        args += list(extra_args)
        self.log = open(os.path.join(state_dir, "server.log"), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.output())
            if time.time() > deadline:
                raise RuntimeError("server did not start: " + self.output())
            time.sleep(0.02)
        with open(self.port_file) as f:
            ports = json.load(f)
        self.host = ports["http"]["address"]
        self.port = ports["http"]["port"]
        self.url = "http://%s:%d/" % (self.host, self.port)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def proxy(self):
        return xmlrpc.client.ServerProxy(self.url, allow_none=True)

    def login(self):
        r = self.proxy().session.login_with_password("root", ROOT_PASSWORD)
        assert r["Status"] == "Success", r
        return r["Value"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="xenapi-it-") as d:
        s = Server(d)
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture
def proxy(server):
    return server.proxy()


@pytest.fixture
def session(server):
    return server.login()


def ok(response):
    """The Value of a Success response (fails the test otherwise)."""
    assert response["Status"] == "Success", response
    return response["Value"]


def failure(response):
    """The ErrorDescription of a Failure response."""
    assert response["Status"] == "Failure", response
    return response["ErrorDescription"]
