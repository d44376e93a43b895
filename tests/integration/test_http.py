"""The HTTP transport and the XML-RPC encoding, seen with raw http.client and
sockets (xenapi-spec.md §1.1, §1.3, §1.4; client-compat.md)."""
import http.client
import re
import select
import socket
import tempfile
import threading
import time
import xmlrpc.client

import pytest

from conftest import ROOT_PASSWORD, Server, vm_record

LIMIT = 300 * 1024
TIMEOUT = 60


def call_body(method, *params):
    """A request body the way xmlrpc.client writes it (pretty-printed, <string>/<int>)."""
    return xmlrpc.client.dumps(tuple(params), method).encode("utf-8")


def raw_body(method, *values):
    """A compact request body; each value is the raw XML inside <value>...</value>."""
    params = "".join("<param><value>%s</value></param>" % v for v in values)
    return ('<?xml version="1.0"?><methodCall><methodName>%s</methodName><params>%s</params>'
            '</methodCall>' % (method, params)).encode("utf-8")


def post(conn, body, path="/", headers=None):
    h = {"Content-Type": "text/xml"}
    h.update(headers or {})
    conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    return r, r.read()


def decode(data):
    (value,), _ = xmlrpc.client.loads(data)
    return value


def connect(server):
    return http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)


def one_call(server, body, path="/", headers=None):
    c = connect(server)
    try:
        return post(c, body, path, headers)
    finally:
        c.close()


@pytest.fixture(scope="module")
def sid(server):
    return server.login()


def read_response(f):
    """Reads one HTTP response (status line, headers, Content-Length body) from a file."""
    status = f.readline()
    if not status:
        return None
    headers = {}
    while True:
        line = f.readline()
        assert line, "connection closed inside the headers"
        if line in (b"\r\n", b"\n"):
            break
        k, v = line.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return status.decode("latin-1").strip(), headers, body


def raw_request(body, path="/", version="HTTP/1.1", extra=""):
    return (("POST %s %s\r\nHost: test\r\nContent-Type: text/xml\r\n%sContent-Length: %d\r\n\r\n"
             % (path, version, extra, len(body))).encode("latin-1") + body)


def assert_serving(server, sid):
    """The server still answers a fresh client."""
    r, data = one_call(server, call_body("VM.get_all", sid))
    assert r.status == 200
    assert decode(data)["Status"] == "Success"
    assert server.proc.poll() is None


# --------------------------------------------------------------------------
# headers and encoding

def test_content_type_is_exactly_text_xml(server, sid):
    for body in (call_body("VM.get_all", sid), call_body("VM.get_record", sid, "OpaqueRef:bad"),
                 call_body("system.listMethods"), call_body("no.such_method")):
        r, data = one_call(server, body)
        assert r.status == 200
        assert r.getheader("Content-Type") == "text/xml"
        assert int(r.getheader("Content-Length")) == len(data)
        assert r.getheader("Access-Control-Allow-Origin") == "*"


def test_responses_are_compact(server, sid):
    host = decode(one_call(server, call_body("host.get_all", sid))[1])["Value"][0]
    for body in (call_body("system.listMethods"), call_body("VM.get_all_records", sid),
                 call_body("host.get_record", sid, host), call_body("pool.get_all_records", sid),
                 call_body("VM.get_record", sid, "OpaqueRef:bad"), call_body("VM.get_all", "bad")):
        data = one_call(server, body)[1]
        assert not re.search(rb">\s+<", data), data[:500]
        assert not data.startswith(b"\n") and not data.endswith(b"\n\n")
        assert b"<fault>" not in data


def test_strings_and_ints_are_bare_values(server, sid):
    host = decode(one_call(server, call_body("host.get_all", sid))[1])["Value"][0]
    major = one_call(server, call_body("host.get_API_version_major", sid, host))[1]
    assert b"<value>2</value>" in major
    for body in (call_body("host.get_record", sid, host), call_body("VM.get_all_records", sid),
                 call_body("VM.get_record", sid, "OpaqueRef:bad"), call_body("system.listMethods"),
                 call_body("host_cpu.get_all_records", sid)):
        data = one_call(server, body)[1]
        for tag in (b"<string>", b"<i4>", b"<i8>", b"<int>", b"<nil/>", b"<value/>"):
            assert tag not in data, (tag, data[:300])
    rec = one_call(server, call_body("host.get_record", sid, host))[1]
    assert b"<name>Status</name><value>Success</value>" in rec
    assert re.search(rb"<name>enabled</name><value><boolean>[01]</boolean></value>", rec)
    assert re.search(rb"<name>API_version_minor</name><value>\d+</value>", rec)
    # datetimes: YYYYMMDDTHH:MM:SSZ
    dates = re.findall(rb"<dateTime.iso8601>([^<]*)</dateTime.iso8601>", rec)
    assert dates and all(re.match(rb"^\d{8}T\d\d:\d\d:\d\dZ$", d) for d in dates), dates
    # floats as <double>
    cpus = one_call(server, call_body("host_cpu.get_all_records", sid))[1]
    assert re.search(rb"<name>utilisation</name><value><double>[^<]+</double></value>", cpus)
    # void is an empty string
    vm = decode(one_call(server, call_body("VM.get_all", sid))[1])["Value"][0]
    done = one_call(server, call_body("VM.remove_from_other_config", sid, vm, "nope"))[1]
    assert b"<name>Value</name><value></value>" in done


def test_failure_envelope(server, sid):
    data = one_call(server, call_body("VM.get_record", sid, "OpaqueRef:bad"))[1]
    assert data == (b"<methodResponse><params><param><value><struct>"
                    b"<member><name>Status</name><value>Failure</value></member>"
                    b"<member><name>ErrorDescription</name><value><array><data>"
                    b"<value>HANDLE_INVALID</value><value>VM</value><value>OpaqueRef:bad</value>"
                    b"</data></array></value></member></struct></value></param></params></methodResponse>")


def test_special_characters_are_escaped(server, sid):
    vm = decode(one_call(server, call_body("VM.get_all", sid))[1])["Value"][0]
    old = decode(one_call(server, call_body("VM.get_name_description", sid, vm))[1])["Value"]
    try:
        text = 'a<b>&c"d\'e é ✓'
        assert decode(one_call(server, call_body("VM.set_name_description", sid, vm, text))[1])["Status"] == "Success"
        data = one_call(server, call_body("VM.get_name_description", sid, vm))[1]
        assert b"a&lt;b&gt;&amp;c" in data
        assert decode(data)["Value"] == text
    finally:
        one_call(server, call_body("VM.set_name_description", sid, vm, old))


def test_request_value_encodings_are_all_accepted(server, sid):
    """Requests may use tagged or bare strings, <i4>/<int>/<i8> or digit strings for ints,
    and an empty <value/> as the empty string (§1.4)."""
    c = connect(server)
    try:
        base = decode(post(c, call_body("VM.create", sid, vm_record("http-types")))[1])
        assert base["Status"] == "Success", base
        vm = base["Value"]
        for encoded, expected in (("<i4>42</i4>", "42"), ("<int>-7</int>", "-7"),
                                  ("<i8>8589934592</i8>", "8589934592"),
                                  ("8589934593", "8589934593"),
                                  ("<string>8589934594</string>", "8589934594")):
            r = decode(post(c, raw_body("VM.set_user_version", "<string>%s</string>" % sid,
                                        "<string>%s</string>" % vm, encoded))[1])
            assert r["Status"] == "Success", (encoded, r)
            got = decode(post(c, raw_body("VM.get_user_version", sid, vm))[1])
            assert got == {"Status": "Success", "Value": expected}, encoded
        for encoded, expected in (("<string>tagged</string>", "tagged"), ("bare", "bare"),
                                  ("<string></string>", ""), ("", ""), ("<string/>", "")):
            r = decode(post(c, raw_body("VM.set_name_description", sid, vm, encoded))[1])
            assert r["Status"] == "Success", (encoded, r)
            got = decode(post(c, raw_body("VM.get_name_description", sid, vm))[1])
            assert got["Value"] == expected, encoded
        # an empty <value/> element
        body = raw_body("VM.set_name_description", sid, vm, "x").replace(b"<value>x</value>", b"<value/>")
        post(c, raw_body("VM.set_name_description", sid, vm, "nonempty"))
        assert decode(post(c, body)[1])["Status"] == "Success"
        assert decode(post(c, raw_body("VM.get_name_description", sid, vm))[1])["Value"] == ""
        # booleans
        r = decode(post(c, raw_body("VM.set_is_a_template", sid, vm, "<boolean>1</boolean>"))[1])
        assert r["Status"] == "Success"
        assert decode(post(c, raw_body("VM.get_is_a_template", sid, vm))[1])["Value"] is True
        r = decode(post(c, raw_body("VM.set_is_a_template", sid, vm, "<boolean>0</boolean>"))[1])
        assert r["Status"] == "Success"
        post(c, raw_body("VM.destroy", sid, vm))
    finally:
        c.close()


# --------------------------------------------------------------------------
# keep-alive and paths

def test_keep_alive_serves_many_requests_on_one_connection(server, sid):
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        for i in range(10):
            s.sendall(raw_request(call_body("VM.get_all", sid)))
            status, headers, body = read_response(f)
            assert status == "HTTP/1.1 200 OK"
            assert headers.get("connection", "keep-alive").lower() == "keep-alive"
            assert decode(body)["Status"] == "Success"


def test_http_client_reuses_its_connection(server, sid):
    c = connect(server)
    try:
        r, _ = post(c, call_body("VM.get_all", sid))
        sock = c.sock
        assert sock is not None and not r.will_close
        for i in range(5):
            r, data = post(c, call_body("pool.get_all", sid))
            assert r.status == 200 and decode(data)["Status"] == "Success"
            assert c.sock is sock, "the server closed a keep-alive connection"
    finally:
        c.close()


def test_pipelined_requests_are_answered_in_order(server, sid):
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        s.sendall(raw_request(call_body("VM.get_all", sid)) + raw_request(call_body("no.such", sid))
                  + raw_request(call_body("pool.get_all", sid)))
        first, second, third = (read_response(f) for _ in range(3))
        assert decode(first[2])["Status"] == "Success"
        assert decode(second[2])["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "no.such"]
        assert len(decode(third[2])["Value"]) == 1


def test_connection_close_is_honoured(server, sid):
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        s.sendall(raw_request(call_body("VM.get_all", sid), extra="Connection: close\r\n"))
        status, headers, body = read_response(f)
        assert status == "HTTP/1.1 200 OK" and decode(body)["Status"] == "Success"
        assert headers.get("connection", "").lower() == "close"
        assert f.read() == b"", "the server kept the connection open"


def test_http_1_0_closes_unless_keep_alive_is_asked_for(server, sid):
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        s.sendall(raw_request(call_body("VM.get_all", sid), version="HTTP/1.0"))
        status, headers, body = read_response(f)
        assert status.startswith("HTTP/1.") and " 200 " in status + " "
        assert decode(body)["Status"] == "Success"
        assert f.read() == b""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        for i in range(3):
            s.sendall(raw_request(call_body("VM.get_all", sid), version="HTTP/1.0",
                                  extra="Connection: keep-alive\r\n"))
            status, headers, body = read_response(f)
            assert " 200 " in status + " " and decode(body)["Status"] == "Success"
            assert headers.get("connection", "").lower() == "keep-alive"


@pytest.mark.parametrize("path", ["/", "/RPC2", "/xmlrpc", "/some/other/path"])
def test_every_post_path_is_xmlrpc(server, path):
    r, data = one_call(server, call_body("session.login_with_password", "root", ROOT_PASSWORD), path)
    assert r.status == 200 and r.getheader("Content-Type") == "text/xml"
    value = decode(data)
    assert value["Status"] == "Success" and value["Value"].startswith("OpaqueRef:")
    one_call(server, call_body("session.logout", value["Value"]), path)


def test_get_is_an_error(server, sid):
    c = connect(server)
    try:
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        assert 400 <= r.status < 600
    finally:
        c.close()
    assert_serving(server, sid)


# --------------------------------------------------------------------------
# bad requests

def test_oversized_body_is_refused_and_the_server_keeps_serving(server, sid):
    near = call_body("VM.get_by_name_label", sid, "x" * (LIMIT - 2000))
    assert len(near) <= LIMIT
    r, data = one_call(server, near)
    assert r.status == 200 and decode(data) == {"Status": "Success", "Value": []}

    big = call_body("VM.get_by_name_label", sid, "x" * (LIMIT + 1))
    assert len(big) > LIMIT
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        try:
            s.sendall(raw_request(big))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading it all
        response = read_response(f)
    assert response is not None, "no answer to an oversized request"
    assert response[0].split()[1] == "413", response[0]
    assert_serving(server, sid)


@pytest.mark.parametrize("body", [
    b"<methodCall><methodName>VM.get_all</methodName><params><param><value>",
    b"this is not XML at all",
    b"<methodCall><methodName>VM.get_all</methodName><params></param></methodCall>",
    b"",
    b"<?xml version=\"1.0\"?><methodCall><params></params></methodCall>",
], ids=["truncated", "not-xml", "mismatched-tags", "empty", "no-method-name"])
def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(server, sid, body):
    r, data = one_call(server, body)
    assert 400 <= r.status < 500, (r.status, data[:200])
    assert_serving(server, sid)


def test_malformed_request_on_a_keep_alive_connection(server, sid):
    """After a 4xx on a shared connection, the next request (same or new connection) is fine."""
    c = connect(server)
    try:
        r, _ = post(c, b"<methodCall><oops")
        assert 400 <= r.status < 500
        r, data = post(c, call_body("VM.get_all", sid))  # http.client reconnects if closed
        assert r.status == 200 and decode(data)["Status"] == "Success"
    finally:
        c.close()


# --------------------------------------------------------------------------
# concurrency and misbehaving clients

def test_many_concurrent_keep_alive_clients(server, sid):
    threads_n, calls_n = 40, 20
    barrier = threading.Barrier(threads_n)
    results = [None] * threads_n

    def worker(i):
        try:
            c = connect(server)
            barrier.wait(timeout=TIMEOUT)
            sock = None
            good = 0
            for k in range(calls_n):
                body = call_body("VM.get_all", sid) if k % 2 else call_body("host.get_all", sid)
                r, data = post(c, body)
                assert r.status == 200, r.status
                assert decode(data)["Status"] == "Success"
                if sock is None:
                    sock = c.sock
                assert c.sock is sock, "connection was not kept alive"
                good += 1
            c.close()
            results[i] = good
        except Exception as e:  # reported below
            results[i] = repr(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5 * TIMEOUT)
    assert not any(t.is_alive() for t in threads), "clients hung"
    assert results == [calls_n] * threads_n
    assert_serving(server, sid)


def test_half_requests_do_not_disturb_others(server, sid):
    body = call_body("VM.get_all", sid)
    halves = [
        raw_request(body)[:20],                       # inside the request line
        raw_request(body)[:60],                       # inside the headers
        raw_request(body)[:len(raw_request(body)) - len(body) + 10],  # inside the body
        b"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n<methodCall>",
    ]
    idle = []
    try:
        # some stay connected and silent while others are served ...
        for h in halves:
            s = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
            s.sendall(h)
            idle.append(s)
        for i in range(20):
            assert_serving(server, sid)
        # ... and some disconnect half way
        for h in halves:
            with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
                s.sendall(h)
        for s in idle[:2]:
            s.close()
        # one resets its connection
        s = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
        s.sendall(halves[2])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
        for i in range(20):
            assert_serving(server, sid)
    finally:
        for s in idle:
            s.close()
    assert_serving(server, sid)


def test_client_disconnecting_before_reading_its_answer(server, sid):
    body = raw_request(call_body("VM.get_all_records", sid))
    for i in range(10):
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
            s.sendall(body)
    assert_serving(server, sid)


def test_large_response_to_a_slow_reader_while_others_are_served(server, sid):
    """A multi-megabyte answer read slowly arrives complete; meanwhile others are served."""
    vm = decode(one_call(server, call_body("VM.create", sid, vm_record("http-big")))[1])["Value"]
    try:
        chunk = "y" * 250000
        for i in range(12):
            r = decode(one_call(server, call_body("VM.add_to_other_config", sid, vm, "big%d" % i, chunk))[1])
            assert r["Status"] == "Success", r
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # a small receive window (set before connecting, so TCP negotiates it)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(TIMEOUT)
            s.connect((server.host, server.port))
            s.sendall(raw_request(call_body("VM.get_record", sid, vm)))
            first = s.recv(4096)
            assert first.startswith(b"HTTP/1.1 200")
            for i in range(5):
                assert_serving(server, sid)   # while the big answer is stuck in the pipe
            f = s.makefile("rb")
            rest = f.read(1 << 16)
            data = first + rest
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))
            assert length > 3000000
            while len(body) < length:
                more = f.read(min(65536, length - len(body)))
                assert more, "connection closed after %d of %d bytes" % (len(body), length)
                body += more
        rec = decode(body)["Value"]
        assert all(rec["other_config"]["big%d" % i] == chunk for i in range(12))
    finally:
        one_call(server, call_body("VM.destroy", sid, vm))


def test_request_arriving_in_small_pieces(server, sid):
    request = raw_request(call_body("pool.get_all", sid))
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        for i in range(0, len(request), 7):
            s.sendall(request[i:i + 7])
            time.sleep(0.001)
        status, headers, body = read_response(f)
        assert status == "HTTP/1.1 200 OK"
        assert len(decode(body)["Value"]) == 1


def test_header_names_and_values_are_case_insensitive(server, sid):
    body = call_body("VM.get_all", sid)
    request = (b"POST / HTTP/1.1\r\nhost: test\r\ncontent-type: text/xml\r\n"
               b"CONTENT-LENGTH: %d\r\nconnection: Close\r\n\r\n" % len(body)) + body
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as s:
        f = s.makefile("rb")
        s.sendall(request)
        status, headers, data = read_response(f)
        assert status == "HTTP/1.1 200 OK" and decode(data)["Status"] == "Success"
        assert f.read() == b""


def test_failed_login_delays_do_not_hold_up_other_clients():
    """Bad logins are answered after --auth-failure-delay; a flood of them (more than
    the server's worker threads) must not hold up other clients' Async calls or logins:
    both must be done while every bad login is still waiting for its answer."""
    delay = 6
    with tempfile.TemporaryDirectory(prefix="xenapi-it-delay-") as d:
        srv = Server(d, failure_delay=str(delay))
        bad = []
        try:
            sid = srv.login()
            x = srv.proxy()
            request = raw_request(call_body("session.login_with_password", "root", "wrong"))
            for i in range(40):
                s = socket.create_connection((srv.host, srv.port), timeout=3 * delay + TIMEOUT)
                s.sendall(request)
                bad.append(s)
            time.sleep(0.5)  # let the server take them in (not an assertion)

            def answered():
                return len(select.select(bad, [], [], 0)[0])

            task = x.Async.VM.create(sid, vm_record("during-the-flood"))["Value"]
            while x.task.get_status(sid, task)["Value"] == "pending":
                time.sleep(0.02)
            assert answered() == 0, "the Async task finished only after %d bad logins were answered" % answered()
            assert x.task.get_status(sid, task)["Value"] == "success"

            assert x.session.login_with_password("root", ROOT_PASSWORD)["Status"] == "Success"
            assert answered() == 0, "a good login finished only after %d bad logins were answered" % answered()

            for s in bad:
                status, headers, body = read_response(s.makefile("rb"))
                assert decode(body)["ErrorDescription"] == [
                    "SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]
        finally:
            for s in bad:
                s.close()
            srv.stop()
