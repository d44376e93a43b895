"""Xen Orchestra's connector (npm xen-api, pinned in xo/package.json) logs in
and loads every class over plain HTTP and over HTTPS (allowUnauthorized),
with each of its transports: auto, json-rpc and xml-rpc."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT_PASSWORD, Server, ok

XO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xo")
SCRIPT = os.path.join(XO_DIR, "transports_xo.mjs")

# Populations the connector itself changes while it runs.
UNSTABLE = {"session", "task", "message", "user"}


@pytest.fixture(scope="module")
def xen_api():
    """The pinned xen-api (tools/install-deps installs it; installed here if not)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), ("%s is missing: the Xen Orchestra connector tests need Node.js and npm "
                                    "(tools/install-deps installs them)" % tool)
    subprocess.run(["sh", os.path.join(XO_DIR, "events_setup.sh")], check=True, timeout=600)


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory(prefix="xenapi-xo-") as d:
        s = Server(d, https=True)
        try:
            yield s
        finally:
            s.stop()


def connect(url, transport):
    out = subprocess.run(["node", SCRIPT, url, "root", ROOT_PASSWORD, transport], cwd=XO_DIR,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    assert lines, "no result from the connector (exit %d):\n%s" % (out.returncode, out.stderr)
    result = json.loads(lines[-1])
    assert out.returncode == 0 and "error" not in result, "%s\n%s" % (result, out.stderr)
    # The event loop and cache refreshes complain on stderr when a call fails.
    assert "_watchEvents" not in out.stderr and "_refreshCachedRecords" not in out.stderr, out.stderr
    return result


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("transport", ["auto", "json-rpc", "xml-rpc"])
def test_connector_logs_in_and_loads_every_class(tls_server, xen_api, scheme, transport):
    url = "http://127.0.0.1:%d" % tls_server.port if scheme == "http" else tls_server.https_url
    result = connect(url, transport)

    x = tls_server.proxy()
    s = tls_server.login()
    listed = {m.rsplit(".", 1)[0] for m in x.system.listMethods()
              if m.endswith(".get_all_records") and not m.startswith("Async.")}
    assert set(result["types"]) >= listed - {"event"}
    for cls in ("VM", "host", "pool", "SR", "VDI", "network", "PIF", "task"):
        assert cls in result["types"], cls
    for cls in set(result["types"]) - UNSTABLE:
        want = len(ok(getattr(x, cls).get_all_records(s)))
        assert result["counts"][cls] == want, (cls, result["counts"][cls], want)
    assert result["pool"] == ok(x.pool.get_all(s))[0]
    assert result["host_name"]
    assert result["vm_refs"] == result["counts"]["VM"]
