"""Xen Orchestra's connector (npm xen-api, pinned in xo/package.json) keeps its object cache current through our events, over each transport."""
import json
import os
import queue
import subprocess
import threading
import time

import pytest

from conftest import ROOT_PASSWORD, ok, vm_record

XO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xo")
SCRIPT = os.path.join(XO_DIR, "events_xo.mjs")

# Classes whose population may change while the connector runs (its own
# sessions and tasks), or that it never sees through events.
UNSTABLE = {"session", "task", "message", "user"}


@pytest.fixture(scope="module")
def xen_api():
    """Installs the pinned xen-api with npm (quick if already there)."""
    subprocess.run(["sh", os.path.join(XO_DIR, "events_setup.sh")], check=True, timeout=600)


class Node:
    """The connector script, its JSON lines read on a thread."""

    def __init__(self, args):
        self.proc = subprocess.Popen(["node", SCRIPT] + args, cwd=XO_DIR, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, universal_newlines=True)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True).start()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            if isinstance(sink, list):
                sink.append(line)
            else:
                sink.put(line)

    def stage(self, name, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                raise AssertionError("no %r from the connector; stderr:\n%s" % (name, "".join(self.stderr)))
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            assert msg.get("stage") != "error", "%s\nstderr:\n%s" % (msg, "".join(self.stderr))
            if msg.get("stage") == name:
                return msg

    def finish(self):
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.mark.parametrize("transport", ["auto", "json-rpc", "xml-rpc"])
def test_connector_loads_everything_and_follows_changes(server, proxy, session, xen_api, transport):
    vm = ok(proxy.VM.create(session, vm_record("xo-events " + transport)))
    new_name = "renamed for xen-api over " + transport
    url = "http://%s:%d" % (server.host, server.port)
    node = Node([url, "root", ROOT_PASSWORD, transport, vm, new_name])
    try:
        loaded = node.stage("loaded")
        assert loaded["vm_name"] == "xo-events " + transport
        assert loaded["pool"] == ok(proxy.pool.get_all(session))[0]
        # Every class listed by system.listMethods was loaded, with all its objects.
        types = set(loaded["types"])
        for cls in ("VM", "host", "pool", "SR", "network", "PIF", "PBD", "VDI", "task", "message"):
            assert cls in types, cls
        for cls in types - UNSTABLE:
            want = len(ok(getattr(proxy, cls).get_all_records(session)))
            assert loaded["counts"][cls] == want, (cls, loaded["counts"][cls], want)

        # Another client (Python) renames the VM: it arrives through the event loop.
        ok(proxy.VM.set_name_label(session, vm, new_name))
        seen = node.stage("seen")
        assert seen["ms"] < 5000, seen

        done = node.stage("done")
        assert done["vm_name"] == new_name
        assert done["vm_description"].startswith("set by a second xen-api instance")
        assert done["watch_events_error"] is None
        assert done["barrier_ms"] < 5000, done
        assert node.finish() == 0, "".join(node.stderr)
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
    warnings = [line for line in node.stderr if "_watchEvents" in line or "_refreshCachedRecords" in line]
    assert not warnings, "".join(node.stderr)
    # The barrier cleaned up after itself.
    pool = ok(proxy.pool.get_all(session))[0]
    deadline = time.time() + 5
    while any(k.startswith("xo:barrier:") for k in ok(proxy.pool.get_other_config(session, pool))):
        assert time.time() < deadline, "barrier keys left in pool.other_config"
        time.sleep(0.1)
    ok(proxy.VM.destroy(session, vm))
