"""HTTPS: the generated certificate (verified by Python's ssl), its reuse across
restarts, configured certificates, the TLS policy (1.2 minimum, forward-secret
AEAD ciphers), XML-RPC and JSON-RPC over TLS with keep-alive, and clients that
misbehave during the handshake."""
import http.client
import json
import os
import socket
import ssl
import stat
import subprocess
import tempfile
import time
import xmlrpc.client

import pytest

from conftest import ROOT_PASSWORD, Server, ok, vm_record


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory(prefix="xenapi-tls-") as d:
        s = Server(d, https=True, extra_args=["--header-timeout", "3"])
        try:
            yield s
        finally:
            s.stop()


def handshake(server, host="127.0.0.1", ctx=None):
    """A verified TLS connection to the server's HTTPS port."""
    ctx = ctx or server.ssl_context()
    raw = socket.create_connection(("127.0.0.1", server.https_port), timeout=30)
    return ctx.wrap_socket(raw, server_hostname=host)


def permissive_context(version):
    """A client that offers exactly one protocol version and any cipher, so a
    refusal can only come from the server."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


def jsonrpc(conn, method, params, id_=1):
    conn.request("POST", "/jsonrpc", body=json.dumps({"jsonrpc": "2.0", "method": method, "params": params,
                                                       "id": id_}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    return json.loads(r.read())


def assert_healthy(server):
    x = server.https_proxy()
    s = ok(x.session.login_with_password("root", ROOT_PASSWORD))
    assert ok(x.pool.get_all(s))
    ok(x.session.logout(s))


# ---------------------------------------------------------------- certificate

def test_generated_certificate_verifies_for_each_name(tls_server):
    ctx = tls_server.ssl_context()
    # Also what Python 3.13 enforces by default: a well-formed X.509v3 leaf.
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    for host in ("127.0.0.1", "localhost", socket.gethostname()):
        with handshake(tls_server, host, ctx) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            sans = tls.getpeercert()["subjectAltName"]
            assert ("DNS", "localhost") in sans and ("IP Address", "127.0.0.1") in sans
            assert ("DNS", socket.gethostname()) in sans


def test_a_name_the_certificate_lacks_is_refused_by_the_client(tls_server):
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_server, "not-this-host.invalid")


def test_key_is_private_and_certificate_lasts_about_ten_years(tls_server):
    key = os.path.join(tls_server.state_dir, "tls-key.pem")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tls_server.cert_file).st_mode) == 0o644
    with open(key) as f:
        assert "PRIVATE KEY" in f.read()
    decoded = ssl._ssl._test_decode_cert(tls_server.cert_file)
    years = (ssl.cert_time_to_seconds(decoded["notAfter"]) - time.time()) / (365.25 * 86400)
    assert 9.9 < years < 10.1
    assert ssl.cert_time_to_seconds(decoded["notBefore"]) <= time.time()


def test_certificate_is_reused_across_restarts():
    with tempfile.TemporaryDirectory(prefix="xenapi-tls-") as d:
        first = Server(d, https=True)
        try:
            with open(first.cert_file, "rb") as f:
                cert = f.read()
            with open(os.path.join(d, "tls-key.pem"), "rb") as f:
                key = f.read()
            with handshake(first) as tls:
                served = tls.getpeercert(binary_form=True)
        finally:
            first.stop()
        second = Server(d, https=True)
        try:
            with open(second.cert_file, "rb") as f:
                assert f.read() == cert
            with open(os.path.join(d, "tls-key.pem"), "rb") as f:
                assert f.read() == key
            with handshake(second) as tls:
                assert tls.getpeercert(binary_form=True) == served
            assert_healthy(second)
        finally:
            second.stop()


def make_certificate(directory, name):
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % name,
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return cert, key


def test_configured_certificate_is_served_and_nothing_is_generated():
    with tempfile.TemporaryDirectory(prefix="xenapi-tls-") as d:
        cert, key = make_certificate(d, "configured.example")
        state = os.path.join(d, "state")
        os.mkdir(state)
        s = Server(state, https=True, extra_args=["--tls-cert", cert, "--tls-key", key])
        try:
            ctx = ssl.create_default_context(cafile=cert)
            raw = socket.create_connection(("127.0.0.1", s.https_port), timeout=30)
            with ctx.wrap_socket(raw, server_hostname="configured.example") as tls:
                assert dict(x[0] for x in tls.getpeercert()["subject"])["commonName"] == "configured.example"
            assert not os.path.exists(os.path.join(state, "tls-cert.pem"))
            assert not os.path.exists(os.path.join(state, "tls-key.pem"))
        finally:
            s.stop()


def test_combined_pem_needs_no_separate_key():
    with tempfile.TemporaryDirectory(prefix="xenapi-tls-") as d:
        cert, key = make_certificate(d, "combined.example")
        combined = os.path.join(d, "combined.pem")
        with open(combined, "w") as out:
            out.write(open(key).read() + open(cert).read())
        state = os.path.join(d, "state")
        os.mkdir(state)
        s = Server(state, https=True, extra_args=["--tls-cert", combined])
        try:
            ctx = ssl.create_default_context(cafile=cert)
            raw = socket.create_connection(("127.0.0.1", s.https_port), timeout=30)
            ctx.wrap_socket(raw, server_hostname="combined.example").close()
        finally:
            s.stop()


@pytest.mark.parametrize("case", ["mismatched key", "missing certificate"])
def test_bad_certificate_configuration_is_a_startup_error(case):
    with tempfile.TemporaryDirectory(prefix="xenapi-tls-") as d:
        cert, _ = make_certificate(d, "one.example")
        _, other_key = make_certificate(d, "two.example")
        if case == "missing certificate":
            cert = os.path.join(d, "absent.pem")
        with pytest.raises(RuntimeError) as e:
            Server(d, https=True, extra_args=["--tls-cert", cert, "--tls-key", other_key])
        assert ("mismatch" if case == "mismatched key" else "absent.pem") in str(e.value)


# ---------------------------------------------------------------- TLS policy

@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_below_1_2_is_refused(tls_server, version):
    ctx = permissive_context(getattr(ssl.TLSVersion, version))
    raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=30)
    with pytest.raises(ssl.SSLError) as e:
        ctx.wrap_socket(raw)
    assert "PROTOCOL_VERSION" in str(e.value).upper() or "UNSUPPORTED_PROTOCOL" in str(e.value).upper()
    raw.close()
    # The same permissive client gets TLS 1.2: the refusal was the server's.
    ctx12 = permissive_context(ssl.TLSVersion.TLSv1_2)
    raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=30)
    with ctx12.wrap_socket(raw) as tls:
        assert tls.version() == "TLSv1.2"


def test_tls_1_2_negotiates_forward_secret_aead_only(tls_server):
    ctx = permissive_context(ssl.TLSVersion.TLSv1_2)
    for weak in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256"):
        ctx.set_ciphers(weak + ":@SECLEVEL=0")
        raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=30)
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw)
        raw.close()
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=30)
    with ctx.wrap_socket(raw) as tls:
        name = tls.cipher()[0]
        assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name), name


# ---------------------------------------------------------------- RPC over TLS

def test_xmlrpc_over_tls(tls_server):
    x = tls_server.https_proxy()
    s = ok(x.session.login_with_password("root", ROOT_PASSWORD))
    vm = ok(x.VM.create(s, vm_record("over-tls")))
    assert ok(x.VM.get_record(s, vm))["name_label"] == "over-tls"
    assert vm in ok(x.VM.get_all_records(s))
    ok(x.session.logout(s))


def test_jsonrpc_over_tls(tls_server):
    conn = http.client.HTTPSConnection("127.0.0.1", tls_server.https_port, context=tls_server.ssl_context(),
                                       timeout=30)
    s = jsonrpc(conn, "session.login_with_password", ["root", ROOT_PASSWORD])["result"]
    r = jsonrpc(conn, "pool.get_all", [s], id_="x")
    assert set(r) == {"jsonrpc", "result", "id"} and r["id"] == "x"
    r = jsonrpc(conn, "VM.get_by_uuid", [s, "nope"])
    assert r["error"]["message"] == "UUID_INVALID"
    conn.close()


def test_keep_alive_over_tls(tls_server):
    conn = http.client.HTTPSConnection("127.0.0.1", tls_server.https_port, context=tls_server.ssl_context(),
                                       timeout=30)
    s = jsonrpc(conn, "session.login_with_password", ["root", ROOT_PASSWORD])["result"]
    sock = conn.sock
    for i in range(50):
        body = xmlrpc.client.dumps((s,), "VM.get_all_records")
        conn.request("POST", "/", body=body, headers={"Content-Type": "text/xml"})
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("Content-Type") == "text/xml"
        (value,), _ = xmlrpc.client.loads(r.read())
        assert value["Status"] == "Success"
        assert conn.sock is sock, "the TLS connection was not kept alive"
    conn.close()


def test_session_from_tls_works_over_plain_http(tls_server):
    s = ok(tls_server.https_proxy().session.login_with_password("root", ROOT_PASSWORD))
    assert ok(tls_server.proxy().pool.get_all(s))


def test_large_answer_over_tls(tls_server):
    # Bodies above one TLS record (16 KiB) arrive whole.
    x = tls_server.https_proxy()
    methods = x.system.listMethods()
    assert len(xmlrpc.client.dumps((methods,), methodresponse=True)) > 20000
    assert "VM.get_all_records" in methods


# ---------------------------------------------------------------- misbehaving clients

def test_plain_http_on_the_tls_port_is_dropped(tls_server):
    raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=10)
    raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    data = raw.recv(4096)
    assert not data.startswith(b"HTTP/1.1 200")
    raw.close()
    assert_healthy(tls_server)


def test_garbage_and_truncated_handshakes(tls_server):
    for junk in (b"\x16\x03\x01\x00\x05hello", os.urandom(2048), b"\x16\x03\x01\xff\xff" + b"A" * 100):
        raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=10)
        raw.sendall(junk)
        raw.close()
    assert_healthy(tls_server)


def test_stalled_handshake_costs_nothing_and_is_dropped(tls_server):
    # Many clients that start a handshake and stop: others are served at once,
    # and the stalled ones are disconnected at the (3 s) handshake deadline.
    stalled = []
    for _ in range(50):
        raw = socket.create_connection(("127.0.0.1", tls_server.https_port), timeout=10)
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
        stalled.append(raw)
    t0 = time.time()
    assert_healthy(tls_server)
    assert time.time() - t0 < 2
    for raw in stalled:
        raw.settimeout(10)
        try:
            while raw.recv(4096):  # an alert may come before the close
                pass
        except ConnectionResetError:
            pass
    assert time.time() - t0 < 8
    for raw in stalled:
        raw.close()


def test_disconnect_mid_request_over_tls(tls_server):
    for _ in range(10):
        tls = handshake(tls_server)
        tls.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<?xml")
        tls.close()
    assert_healthy(tls_server)


def test_oversized_body_over_tls_is_413(tls_server):
    tls = handshake(tls_server)
    tls.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
                % (400 * 1024))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 413"), data[:100]
    tls.close()
    assert_healthy(tls_server)


def test_https_only_still_serves_plain_http_to_loopback():
    # Remote peers get 403 on plain HTTP (is_loopback_address is unit-tested);
    # every peer here is on loopback, so both listeners answer.
    with tempfile.TemporaryDirectory(prefix="xenapi-tls-") as d:
        s = Server(d, https=True, extra_args=["--https-only"])
        try:
            assert ok(s.proxy().session.login_with_password("root", ROOT_PASSWORD))
            assert_healthy(s)
            assert set(s.ports) == {"http", "https", "unix"}
        finally:
            s.stop()
