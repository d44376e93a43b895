"""The local Unix socket: pre-authenticated local superuser logins over
XML-RPC and JSON-RPC, file permissions, peer credentials, its life cycle
(stale files, clean removal) and --unix options."""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from conftest import ROOT_PASSWORD, Server, UnixHTTPConnection, failure, ok


def jsonrpc(path, method, params):
    conn = UnixHTTPConnection(path)
    conn.request("POST", "/jsonrpc", body=json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    out = json.loads(r.read())
    conn.close()
    return out


def test_socket_is_in_the_state_folder_with_mode_0600(server):
    assert server.unix_path == os.path.join(os.path.realpath(server.state_dir), "xapi.sock") or \
        server.unix_path == os.path.join(server.state_dir, "xapi.sock")
    st = os.stat(server.unix_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()


@pytest.mark.parametrize("password", ["", "wrong", ROOT_PASSWORD])
def test_login_needs_no_password_and_is_the_local_superuser(server, password):
    x = server.unix_proxy()
    s = ok(x.session.login_with_password("root", password))
    assert ok(x.session.get_is_local_superuser(s, s)) is True
    assert ok(x.session.get_auth_user_name(s, s)) == "root"
    assert ok(x.pool.get_all(s))
    # The same password over TCP is still checked.
    if password != ROOT_PASSWORD:
        assert failure(server.proxy().session.login_with_password("root", password))[0] == \
            "SESSION_AUTHENTICATION_FAILED"
    ok(x.session.logout(s))


def test_jsonrpc_on_the_socket(server):
    r = jsonrpc(server.unix_path, "session.login_with_password", ["root", ""])
    s = r["result"]
    assert jsonrpc(server.unix_path, "session.get_is_local_superuser", [s, s])["result"] is True
    # The session works over TCP too.
    assert ok(server.proxy().pool.get_all(s))


def test_keep_alive_on_the_socket(server):
    x = server.unix_proxy()
    s = ok(x.session.login_with_password("root", ""))
    conn = x("transport").make_connection("localhost")
    for _ in range(20):
        assert ok(x.VM.get_all(s))
    assert x("transport").make_connection("localhost") is conn


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user")
def test_peers_of_other_users_are_refused(server):
    # Open the file permissions so only the peer-credential check stands in the way.
    os.chmod(server.state_dir, 0o711)
    os.chmod(server.unix_path, 0o666)
    try:
        client = textwrap.dedent("""
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(sys.argv[1])
            try:
                s.sendall(b"POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: text/xml\\r\\nContent-Length: 0\\r\\n\\r\\n")
                print(repr(s.recv(100)))
            except (ConnectionResetError, BrokenPipeError):
                print(repr(b""))
            """)
        out = subprocess.run([sys.executable, "-c", client, server.unix_path], user=65534, group=65534,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, universal_newlines=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "b''", out.stdout
        # Root still gets in.
        assert ok(server.unix_proxy().session.login_with_password("root", ""))
    finally:
        os.chmod(server.unix_path, 0o600)
        os.chmod(server.state_dir, 0o700)


def test_options_and_life_cycle():
    with tempfile.TemporaryDirectory(prefix="xenapi-unix-") as d:
        # --unix "" disables it.
        s = Server(d, extra_args=["--unix", ""])
        try:
            assert "unix" not in s.ports
            assert not os.path.exists(os.path.join(d, "xapi.sock"))
        finally:
            s.stop()

        # A chosen path; removed on a clean shutdown.
        path = os.path.join(d, "other.sock")
        s = Server(d, extra_args=["--unix", path])
        try:
            assert s.unix_path == path
            assert ok(s.unix_proxy().session.login_with_password("root", ""))
        finally:
            s.stop()
        assert not os.path.exists(path)

        # A socket file left behind by a killed server is replaced.
        s = Server(d, extra_args=["--unix", path])
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        s.log.close()
        assert os.path.exists(path)
        os.unlink(s.port_file)
        s = Server(d, extra_args=["--unix", path])
        try:
            assert ok(s.unix_proxy().session.login_with_password("root", ""))
            # ...but one that a live server answers on is not taken over.
            other = os.path.join(d, "second")
            os.mkdir(other)
            with pytest.raises(RuntimeError) as e:
                Server(other, extra_args=["--unix", path])
            assert "another server" in str(e.value)
        finally:
            s.stop()


def test_unix_socket_alone():
    with tempfile.TemporaryDirectory(prefix="xenapi-unix-") as d:
        port_file = os.path.join(d, "ports.json")
        proc = subprocess.Popen([os.environ.get("XENAPI_SERVER_BIN", "xenapi-server"), "--state-dir", d,
                                 "--http", "", "--port-file", port_file, "--log-level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while not os.path.exists(port_file):
                assert proc.poll() is None and time.time() < deadline
                time.sleep(0.02)
            with open(port_file) as f:
                ports = json.load(f)
            assert set(ports) == {"unix"}
            r = jsonrpc(ports["unix"], "session.login_with_password", ["root", ""])
            assert "result" in r
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
