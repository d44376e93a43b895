"""Events against the real server: event.from watches, coalescing, legacy register/next, wire shapes, logout wake-up, the log bound."""
import http.client
import json
import queue
import re
import tempfile
import threading
import time
import xmlrpc.client

import pytest

from conftest import ROOT_PASSWORD, Server, failure, ok, vm_record


def event_from(proxy, session, classes, token, timeout):
    return getattr(proxy.event, "from")(session, classes, token, float(timeout))


def now_token(proxy, session):
    return ok(event_from(proxy, session, ["nosuchclass"], "", 0.0))["token"]


def template(proxy, session):
    for ref, rec in ok(proxy.VM.get_all_records(session)).items():
        if rec["is_a_template"]:
            return ref
    raise AssertionError("no template VM")


def new_vm(proxy, session, name):
    return ok(proxy.VM.create(session, vm_record(name)))


def in_background(fn, *args):
    """Runs fn(*args) on a thread; returns a queue that receives its result."""
    q = queue.Queue()

    def run():
        try:
            q.put(fn(*args))
        except Exception as e:  # noqa: BLE001 - handed to the test
            q.put(e)

    threading.Thread(target=run, daemon=True).start()
    return q


def post_raw(server, path, body, content_type):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("POST", path, body=body, headers={"Content-Type": content_type})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp, raw


def test_watch_vm_sees_exactly_one_mod_with_the_new_value(server, session):
    writer = server.proxy()
    writer_session = server.login()
    vm = new_vm(writer, writer_session, "watched")
    token = now_token(server.proxy(), session)
    started = threading.Event()

    def watch():
        started.set()
        return ok(event_from(server.proxy(), session, ["vm"], token, 30.0))

    q = in_background(watch)
    started.wait()
    time.sleep(0.2)  # let the call park
    assert q.empty()
    t0 = time.time()
    ok(writer.VM.set_name_label(writer_session, vm, "renamed by another connection"))
    batch = q.get(timeout=10)
    assert not isinstance(batch, Exception), batch
    assert time.time() - t0 < 2
    assert set(batch) == {"events", "valid_ref_counts", "token"}
    events = batch["events"]
    assert len(events) == 1, events
    ev = events[0]
    assert ev["class"] == "vm"
    assert ev["operation"] == "mod"
    assert ev["ref"] == vm
    assert ev["snapshot"]["name_label"] == "renamed by another connection"
    assert set(ev) == {"id", "timestamp", "class", "operation", "ref", "snapshot"}
    assert ev["timestamp"] == "0.0"
    assert batch["token"] > token
    ok(writer.session.logout(writer_session))


def test_several_changes_coalesce_into_one_event(server, proxy, session):
    vm = new_vm(proxy, session, "coalesced")
    token = now_token(proxy, session)
    for i in range(5):
        ok(proxy.VM.set_name_label(session, vm, "name %d" % i))
    events = ok(event_from(proxy, session, ["VM"], token, 5.0))["events"]
    assert [(e["operation"], e["ref"]) for e in events] == [("mod", vm)]
    assert events[0]["snapshot"]["name_label"] == "name 4"


def test_create_and_destroy_inside_a_window_is_invisible(server, proxy, session):
    token = now_token(proxy, session)
    vm = new_vm(proxy, session, "ephemeral")
    ok(proxy.VM.set_name_label(session, vm, "still ephemeral"))
    ok(proxy.VM.destroy(session, vm))
    t0 = time.time()
    batch = ok(event_from(proxy, session, ["vm"], token, 1.0))
    assert batch["events"] == []
    assert time.time() - t0 >= 0.9  # nothing to report: it ran into its timeout
    assert batch["token"] > token

    # Seen, then destroyed: a del without a snapshot.
    vm = new_vm(proxy, session, "seen")
    seen = ok(event_from(proxy, session, ["vm"], batch["token"], 5.0))
    assert [(e["operation"], e["ref"]) for e in seen["events"]] == [("add", vm)]
    ok(proxy.VM.destroy(session, vm))
    gone = ok(event_from(proxy, session, ["vm"], seen["token"], 5.0))["events"]
    assert len(gone) == 1
    assert gone[0]["operation"] == "del" and gone[0]["ref"] == vm
    assert "snapshot" not in gone[0]


def test_empty_token_returns_everything_matching_as_add(server, proxy, session):
    vms = ok(proxy.VM.get_all(session))
    batch = ok(event_from(proxy, session, ["vm", "pool/" + ok(proxy.pool.get_all(session))[0]], "", 0.0))
    adds = [e for e in batch["events"] if e["class"] == "vm"]
    assert sorted(e["ref"] for e in adds) == sorted(vms)
    assert all(e["operation"] == "add" and "snapshot" in e for e in batch["events"])
    assert len([e for e in batch["events"] if e["class"] == "pool"]) == 1


def test_event_next_after_register(server, proxy):
    session = server.login()
    assert failure(proxy.event.next(session)) == ["SESSION_NOT_REGISTERED", session]
    vm = new_vm(proxy, session, "legacy")
    ok(proxy.event.register(session, ["vm"]))
    ok(proxy.VM.set_name_label(session, vm, "after register"))
    events = ok(proxy.event.next(session))
    assert isinstance(events, list)
    assert [(e["class"], e["operation"], e["ref"]) for e in events] == [("vm", "mod", vm)]
    assert events[0]["snapshot"]["name_label"] == "after register"
    assert re.match(r"^\d+\.\d+$", events[0]["timestamp"]), events[0]["timestamp"]
    assert float(events[0]["timestamp"]) == pytest.approx(time.time(), abs=60)

    # The next call blocks until another change.
    q = in_background(lambda: ok(server.proxy().event.next(session)))
    time.sleep(0.3)
    assert q.empty()
    ok(proxy.VM.set_name_description(session, vm, "again"))
    later = q.get(timeout=10)
    assert not isinstance(later, Exception), later
    assert [(e["operation"], e["ref"]) for e in later] == [("mod", vm)]
    ok(proxy.event.unregister(session, ["vm"]))
    assert failure(proxy.event.next(session)) == ["SESSION_NOT_REGISTERED", session]
    ok(proxy.session.logout(session))


def test_inject_token_makes_event_from_return_at_once(server, proxy, session):
    pool = ok(proxy.pool.get_all(session))[0]
    token = ok(proxy.event.inject(session, "pool", pool))
    t0 = time.time()
    batch = ok(event_from(proxy, session, ["pool", "vm", "task"], token, 60.1))
    assert time.time() - t0 < 2
    assert [(e["class"], e["operation"], e["ref"]) for e in batch["events"]] == [("pool", "mod", pool)]


def test_bad_token_and_subscription(server, proxy, session):
    assert failure(event_from(proxy, session, ["vm"], "not a token", 0.0)) == [
        "EVENT_FROM_TOKEN_PARSE_FAILURE", "not a token"]
    assert failure(event_from(proxy, session, ["vm/"], "", 0.0)) == ["EVENT_SUBSCRIPTION_PARSE_FAILURE", "vm/"]


def test_valid_ref_counts(server, proxy, session):
    batch = ok(event_from(proxy, session, ["vm"], now_token(proxy, session), 0.0))
    counts = batch["valid_ref_counts"]
    assert counts["task"] == len(ok(proxy.task.get_all(session)))
    assert counts["vm"] == len(ok(proxy.VM.get_all(session)))
    assert counts["host"] == 1 and counts["pool"] == 1
    assert all(k == k.lower() for k in counts)
    assert all(isinstance(v, int) for v in counts.values())


def test_xmlrpc_shape_of_a_batch(server, proxy, session):
    token = now_token(proxy, session)
    pool = ok(proxy.pool.get_all(session))[0]
    ok(proxy.pool.set_name_description(session, pool, "xml shape"))
    body = xmlrpc.client.dumps((session, ["pool"], token, 5.0), "event.from")
    resp, raw = post_raw(server, "/", body, "text/xml")
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/xml"
    xml = raw.decode()
    assert re.search(r">\s+<", xml) is None, "whitespace between tags"
    assert "<name>valid_ref_counts</name><value><struct>" in xml
    counts = re.search(r"<name>valid_ref_counts</name><value><struct>(.*?)</struct>", xml).group(1)
    members = re.findall(r"<member><name>([^<]*)</name><value>(<[a-z0-9]+>)", counts)
    assert members, counts
    assert {tag for _, tag in members} == {"<i4>"}
    assert "task" in {name for name, _ in members}
    assert "<member><name>task</name><value><i4>" in xml
    assert "<i8>" not in xml and "<string>" not in xml
    assert "<member><name>class</name><value>pool</value></member>" in xml
    assert "<member><name>operation</name><value>mod</value></member>" in xml
    assert "<member><name>timestamp</name><value>0.0</value></member>" in xml
    assert re.search(r"<member><name>token</name><value>\d{20},\d{20}</value></member>", xml)
    # And Python's own decoder agrees.
    value = xmlrpc.client.loads(xml)[0][0]["Value"]
    assert value["events"][0]["snapshot"]["name_description"] == "xml shape"


def test_jsonrpc_shape_of_a_batch(server, proxy, session):
    token = now_token(proxy, session)
    pool = ok(proxy.pool.get_all(session))[0]
    ok(proxy.pool.set_name_description(session, pool, "json shape"))
    body = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "event.from",
                       "params": [session, ["pool"], token, 5.0]})
    resp, raw = post_raw(server, "/jsonrpc", body, "application/json")
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "application/json"
    reply = json.loads(raw)
    assert set(reply) == {"jsonrpc", "id", "result"}
    result = reply["result"]
    assert set(result) == {"events", "valid_ref_counts", "token"}
    assert isinstance(result["valid_ref_counts"]["task"], int)
    (ev,) = result["events"]
    assert set(ev) == {"id", "timestamp", "class", "operation", "ref", "snapshot"}
    assert isinstance(ev["id"], str) and ev["id"].isdigit()
    assert ev["class"] == "pool" and ev["operation"] == "mod" and ev["ref"] == pool
    assert ev["snapshot"]["name_description"] == "json shape"


def test_logout_unblocks_a_waiting_event_from(server, proxy):
    victim = server.login()
    token = now_token(proxy, victim)
    waiting = [in_background(lambda: event_from(server.proxy(), victim, ["*"], token, 60.0)) for _ in range(3)]
    time.sleep(0.3)
    assert all(q.empty() for q in waiting)
    t0 = time.time()
    ok(server.proxy().session.logout(victim))
    for q in waiting:
        answer = q.get(timeout=10)
        assert not isinstance(answer, Exception), answer
        assert failure(answer) == ["SESSION_INVALID", victim]
    assert time.time() - t0 < 2


def test_event_log_size_bounds_the_log():
    with tempfile.TemporaryDirectory(prefix="xenapi-it-events-") as d:
        s = Server(d, extra_args=["--event-log-size", "5"])
        try:
            proxy = s.proxy()
            session = s.login()
            vm = new_vm(proxy, session, "bounded")
            token = now_token(proxy, session)
            for i in range(10):
                ok(proxy.VM.set_name_label(session, vm, "n%d" % i))
            assert failure(event_from(proxy, session, ["vm"], token, 0.0)) == ["EVENTS_LOST"]
            # Recovery: start again from "".
            fresh = ok(event_from(proxy, session, ["vm"], "", 0.0))
            assert vm in [e["ref"] for e in fresh["events"]]
        finally:
            s.stop()
    with tempfile.TemporaryDirectory(prefix="xenapi-it-events-") as d:
        with pytest.raises(RuntimeError):
            Server(d, extra_args=["--event-log-size", "0"])
