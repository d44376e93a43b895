"""Fixtures: a real xenapi-server process on a free port, with its own state."""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import xmlrpc.client

import pytest

ROOT_PASSWORD = "integration-secret"


class Server:
    """A running xenapi-server; `url` is its XML-RPC endpoint. With https=True
    it also serves HTTPS (`https_url`, certificate `cert_file`); its Unix
    socket (`unix_path`) is on unless extra_args say otherwise."""

    def __init__(self, state_dir, extra_args=(), password=ROOT_PASSWORD, failure_delay="0.3",
                 https=False):
        self.state_dir = state_dir
        self.port_file = os.path.join(state_dir, "ports.json")
        args = [os.environ.get("XENAPI_SERVER_BIN", "xenapi-server"),
                "--state-dir", state_dir,
                "--http", "127.0.0.1:0",
                "--port-file", self.port_file,
                "--auth-failure-delay", failure_delay,
                "--log-level", "warn"]
        if https:
            args += ["--https", "127.0.0.1:0"]
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
        self.ports = ports
        if "http" in ports:
            self.host = ports["http"]["address"]
            self.port = ports["http"]["port"]
            self.url = "http://%s:%d/" % (self.host, self.port)
        self.https_port = ports.get("https", {}).get("port")
        self.https_url = "https://127.0.0.1:%d/" % self.https_port if self.https_port else None
        self.unix_path = ports.get("unix")
        self.cert_file = os.path.join(state_dir, "tls-cert.pem")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def proxy(self):
        return xmlrpc.client.ServerProxy(self.url, allow_none=True)

    def ssl_context(self):
        """A client context that trusts exactly this server's certificate."""
        return ssl.create_default_context(cafile=self.cert_file)

    def https_proxy(self):
        return xmlrpc.client.ServerProxy(self.https_url, allow_none=True, context=self.ssl_context())

    def unix_proxy(self):
        """XML-RPC over HTTP on the server's Unix socket."""
        return xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                         transport=UnixTransport(self.unix_path))

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


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client on a Unix socket (the Host header still names localhost)."""

    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.unix_path = path

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self._connection = host, UnixHTTPConnection(self.unix_path)
        return self._connection[1]


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


# ---------------------------------------------------------------------------
# Shared helpers for the wider integration suite (test_xmlrpc_client.py,
# test_xenapi_py.py, test_http.py, test_server_process.py).

def server_binary():
    """Path of the xenapi-server binary under test."""
    return os.environ.get("XENAPI_SERVER_BIN", "xenapi-server")


def wait_for_file(path, proc, timeout=30, describe=lambda: ""):
    """Waits until `path` exists (the server writes its port file once it listens)."""
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError("server exited (%s): %s" % (proc.returncode, describe()))
        if time.time() > deadline:
            raise RuntimeError("server did not start: " + describe())
        time.sleep(0.02)


def read_port_file(path):
    """(address, port) from a --port-file, retried while the file is being written."""
    deadline = time.time() + 10
    while True:
        try:
            with open(path) as f:
                ports = json.load(f)
            return ports["http"]["address"], ports["http"]["port"]
        except (ValueError, KeyError):
            if time.time() > deadline:
                raise
            time.sleep(0.02)


def wait_for_task(proxy, session, task, timeout=30):
    """Polls task.get_record until the task leaves `pending`; returns the record."""
    deadline = time.time() + timeout
    while True:
        rec = ok(proxy.task.get_record(session, task))
        if rec["status"] != "pending":
            return rec
        assert time.time() < deadline, "task %s still pending: %r" % (task, rec)
        time.sleep(0.05)


def vm_record(name_label, **overrides):
    """A full VM.create record: every field xapi requires (client-compat.md)."""
    rec = {
        "name_label": name_label,
        "name_description": "created by the integration tests",
        "user_version": "1",
        "is_a_template": False,
        "affinity": "OpaqueRef:NULL",
        "memory_static_max": "1073741824",
        "memory_dynamic_max": "1073741824",
        "memory_dynamic_min": "536870912",
        "memory_static_min": "268435456",
        "VCPUs_params": {},
        "VCPUs_max": "2",
        "VCPUs_at_startup": "1",
        "actions_after_shutdown": "destroy",
        "actions_after_reboot": "restart",
        "actions_after_crash": "restart",
        "PV_bootloader": "",
        "PV_kernel": "",
        "PV_ramdisk": "",
        "PV_args": "",
        "PV_bootloader_args": "",
        "PV_legacy_args": "",
        "HVM_boot_policy": "BIOS order",
        "HVM_boot_params": {"order": "dc"},
        "platform": {"acpi": "1"},
        "PCI_bus": "",
        "other_config": {},
        "recommendations": "",
    }
    rec.update(overrides)
    return rec


VM_REQUIRED_FIELDS = (
    "user_version is_a_template affinity memory_static_max memory_dynamic_max "
    "memory_dynamic_min memory_static_min VCPUs_params VCPUs_max VCPUs_at_startup "
    "actions_after_shutdown actions_after_reboot actions_after_crash PV_bootloader PV_kernel "
    "PV_ramdisk PV_args PV_bootloader_args PV_legacy_args HVM_boot_policy HVM_boot_params "
    "platform PCI_bus other_config recommendations").split()

VBD_REQUIRED_FIELDS = ("VM VDI userdevice bootable mode type empty other_config "
                       "qos_algorithm_type qos_algorithm_params").split()

VIF_REQUIRED_FIELDS = ("device network VM MAC MTU other_config qos_algorithm_type "
                       "qos_algorithm_params").split()


def vbd_record(vm, vdi, userdevice="0", **overrides):
    """A full VBD.create record."""
    rec = {
        "VM": vm,
        "VDI": vdi,
        "userdevice": userdevice,
        "bootable": True,
        "mode": "RW",
        "type": "Disk",
        "empty": False,
        "other_config": {},
        "qos_algorithm_type": "",
        "qos_algorithm_params": {},
    }
    rec.update(overrides)
    return rec


def vif_record(vm, network, device="0", **overrides):
    """A full VIF.create record (MAC "" = generate one)."""
    rec = {
        "device": device,
        "network": network,
        "VM": vm,
        "MAC": "",
        "MTU": "1500",
        "other_config": {},
        "qos_algorithm_type": "",
        "qos_algorithm_params": {},
    }
    rec.update(overrides)
    return rec


def vdi_record(sr, name_label, virtual_size="1073741824", **overrides):
    """A full VDI.create record."""
    rec = {
        "name_label": name_label,
        "name_description": "",
        "SR": sr,
        "virtual_size": virtual_size,
        "type": "user",
        "sharable": False,
        "read_only": False,
        "other_config": {},
    }
    rec.update(overrides)
    return rec


_API_DUMP = None


def api_dump():
    """The text of `xenapi-server --dump-api` (cached)."""
    global _API_DUMP
    if _API_DUMP is None:
        _API_DUMP = subprocess.run([server_binary(), "--dump-api"], check=True,
                                   stdout=subprocess.PIPE, timeout=60,
                                   universal_newlines=True).stdout
    return _API_DUMP
