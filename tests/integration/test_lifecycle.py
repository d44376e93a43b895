"""The VM lifecycle end to end on a real server through XenAPI.py (install flow, Async start with task polling, two clients racing, a long Async clone beside reads, host memory, a guest that crashes, snapshots and revert) and Xen Orchestra's callAsync over XML-RPC and JSON-RPC."""
import json
import os
import shutil
import subprocess
import threading
import time

import pytest
from os_xenapi.client import XenAPI

from conftest import ROOT_PASSWORD, vbd_record, vdi_record, vif_record, vm_record

NULL = "OpaqueRef:NULL"
MiB = 1 << 20
XO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xo")
XO_SCRIPT = os.path.join(XO_DIR, "lifecycle_xo.mjs")


def new_session(server):
    s = XenAPI.Session(server.url)
    s.login_with_password("root", ROOT_PASSWORD, "2.0", "lifecycle-test")
    return s


@pytest.fixture
def sessions(server):
    made = []

    def make():
        s = new_session(server)
        made.append(s)
        return s.xenapi

    yield make
    for s in made:
        try:
            s.xenapi.session.logout()
        except Exception:
            pass


@pytest.fixture
def x(sessions):
    return sessions()


def failure_of(call, *args):
    with pytest.raises(XenAPI.Failure) as e:
        call(*args)
    return e.value.details


def wait_task(x, task, timeout=60):
    deadline = time.time() + timeout
    while x.task.get_status(task) == "pending":
        assert time.time() < deadline, "task %s still pending" % task
        time.sleep(0.02)
    return x.task.get_record(task)


def plain_vm(x, name, **overrides):
    vm = x.VM.create(vm_record(name, **overrides))
    sr = x.pool.get_default_SR(x.pool.get_all()[0])
    vdi = x.VDI.create(vdi_record(sr, name + " disk", str(64 * MiB)))
    x.VBD.create(vbd_record(vm, vdi, "0"))
    x.VIF.create(vif_record(vm, x.network.get_all()[0]))
    return vm


def remove_vm(x, vm):
    if x.VM.get_power_state(vm) != "Halted":
        x.VM.hard_shutdown(vm)
    vdis = [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(vm) if x.VBD.get_type(b) == "Disk"]
    x.VM.destroy(vm)
    for vdi in vdis:
        if vdi != NULL:
            x.VDI.destroy(vdi)


def test_install_flow(x):
    template = x.VM.get_by_name_label("Debian Bookworm 12")[0]
    assert x.VM.get_is_default_template(template)
    vm = x.VM.clone(template, "installed by XenAPI.py")
    try:
        assert x.VM.get_is_a_template(vm) is True
        assert x.VM.get_is_default_template(vm) is False
        assert "disks" in x.VM.get_other_config(vm)
        assert failure_of(x.VM.start, vm, False, False) == ["VM_IS_TEMPLATE", vm, "start"]

        x.VM.provision(vm)
        assert "disks" not in x.VM.get_other_config(vm)
        vbds = x.VM.get_VBDs(vm)
        assert len(vbds) == 1
        disk = x.VBD.get_record(vbds[0])
        assert disk["userdevice"] == "0" and disk["bootable"] and disk["type"] == "Disk"
        assert int(x.VDI.get_virtual_size(disk["VDI"])) == 10 << 30

        x.VM.set_is_a_template(vm, False)
        assert "start" in x.VM.get_allowed_operations(vm)
        vif = x.VIF.create(vif_record(vm, x.network.get_all()[0]))
        mac = x.VIF.get_MAC(vif)
        assert len(mac) == 17 and int(mac[:2], 16) & 2

        x.VM.start(vm, False, False)
        rec = x.VM.get_record(vm)
        assert rec["power_state"] == "Running"
        assert rec["resident_on"] == x.pool.get_master(x.pool.get_all()[0])
        assert int(rec["domid"]) > 0
        assert x.VBD.get_currently_attached(vbds[0]) is True
        assert x.VBD.get_device(vbds[0]) == "xvda"
        assert x.VIF.get_currently_attached(vif) is True
        metrics = x.VM_metrics.get_record(rec["metrics"])
        assert int(metrics["memory_actual"]) == int(rec["memory_dynamic_max"])
        assert "clean_shutdown" in rec["allowed_operations"]
        assert failure_of(x.VM.start, vm, False, False) == ["VM_BAD_POWER_STATE", vm, "halted", "running"]

        x.VM.clean_shutdown(vm)
        assert x.VM.get_power_state(vm) == "Halted"
        assert x.VBD.get_currently_attached(vbds[0]) is False
        assert x.VIF.get_currently_attached(vif) is False
        assert failure_of(x.VM.clean_shutdown, vm) == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    finally:
        remove_vm(x, vm)


def test_async_start_with_polling_and_destroy(x):
    vm = plain_vm(x, "async start")
    try:
        task = x.Async.VM.start(vm, False, False)
        assert task.startswith("OpaqueRef:")
        rec = wait_task(x, task)
        assert rec["status"] == "success", rec
        assert rec["result"] == "<value></value>"
        assert float(rec["progress"]) == 1.0
        assert x.VM.get_power_state(vm) == "Running"
        assert x.VM.get_current_operations(vm) == {}
        x.task.destroy(task)
        assert failure_of(x.task.get_status, task) == ["HANDLE_INVALID", "task", task]

        # A failing Async call carries exactly the sync call's error.
        sync = failure_of(x.VM.start, vm, False, False)
        task = x.Async.VM.start(vm, False, False)
        rec = wait_task(x, task)
        assert rec["status"] == "failure"
        assert rec["error_info"] == sync
        x.task.destroy(task)

        task = x.Async.VM.clean_shutdown(vm)
        assert wait_task(x, task)["status"] == "success"
        x.task.destroy(task)
        assert x.VM.get_power_state(vm) == "Halted"
    finally:
        remove_vm(x, vm)


def race(clients, calls):
    """Runs calls[i] on clients[i] at the same moment; returns (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        barrier.wait()
        try:
            results[i] = ("ok", calls[i](clients[i]))
        except XenAPI.Failure as e:
            results[i] = ("failure", e.details)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_clients_conflicting_exactly_one_succeeds(sessions):
    a, b = sessions(), sessions()
    vm = plain_vm(a, "raced")
    try:
        rounds = [
            (lambda c: c.VM.start(vm, False, False), "Running"),
            (lambda c: c.VM.suspend(vm), "Suspended"),
            (lambda c: c.VM.resume(vm, False, False), "Running"),
            (lambda c: c.VM.clean_shutdown(vm), "Halted"),
        ]
        for n in range(10):
            for call, state in rounds:
                results = race([a, b], [call, call])
                wins = [r for r in results if r[0] == "ok"]
                assert len(wins) == 1, results
                loser = [r for r in results if r[0] == "failure"][0][1]
                assert loser[0] in ("OTHER_OPERATION_IN_PROGRESS", "VM_BAD_POWER_STATE"), loser
                if loser[0] == "OTHER_OPERATION_IN_PROGRESS":
                    assert loser[1:3] == ["VM", vm] and len(loser) == 5, loser
                assert a.VM.get_power_state(vm) == state
                assert a.VM.get_current_operations(vm) == {}
            # Different conflicting calls: pause against clean_shutdown.
            a.VM.start(vm, False, False)
            results = race([a, b], [lambda c: c.VM.pause(vm), lambda c: c.VM.clean_shutdown(vm)])
            assert len([r for r in results if r[0] == "ok"]) == 1, results
            state = a.VM.get_power_state(vm)
            assert state == ("Paused" if results[0][0] == "ok" else "Halted")
            if state != "Halted":
                a.VM.hard_shutdown(vm)
    finally:
        remove_vm(a, vm)


def test_long_async_clone_beside_reads_of_the_same_vm(server, sessions):
    a, b = sessions(), sessions()
    vm = a.VM.create(vm_record("heavy"))
    sr = a.pool.get_default_SR(a.pool.get_all()[0])
    folder = os.path.join(server.state_dir, "sr-local")
    block = b"d" * MiB
    for i in range(10):
        vdi = a.VDI.create(vdi_record(sr, "heavy %d" % i, str(32 * MiB)))
        a.VBD.create(vbd_record(vm, vdi, str(i), bootable=(i == 0)))
        path = os.path.join(folder, a.VDI.get_uuid(vdi) + ".img")
        assert os.path.exists(path), "volumes live in <state>/sr-local: %s" % path
        with open(path, "r+b") as f:
            for _ in range(16):
                f.write(block)
    clone = None
    try:
        task = a.Async.VM.clone(vm, "heavy clone")
        saw_running = False
        reads = 0
        while a.task.get_status(task) == "pending":
            t0 = time.time()
            rec = b.VM.get_record(vm)
            reads += 1
            assert time.time() - t0 < 2.0, "a read waited for the clone"
            if task in rec["current_operations"]:
                saw_running = True
                assert rec["current_operations"][task] == "clone"
                assert set(rec["allowed_operations"]) == {"clone", "copy"}
                try:
                    b.VM.start(vm, False, False)
                    # Only possible once the clone has let go of the VM.
                    assert a.task.get_status(task) != "pending" or task not in b.VM.get_current_operations(vm)
                    b.VM.hard_shutdown(vm)
                except XenAPI.Failure as e:
                    if a.task.get_status(task) == "pending":
                        assert e.details == ["OTHER_OPERATION_IN_PROGRESS", "VM", vm, "clone", task], e.details
            time.sleep(0.005)
        rec = a.task.get_record(task)
        assert rec["status"] == "success", rec
        assert saw_running, "the clone never showed in current_operations (%d reads)" % reads
        clone = rec["result"][len("<value>"):-len("</value>")]
        assert b.VM.get_name_label(clone) == "heavy clone"
        assert len(b.VM.get_VBDs(clone)) == 10
        assert b.VM.get_current_operations(vm) == {}
        a.task.destroy(task)
    finally:
        for v in (clone, vm):
            if v:
                remove_vm(a, v)


def wait_for(predicate, what, timeout=10):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, what
        time.sleep(0.02)


def test_host_memory_follows_the_vms(x):
    host = x.pool.get_master(x.pool.get_all()[0])
    vm = plain_vm(x, "memory")
    try:
        free = int(x.host.compute_free_memory(host))
        assert free > 0
        size = int(x.VM.get_memory_dynamic_max(vm))
        x.VM.start(vm, False, False)
        assert int(x.host.compute_free_memory(host)) == free - size
        x.VM.suspend(vm)
        assert int(x.host.compute_free_memory(host)) == free
        x.VM.resume(vm, False, False)
        assert int(x.host.compute_free_memory(host)) == free - size
        assert set(x.host.get_allowed_operations(host)) == {"vm_start", "vm_resume"}
        x.VM.hard_shutdown(vm)
        assert int(x.host.compute_free_memory(host)) == free
        # A disabled host starts nothing.
        x.host.disable(host)
        try:
            assert x.host.get_allowed_operations(host) == []
            assert failure_of(x.VM.start, vm, False, False) == ["HOST_DISABLED", host]
        finally:
            x.host.enable(host)
        x.VM.start(vm, False, False)
    finally:
        remove_vm(x, vm)


def test_guest_crash_preserved_then_stopped(x):
    host = x.pool.get_master(x.pool.get_all()[0])
    vm = plain_vm(x, "crashing", actions_after_crash="preserve")
    try:
        free = int(x.host.compute_free_memory(host))
        x.VM.start(vm, False, False)
        x.VM.send_sysrq(vm, "c")
        wait_for(lambda: x.VM.get_power_state(vm) == "Paused", "the crashed guest shows as Paused")
        assert "unpause" not in x.VM.get_allowed_operations(vm)
        assert failure_of(x.VM.unpause, vm) == ["VM_CRASHED", vm]
        assert int(x.host.compute_free_memory(host)) < free, "the kept domain holds its memory"
        x.VM.hard_shutdown(vm)
        assert x.VM.get_power_state(vm) == "Halted"
        assert int(x.host.compute_free_memory(host)) == free
        # A guest that powers itself off: actions_after_shutdown (destroy) applies.
        x.VM.start(vm, False, False)
        x.VM.send_sysrq(vm, "o")
        wait_for(lambda: x.VM.get_power_state(vm) == "Halted", "the guest that powered off shows as Halted")
        assert all(not x.VBD.get_currently_attached(b) for b in x.VM.get_VBDs(vm))
    finally:
        remove_vm(x, vm)


def test_snapshot_and_revert(x):
    vm = plain_vm(x, "reverted")
    vifs = x.VM.get_VIFs(vm)
    mac = x.VIF.get_MAC(vifs[0])
    snap = x.VM.snapshot(vm, "before")
    try:
        assert x.VM.get_parent(vm) == snap
        assert x.VM.get_snapshot_info(snap)["power-state-at-snapshot"] == "Halted"
        x.VIF.destroy(vifs[0])
        x.VM.set_memory_limits(vm, str(256 << 20), str(2 << 30), str(2 << 30), str(2 << 30))
        x.VM.start(vm, False, False)
        task = x.Async.VM.revert(snap)
        rec = wait_task(x, task)
        assert rec["status"] == "success", rec
        x.task.destroy(task)
        assert x.VM.get_power_state(vm) == "Halted"
        assert x.VM.get_memory_static_max(vm) == x.VM.get_memory_static_max(snap)
        assert [x.VIF.get_MAC(v) for v in x.VM.get_VIFs(vm)] == [mac]
        assert x.VM.get_parent(vm) == snap
        assert failure_of(x.VM.revert, vm) == ["REVERT_ONLY_ALLOWED_ON_SNAPSHOT"]
        x.VM.start(vm, False, False)
    finally:
        snap_vdis = [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(snap) if x.VBD.get_type(b) == "Disk"]
        x.VM.destroy(snap)
        for vdi in snap_vdis:
            x.VDI.destroy(vdi)
        remove_vm(x, vm)


# ---------------------------------------------------------------- Xen Orchestra's connector

@pytest.fixture(scope="module")
def xen_api():
    """The pinned xen-api (tools/install-deps installs it; installed here if not)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), ("%s is missing: the Xen Orchestra connector tests need Node.js and npm "
                                    "(tools/install-deps installs them)" % tool)
    subprocess.run(["sh", os.path.join(XO_DIR, "events_setup.sh")], check=True, timeout=600)


def finished_async_tasks(x):
    out = []
    for t in x.task.get_all():
        try:
            rec = x.task.get_record(t)
        except XenAPI.Failure:
            continue  # destroyed meanwhile
        if rec["name_label"].startswith("Async.VM.") and rec["status"] != "pending":
            out.append(rec)
    return out


@pytest.mark.parametrize("transport", ["xml-rpc", "json-rpc"])
def test_xo_call_async_power_cycle(server, x, xen_api, transport):
    vm = plain_vm(x, "xo power cycle " + transport)
    url = "http://%s:%d" % (server.host, server.port)
    out = subprocess.run(["node", XO_SCRIPT, url, "root", ROOT_PASSWORD, transport, vm], cwd=XO_DIR,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    assert lines, "no result from the connector (exit %d):\n%s" % (out.returncode, out.stderr)
    result = json.loads(lines[-1])
    try:
        assert out.returncode == 0 and "error" not in result, "%s\n%s" % (result, out.stderr)
        assert result["start"] == ""
        assert result["running"] == "Running"
        assert result["shutdown"] == ""
        assert result["halted"] == "Halted"
        assert result["failure"] == {"code": "VM_BAD_POWER_STATE", "params": [vm, "running", "halted"]}
        assert result["clone"].startswith("OpaqueRef:")
        assert result["clone_name"] == "xo clone over " + transport
        assert x.VM.get_power_state(vm) == "Halted"
        # The connector destroys the tasks it followed.
        deadline = time.time() + 10
        while finished_async_tasks(x):
            assert time.time() < deadline, finished_async_tasks(x)
            time.sleep(0.1)
    finally:
        if result.get("clone", "").startswith("OpaqueRef:"):
            remove_vm(x, result["clone"])
        remove_vm(x, vm)
