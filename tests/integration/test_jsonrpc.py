"""JSON-RPC 1.0 and 2.0 on POST /jsonrpc, and sessions shared with XML-RPC."""
import http.client
import json

import pytest

from conftest import ROOT_PASSWORD, ok


def post(server, body, path="/jsonrpc"):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp, raw


def rpc(server, method, params, version="2.0", id_=1):
    body = {"method": method, "params": params, "id": id_}
    if version == "2.0":
        body["jsonrpc"] = "2.0"
    resp, raw = post(server, body)
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "application/json"
    return json.loads(raw)


@pytest.fixture(scope="module")
def jsession(server):
    r = rpc(server, "session.login_with_password", ["root", ROOT_PASSWORD])
    return r["result"]


def test_v2_success_has_no_error_member(server, jsession):
    r = rpc(server, "pool.get_all", [jsession], id_=42)
    assert set(r) == {"jsonrpc", "result", "id"}
    assert r["jsonrpc"] == "2.0" and r["id"] == 42
    assert len(r["result"]) == 1 and r["result"][0].startswith("OpaqueRef:")


def test_v2_failure_shape(server, jsession):
    r = rpc(server, "VM.get_by_uuid", [jsession, "no-such-uuid"], id_="abc")
    assert set(r) == {"jsonrpc", "error", "id"}
    assert r["id"] == "abc"
    assert r["error"] == {"code": 1, "message": "UUID_INVALID", "data": ["VM", "no-such-uuid"]}


def test_v1_success_and_failure_shapes(server, jsession):
    r = rpc(server, "pool.get_all", [jsession], version="1.0", id_=7)
    assert set(r) == {"result", "error", "id"} and r["error"] is None and r["id"] == 7
    r = rpc(server, "VM.nope", [jsession], version="1.0", id_="s")
    assert r == {"result": None, "error": ["MESSAGE_METHOD_UNKNOWN", "VM.nope"], "id": "s"}


def test_ints_are_json_integers_and_accepted_as_strings(server, jsession):
    host = rpc(server, "host.get_all", [jsession])["result"][0]
    assert rpc(server, "host.get_API_version_major", [jsession, host])["result"] == 2
    rec = rpc(server, "host.get_record", [jsession, host])["result"]
    assert isinstance(rec["API_version_minor"], int)
    assert isinstance(rec["enabled"], bool)
    vm = rpc(server, "VM.get_all", [jsession])["result"][0]
    big = 2 ** 40
    for value in (big, str(big)):
        r = rpc(server, "VM.set_user_version", [jsession, vm, value])
        assert "error" not in r, r
        assert rpc(server, "VM.get_user_version", [jsession, vm])["result"] == big


def test_session_works_across_protocols(server, jsession, proxy):
    assert ok(proxy.pool.get_all(jsession))
    xml_session = ok(proxy.session.login_with_password("root", ROOT_PASSWORD))
    assert rpc(server, "pool.get_all", [xml_session])["result"]


def test_list_methods_is_a_plain_result(server):
    r = rpc(server, "system.listMethods", [])
    assert "VM.get_all_records" in r["result"]


def test_non_bmp_characters_round_trip(server, jsession):
    net = rpc(server, "network.create", [jsession, {"name_label": "n", "other_config": {}}])["result"]
    label = "caf\u00e9 \U0001F600 \u4e2d"
    rpc(server, "network.set_name_label", [jsession, net, label])
    assert rpc(server, "network.get_name_label", [jsession, net])["result"] == label
    resp, raw = post(server, {"jsonrpc": "2.0", "method": "network.get_name_label", "params": [jsession, net],
                              "id": 1})
    assert json.loads(raw)["result"] == label


@pytest.mark.parametrize("body", [
    b"{not json",
    b"[]",
    b'{"jsonrpc": "2.0", "params": [], "id": 1}',              # no method
    b'{"jsonrpc": "2.0", "method": "pool.get_all", "params": []}',  # no id
    b'{"jsonrpc": "2.0", "method": "pool.get_all", "params": [], "id": null}',
    b'{"method": "pool.get_all", "id": 1}',                    # 1.0 without params
    b'{"jsonrpc": "2.0", "method": "pool.get_all", "params": 5, "id": 1}',
])
def test_malformed_requests_get_an_http_error_and_the_server_goes_on(server, jsession, body):
    resp, _ = post(server, body)
    assert 400 <= resp.status < 600
    assert rpc(server, "pool.get_all", [jsession])["result"]


def test_v2_without_params_means_no_arguments(server):
    resp, raw = post(server, {"jsonrpc": "2.0", "method": "system.listMethods", "id": 3})
    assert resp.status == 200
    assert "VM.get_all" in json.loads(raw)["result"]


def test_floats_and_bools(server, jsession):
    vm = rpc(server, "VM.get_all", [jsession])["result"][0]
    rec = rpc(server, "VM.get_record", [jsession, vm])["result"]
    assert isinstance(rec["HVM_shadow_multiplier"], float)
    assert isinstance(rec["is_a_template"], bool)
