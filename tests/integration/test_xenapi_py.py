"""The same flows through Debian's python3-os-xenapi client (XenAPI.py): login with
2 and 4 parameters (each followed by XenAPI.py's API-version probe), records,
Failure details, Async calls, logout and the automatic re-login on SESSION_INVALID."""
import re
import time

import pytest
from os_xenapi.client import XenAPI

from conftest import ROOT_PASSWORD, failure, ok, vdi_record, vbd_record, vif_record, vm_record

NULL = "OpaqueRef:NULL"


@pytest.fixture
def xenapi_session(server):
    s = XenAPI.Session(server.url)
    s.login_with_password("root", ROOT_PASSWORD, "2.0", "xenapi-py-test")
    yield s
    if s._session is not None:
        try:
            s.xenapi.session.logout()
        except Exception:
            pass


@pytest.fixture
def x(xenapi_session):
    return xenapi_session.xenapi


def wait_task(x, task, timeout=30):
    deadline = time.time() + timeout
    while x.task.get_status(task) == "pending":
        assert time.time() < deadline, "task %s still pending" % task
        time.sleep(0.05)
    return x.task.get_record(task)


def test_login_with_two_parameters_runs_the_version_probe(server):
    s = XenAPI.Session(server.url)
    s.login_with_password("root", ROOT_PASSWORD)
    try:
        assert s._session.startswith("OpaqueRef:")
        major, minor = s.API_version.split(".")
        assert major == "2" and int(minor) >= 21
        assert s.xenapi.session.get_this_host(s._session) == s.xenapi.pool.get_master(s.xenapi.pool.get_all()[0])
    finally:
        s.xenapi.session.logout()
    assert s._session is None


def test_login_with_four_parameters_sets_the_originator(server, proxy):
    s = XenAPI.Session(server.url)
    s.login_with_password("root", ROOT_PASSWORD, "2.0", "my-script")
    try:
        assert s.API_version.startswith("2.")
        assert s.xenapi.session.get_originator(s._session) == "my-script"
        assert s.xenapi.session.get_is_local_superuser(s._session) is True
        ref = s._session
    finally:
        s.xenapi.session.logout()
    # logged out on the server too
    assert failure(proxy.VM.get_all(ref)) == ["SESSION_INVALID", ref]


def test_url_without_a_path_posts_to_rpc2(server):
    s = XenAPI.Session("http://%s:%d" % (server.host, server.port))
    s.login_with_password("root", ROOT_PASSWORD, "1.0", "rpc2")
    try:
        assert s.xenapi.pool.get_all()
    finally:
        s.xenapi.session.logout()


def test_bad_password_raises_failure_with_details(server):
    s = XenAPI.Session(server.url)
    with pytest.raises(XenAPI.Failure) as e:
        s.login_with_password("root", "wrong-password", "2.0", "test")
    assert e.value.details == ["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]


def test_get_all_records(x):
    vms = x.VM.get_all_records()
    assert vms and all(k.startswith("OpaqueRef:") for k in vms)
    assert len({frozenset(r) for r in vms.values()}) == 1
    dom0 = [r for r in vms.values() if r["is_control_domain"]]
    assert len(dom0) == 1 and dom0[0]["power_state"] == "Running"
    assert any(r["is_default_template"] for r in vms.values())
    pool = x.pool.get_all_records()
    assert len(pool) == 1
    host = list(pool.values())[0]["master"]
    assert x.host.get_record(host)["API_version_major"] == "2"
    sv = x.host.get_software_version(host)
    # what Ansible does: product_version as dotted ints
    assert [int(p) for p in sv["product_version"].split(".")]
    assert x.SR.get_record(x.pool.get_default_SR(list(pool)[0]))["PBDs"]


def test_failures_carry_the_error_description(x):
    with pytest.raises(XenAPI.Failure) as e:
        x.VM.get_record("OpaqueRef:bogus")
    assert e.value.details == ["HANDLE_INVALID", "VM", "OpaqueRef:bogus"]
    with pytest.raises(XenAPI.Failure) as e:
        x.VM.get_by_uuid("nope")
    assert e.value.details == ["UUID_INVALID", "VM", "nope"]
    with pytest.raises(XenAPI.Failure) as e:
        x.VM.no_such_call()
    assert e.value.details == ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_call"]
    with pytest.raises(XenAPI.Failure) as e:
        x.VM.get_record()
    assert e.value.details == ["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "0"]
    with pytest.raises(XenAPI.Failure) as e:
        x.host_metrics.get_memory_free(x.host.get_metrics(x.host.get_all()[0]))
    assert e.value.details == ["MESSAGE_REMOVED"]


def test_vm_with_devices(x):
    sr = x.pool.get_default_SR(x.pool.get_all()[0])
    net = x.network.get_all()[0]
    vm = x.VM.create(vm_record("xenapi-py-vm"))
    vdi = x.VDI.create(vdi_record(sr, "xenapi-py-disk"))
    try:
        vbd = x.VBD.create(vbd_record(vm, vdi))
        vif = x.VIF.create(vif_record(vm, net))
        rec = x.VM.get_record(vm)
        assert rec["VBDs"] == [vbd] and rec["VIFs"] == [vif]
        assert x.VM.get_by_name_label("xenapi-py-vm") == [vm]
        assert x.VIF.get_MAC(vif)
        with pytest.raises(XenAPI.Failure) as e:
            x.VIF.create(vif_record(vm, net))
        assert e.value.details == ["DEVICE_ALREADY_EXISTS", "0"]
        x.VM.set_user_version(vm, "6000000000")
        assert x.VM.get_user_version(vm) == "6000000000"
        x.VM.add_to_other_config(vm, "k", "v")
        with pytest.raises(XenAPI.Failure) as e:
            x.VM.add_to_other_config(vm, "k", "w")
        assert e.value.details == ["MAP_DUPLICATE_KEY", "VM", "other_config", vm, "k"]
        x.VM.remove_from_other_config(vm, "not-there")
        x.VM.destroy(vm)
        with pytest.raises(XenAPI.Failure) as e:
            x.VBD.get_record(vbd)
        assert e.value.details == ["HANDLE_INVALID", "VBD", vbd]
        assert x.VDI.get_VBDs(vdi) == []
    finally:
        try:
            x.VM.destroy(vm)
        except XenAPI.Failure:
            pass
        x.VDI.destroy(vdi)


def test_get_all_records_where(x):
    templates = x.VM.get_all_records_where('field "is_a_template"="true"')
    assert templates and all(r["is_a_template"] for r in templates.values())
    with pytest.raises(XenAPI.Failure) as e:
        x.VM.get_all_records_where("this is not an expression")
    assert e.value.details[0] == "INVALID_VALUE"


def test_async_vm_create(x):
    task = x.Async.VM.create(vm_record("xenapi-py-async"))
    assert task.startswith("OpaqueRef:")
    rec = wait_task(x, task)
    assert rec["status"] == "success", rec
    m = re.match(r"^<value>(OpaqueRef:[^<]+)</value>$", rec["result"])
    assert m, rec["result"]
    vm = m.group(1)
    try:
        assert x.VM.get_name_label(vm) == "xenapi-py-async"
        assert x.task.get_result(task) == rec["result"]
    finally:
        x.VM.destroy(vm)


def test_async_failures(x):
    rec = vm_record("xenapi-py-async-bad")
    del rec["VCPUs_max"]
    task = x.Async.VM.create(rec)
    r = wait_task(x, task)
    assert r["status"] == "failure" and "VCPUs_max" in " ".join(r["error_info"]), r
    with pytest.raises(XenAPI.Failure) as e:
        x.Async.VM.get_all()
    assert e.value.details == ["Fault", "No async mode for this operation (rpc: VM.get_all)"]


def test_relogin_after_the_session_is_logged_out_elsewhere(server, proxy, xenapi_session):
    x = xenapi_session.xenapi
    old = xenapi_session._session
    assert x.VM.get_all()
    # another client logs this session out on the server
    ok(proxy.session.logout(old))
    assert failure(proxy.VM.get_all(old)) == ["SESSION_INVALID", old]
    # XenAPI.py sees SESSION_INVALID, logs in again with the stored parameters, retries
    vms = x.VM.get_all()
    assert vms
    new = xenapi_session._session
    assert new != old and new.startswith("OpaqueRef:")
    assert ok(proxy.VM.get_all(new)) == vms
    assert x.session.get_originator(new) == "xenapi-py-test"


def test_logout(server, proxy):
    s = XenAPI.Session(server.url)
    s.login_with_password("root", ROOT_PASSWORD, "2.0", "logout-test")
    ref = s._session
    s.xenapi.session.logout()
    assert s._session is None
    assert failure(proxy.session.get_record(ref, ref)) == ["SESSION_INVALID", ref]
    # logging in again on the same Session object works
    s.login_with_password("root", ROOT_PASSWORD)
    assert s._session != ref and s.xenapi.VM.get_all()
    s.xenapi.session.logout()
