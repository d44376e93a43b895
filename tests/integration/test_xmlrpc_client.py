"""The XenAPI over Python's plain xmlrpc.client: the probe XenAPI.py does, every
class's records, the error codes with their exact parameters, value types, the
first-start world and the VM/VBD/VIF constructors (xenapi-spec.md §1, §2, §4, §7;
client-compat.md)."""
import datetime
import re
import time
import xmlrpc.client

import pytest

from conftest import (ROOT_PASSWORD, VBD_REQUIRED_FIELDS, VIF_REQUIRED_FIELDS,
                      VM_REQUIRED_FIELDS, api_dump, failure, ok, vbd_record,
                      vdi_record, vif_record, vm_record, wait_for_task)

OPAQUE_REF = re.compile(r"^OpaqueRef:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NULL = "OpaqueRef:NULL"


# --------------------------------------------------------------------------
# helpers

def the_host(proxy, session):
    hosts = ok(proxy.host.get_all(session))
    assert len(hosts) == 1, hosts
    return hosts[0]


def the_sr(proxy, session):
    return ok(proxy.pool.get_default_SR(session, ok(proxy.pool.get_all(session))[0]))


def the_network(proxy, session):
    nets = ok(proxy.network.get_all(session))
    assert nets
    return nets[0]


def call(proxy, name, *args):
    """Calls a wire name that is not a Python identifier path (e.g. 'Async.VM.create')."""
    return getattr(proxy, name)(*args)


@pytest.fixture
def vm(proxy, session):
    """A fresh halted VM, destroyed afterwards if the test did not."""
    ref = ok(proxy.VM.create(session, vm_record("it-vm-%f" % time.time())))
    yield ref
    proxy.VM.destroy(session, ref)


@pytest.fixture
def vdi(proxy, session):
    ref = ok(proxy.VDI.create(session, vdi_record(the_sr(proxy, session), "it-disk-%f" % time.time())))
    yield ref
    proxy.VDI.destroy(session, ref)


def parse_dump():
    """Classes, fields, messages and enums from `xenapi-server --dump-api`."""
    fields, messages, enums = {}, [], {}
    for line in api_dump().splitlines():
        m = re.match(r"^  field (\w+)\.(\w+) : (.*)$", line)
        if m:
            fields.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
            continue
        m = re.match(r"^  message ([\w.]+)\((.*)\) -> (.*?) \[(\w+)\](.*)$", line)
        if m:
            messages.append({"name": m.group(1), "params": m.group(2), "result": m.group(3),
                             "kind": m.group(4), "flags": m.group(5)})
            continue
        m = re.match(r"^enum (\w+) = (.*)$", line)
        if m:
            enums[m.group(1)] = [v.strip() for v in m.group(2).split(",")]
    return fields, messages, enums


# --------------------------------------------------------------------------
# login, probe, listMethods, naming

def test_xenapi_py_api_version_probe(proxy):
    """What XenAPI.py does right after every login (§1.8)."""
    session = ok(proxy.session.login_with_password("root", ROOT_PASSWORD, "2.0", "probe"))
    try:
        pools = ok(proxy.pool.get_all(session))
        assert len(pools) == 1
        host = ok(proxy.pool.get_master(session, pools[0]))
        assert OPAQUE_REF.match(host), host
        major = ok(proxy.host.get_API_version_major(session, host))
        minor = ok(proxy.host.get_API_version_minor(session, host))
        # ints are untyped <value>digits</value>, which xmlrpc.client reads as str
        assert major == "2"
        assert isinstance(minor, str) and minor.isdigit() and int(minor) >= 21
    finally:
        ok(proxy.session.logout(session))


def test_system_list_methods_needs_no_session_and_is_a_bare_array(proxy):
    methods = proxy.system.listMethods()
    assert isinstance(methods, list), methods  # not a {Status, Value} struct
    assert all(isinstance(m, str) for m in methods)
    assert len(methods) == len(set(methods)), "duplicates in system.listMethods"
    for name in ("session.login_with_password", "session.logout", "pool.get_all",
                 "pool.get_master", "host.get_API_version_major", "VM.get_all_records",
                 "VM.create", "VBD.create", "VIF.create", "task.get_record"):
        assert name in methods, name
    # only synchronous wire names
    assert not [m for m in methods if m.startswith("Async.")]
    assert all(re.match(r"^\w+\.\w+$", m) for m in methods), \
        [m for m in methods if not re.match(r"^\w+\.\w+$", m)]


def test_every_listed_method_dispatches(proxy):
    """Everything system.listMethods names is known to the dispatcher: called with a
    bogus session it fails for the session or the argument count, never as unknown."""
    unknown = []
    for name in proxy.system.listMethods():
        r = call(proxy, name, "OpaqueRef:not-a-session")
        if r.get("Status") == "Failure" and r["ErrorDescription"][0] == "MESSAGE_METHOD_UNKNOWN":
            unknown.append(name)
    assert unknown == []


def test_class_underscore_message_alias(proxy, session):
    assert sorted(ok(proxy.VM_get_all(session))) == sorted(ok(proxy.VM.get_all(session)))
    host = the_host(proxy, session)
    assert ok(proxy.host_get_API_version_major(session, host)) == "2"
    assert ok(proxy.host_get_record(session, host))["uuid"] == ok(proxy.host.get_uuid(session, host))


def test_async_of_a_sync_only_message_is_a_fault_failure(proxy, session):
    assert failure(call(proxy, "Async.VM.get_all", session)) == [
        "Fault", "No async mode for this operation (rpc: VM.get_all)"]


# --------------------------------------------------------------------------
# get_all_records of every class

def record_classes(proxy):
    return sorted(m[:-len(".get_all_records")] for m in proxy.system.listMethods()
                  if m.endswith(".get_all_records"))


@pytest.fixture
def populated(proxy, session):
    """Objects of the constructible classes next to the first-start ones: a VM with a
    disk, a CD drive and a network interface, a message, a finished task, a secret."""
    made = {}
    made["VM"] = ok(proxy.VM.create(session, vm_record("it-populated")))
    made["VDI"] = ok(proxy.VDI.create(session, vdi_record(the_sr(proxy, session), "it-populated")))
    made["VBD"] = ok(proxy.VBD.create(session, vbd_record(made["VM"], made["VDI"])))
    made["CD"] = ok(proxy.VBD.create(session, vbd_record(made["VM"], NULL, userdevice="3", type="CD",
                                                         mode="RO", empty=True, bootable=False)))
    made["VIF"] = ok(proxy.VIF.create(session, vif_record(made["VM"], the_network(proxy, session))))
    made["message"] = ok(proxy.message.create(session, "IT_POPULATED", "1", "VM",
                                              ok(proxy.VM.get_uuid(session, made["VM"])), "x"))
    made["secret"] = ok(proxy.secret.create(session, {"value": "s3cret", "other_config": {}}))
    task = ok(call(proxy, "Async.VM.create", session, vm_record("it-populated-async")))
    rec = wait_for_task(proxy, session, task)
    made["task"] = task
    made["VM2"] = re.match(r"^<value>(.*)</value>$", rec["result"]).group(1)
    yield made
    proxy.VM.destroy(session, made["VM"])
    proxy.VM.destroy(session, made["VM2"])
    proxy.VDI.destroy(session, made["VDI"])
    proxy.message.destroy(session, made["message"])
    proxy.secret.destroy(session, made["secret"])


def test_get_all_records_of_every_listed_class(proxy, session, populated):
    classes = record_classes(proxy)
    for expected in ("pool", "host", "host_metrics", "host_cpu", "VM", "VM_metrics", "VBD",
                     "VIF", "VDI", "SR", "PBD", "network", "PIF", "PIF_metrics", "task"):
        assert expected in classes, expected
    # the removed classes are not advertised
    assert "VBD_metrics" not in classes and "VIF_metrics" not in classes

    seen_uuids = {}
    for cls in classes:
        records = ok(call(proxy, cls + ".get_all_records", session))
        assert isinstance(records, dict), (cls, records)
        keysets = {frozenset(rec) for rec in records.values()}
        assert len(keysets) <= 1, "%s records differ in their field sets: %r" % (
            cls, [sorted(k ^ next(iter(keysets))) for k in keysets])
        for ref, rec in records.items():
            assert OPAQUE_REF.match(ref), (cls, ref)
            assert "uuid" in rec, (cls, rec)
            assert UUID.match(rec["uuid"]), (cls, rec["uuid"])
            assert rec["uuid"] not in seen_uuids, "uuid %s of %s %s also used by %s" % (
                rec["uuid"], cls, ref, seen_uuids[rec["uuid"]])
            seen_uuids[rec["uuid"]] = (cls, ref)
        if cls != "message":
            assert sorted(ok(call(proxy, cls + ".get_all", session))) == sorted(records), cls


def test_get_record_and_get_by_uuid_agree_with_get_all_records(proxy, session, populated):
    for cls in record_classes(proxy):
        records = ok(call(proxy, cls + ".get_all_records", session))
        for ref, rec in list(records.items())[:3]:
            assert ok(call(proxy, cls + ".get_record", session, ref)) == rec, (cls, ref)
            assert ok(call(proxy, cls + ".get_by_uuid", session, rec["uuid"])) == ref, (cls, ref)


def test_records_carry_every_published_field(proxy, session, populated):
    """Records have exactly the class's fields from the datamodel (minus removed and
    internal ones): SDK deserialisers expect all of them."""
    fields, _, _ = parse_dump()
    problems = []
    for cls in record_classes(proxy):
        published = {name for name, desc in fields.get(cls, [])
                     if "REMOVED" not in desc and not re.search(r"\binternal\b", desc)}
        for ref, rec in ok(call(proxy, cls + ".get_all_records", session)).items():
            if set(rec) != published:
                problems.append((cls, ref, sorted(set(rec) - published), sorted(published - set(rec))))
    assert problems == []


# --------------------------------------------------------------------------
# error codes

def test_unknown_method(proxy, session):
    assert failure(proxy.VM.no_such_message(session)) == ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_message"]
    assert failure(proxy.NoSuchClass.get_all(session)) == ["MESSAGE_METHOD_UNKNOWN", "NoSuchClass.get_all"]
    assert failure(proxy.VM.no_such_message()) == ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_message"]
    # class names are case-sensitive
    assert failure(proxy.vm.get_all(session)) == ["MESSAGE_METHOD_UNKNOWN", "vm.get_all"]


def test_unknown_method_with_a_bogus_session_checks_the_session_first(proxy):
    """xapi tries an unknown name with >= 1 parameter as an API extension, which
    checks the session first (§1.2)."""
    assert failure(proxy.VM.no_such_message("OpaqueRef:bogus")) == ["SESSION_INVALID", "OpaqueRef:bogus"]


def test_parameter_count_mismatch_does_not_count_the_session(proxy, session):
    host = the_host(proxy, session)
    assert failure(proxy.host.get_record(session)) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_record", "1", "0"]
    assert failure(proxy.host.get_record(session, host, "extra")) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_record", "1", "2"]
    assert failure(proxy.VM.get_all(session, "extra")) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_all", "0", "1"]
    assert failure(proxy.VM.add_to_other_config(session, "OpaqueRef:NULL", "k")) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.add_to_other_config", "3", "2"]


def test_login_parameter_counts(proxy):
    # expected excludes the defaulted version/originator
    assert failure(proxy.session.login_with_password("root")) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1"]
    # three parameters (version only) are fine
    s3 = ok(proxy.session.login_with_password("root", ROOT_PASSWORD, "1.0"))
    ok(proxy.session.logout(s3))
    # a message with optional parameters ignores surplus trailing arguments (§1.2)
    s5 = ok(proxy.session.login_with_password("root", ROOT_PASSWORD, "2.0", "it", "surplus"))
    ok(proxy.session.logout(s5))


def test_session_invalid(proxy):
    assert failure(proxy.VM.get_all("OpaqueRef:bogus")) == ["SESSION_INVALID", "OpaqueRef:bogus"]
    assert failure(proxy.VM.get_all("")) == ["SESSION_INVALID", ""]


def test_handle_invalid(proxy, session):
    assert failure(proxy.VM.get_record(session, "OpaqueRef:bogus")) == [
        "HANDLE_INVALID", "VM", "OpaqueRef:bogus"]
    assert failure(proxy.VM.get_name_label(session, NULL)) == ["HANDLE_INVALID", "VM", NULL]
    assert failure(proxy.VBD.get_record(session, "OpaqueRef:bogus")) == [
        "HANDLE_INVALID", "VBD", "OpaqueRef:bogus"]
    assert failure(proxy.host.set_name_label(session, "OpaqueRef:bogus", "x")) == [
        "HANDLE_INVALID", "host", "OpaqueRef:bogus"]
    # a ref of another class is not a VM
    host = the_host(proxy, session)
    assert failure(proxy.VM.get_record(session, host)) == ["HANDLE_INVALID", "VM", host]


def test_handle_of_a_destroyed_object_is_invalid(proxy, session):
    ref = ok(proxy.VM.create(session, vm_record("it-short-lived")))
    ok(proxy.VM.destroy(session, ref))
    assert failure(proxy.VM.get_record(session, ref)) == ["HANDLE_INVALID", "VM", ref]
    assert failure(proxy.VM.destroy(session, ref)) == ["HANDLE_INVALID", "VM", ref]


def test_uuid_invalid(proxy, session):
    assert failure(proxy.VM.get_by_uuid(session, "no-such-uuid")) == ["UUID_INVALID", "VM", "no-such-uuid"]
    u = "00000000-0000-0000-0000-000000000000"
    assert failure(proxy.SR.get_by_uuid(session, u)) == ["UUID_INVALID", "SR", u]
    # the uuid of an object of another class
    host_uuid = ok(proxy.host.get_uuid(session, the_host(proxy, session)))
    assert failure(proxy.network.get_by_uuid(session, host_uuid)) == ["UUID_INVALID", "network", host_uuid]


def test_field_type_error(proxy, session, vm):
    for bad in (
            proxy.VM.set_is_a_template(session, vm, "true"),   # bool as a string is rejected
            proxy.VM.set_user_version(session, vm, "twelve"),  # int: digits only
            proxy.VM.set_user_version(session, vm, 1.5),
            proxy.VM.set_other_config(session, vm, "not a map"),
            proxy.VM.set_other_config(session, vm, ["a", "b"]),
            proxy.VM.set_tags(session, vm, "not a set"),
            proxy.VM.set_name_label(session, vm, {"a": "b"})):
        err = failure(bad)
        assert err[0] == "FIELD_TYPE_ERROR" and len(err) == 2, err
    rec = ok(proxy.VM.get_record(session, vm))
    assert rec["is_a_template"] is False and rec["user_version"] == "1"


def test_bad_enum_is_invalid_value(proxy, session, vm):
    err = failure(proxy.VM.set_actions_after_shutdown(session, vm, "explode"))
    assert err[0] == "INVALID_VALUE" and "explode" in err[1:], err
    assert ok(proxy.VM.get_actions_after_shutdown(session, vm)) == "destroy"
    # a value in another case is either refused or stored in its canonical spelling
    r = proxy.VM.set_actions_after_shutdown(session, vm, "Restart")
    if r["Status"] == "Failure":
        assert r["ErrorDescription"][0] == "INVALID_VALUE", r
        assert ok(proxy.VM.get_actions_after_shutdown(session, vm)) == "destroy"
    else:
        assert ok(proxy.VM.get_actions_after_shutdown(session, vm)) == "restart"
        ok(proxy.VM.set_actions_after_shutdown(session, vm, "destroy"))
    ok(proxy.VM.set_actions_after_shutdown(session, vm, "restart"))
    assert ok(proxy.VM.get_actions_after_shutdown(session, vm)) == "restart"
    # also in a constructor record
    err = failure(proxy.VM.create(session, vm_record("it-bad-enum", actions_after_crash="explode")))
    assert err[0] == "INVALID_VALUE" and "explode" in err[1:], err


def test_map_duplicate_key_and_missing_key_removal(proxy, session, vm):
    ok(proxy.VM.add_to_other_config(session, vm, "color", "blue"))
    assert failure(proxy.VM.add_to_other_config(session, vm, "color", "red")) == [
        "MAP_DUPLICATE_KEY", "VM", "other_config", vm, "color"]
    assert ok(proxy.VM.get_other_config(session, vm)) == {"color": "blue"}
    # removing a key that is not there succeeds
    assert ok(proxy.VM.remove_from_other_config(session, vm, "no-such-key")) == ""
    ok(proxy.VM.remove_from_other_config(session, vm, "color"))
    assert ok(proxy.VM.get_other_config(session, vm)) == {}
    assert ok(proxy.VM.remove_from_other_config(session, vm, "color")) == ""
    # on another class
    pool = ok(proxy.pool.get_all(session))[0]
    ok(proxy.pool.add_to_other_config(session, pool, "it-barrier", "1"))
    try:
        assert failure(proxy.pool.add_to_other_config(session, pool, "it-barrier", "2")) == [
            "MAP_DUPLICATE_KEY", "pool", "other_config", pool, "it-barrier"]
    finally:
        ok(proxy.pool.remove_from_other_config(session, pool, "it-barrier"))
    assert "it-barrier" not in ok(proxy.pool.get_other_config(session, pool))


def test_set_add_and_remove_are_idempotent(proxy, session, vm):
    ok(proxy.VM.add_tags(session, vm, "a"))
    ok(proxy.VM.add_tags(session, vm, "a"))
    ok(proxy.VM.add_tags(session, vm, "b"))
    assert sorted(ok(proxy.VM.get_tags(session, vm))) == ["a", "b"]
    ok(proxy.VM.remove_tags(session, vm, "zzz"))
    ok(proxy.VM.remove_tags(session, vm, "a"))
    assert ok(proxy.VM.get_tags(session, vm)) == ["b"]
    ok(proxy.VM.set_tags(session, vm, []))
    assert ok(proxy.VM.get_tags(session, vm)) == []


def test_not_implemented_explicit_message(proxy, session):
    dump = api_dump()
    assert "message session.get_all_subject_identifiers() " in dump
    line = [l for l in dump.splitlines() if "message session.get_all_subject_identifiers(" in l][0]
    assert "NOT-IMPLEMENTED" in line
    assert failure(proxy.session.get_all_subject_identifiers(session)) == [
        "NOT_IMPLEMENTED", "session.get_all_subject_identifiers"]


def _dummy_arg(ptype, enums, refs):
    ptype = ptype.strip()
    if ptype.endswith(" set") or ptype.endswith(" option"):
        return []
    if ptype.endswith(" map") or ptype.endswith(" record"):
        return {}
    if ptype.endswith(" ref"):
        return refs.get(ptype[:-4], NULL)
    if ptype.startswith("enum "):
        return enums[ptype[5:]][0]
    return {"string": "x", "int": "1", "float": 1.0, "bool": False,
            "datetime": xmlrpc.client.DateTime("20200101T00:00:00Z")}[ptype]


def test_every_not_implemented_message_says_so(proxy, session):
    """Every message the API dump marks NOT-IMPLEMENTED answers NOT_IMPLEMENTED
    [Class.message] (MESSAGE_REMOVED if it is also removed), given well-typed arguments."""
    _, messages, enums = parse_dump()
    refs = {}
    for cls in record_classes(proxy):
        all_refs = ok(call(proxy, cls + ".get_all", session))
        if all_refs:
            refs[cls] = all_refs[0]
    refs["session"] = session
    wrong = []
    checked = 0
    for m in messages:
        if "NOT-IMPLEMENTED" not in m["flags"]:
            continue
        args = []
        if m["params"].strip():
            for p in m["params"].split(", "):
                ptype = p.split(":", 1)[1].split(" = ")[0]
                args.append(_dummy_arg(ptype, enums, refs))
        if "no-session" not in m["flags"]:
            args.insert(0, session)
        r = call(proxy, m["name"], *args)
        expected = ["MESSAGE_REMOVED"] if "REMOVED(" in m["flags"] else ["NOT_IMPLEMENTED", m["name"]]
        checked += 1
        if r.get("Status") != "Failure" or r.get("ErrorDescription") != expected:
            wrong.append((m["name"], r))
    assert checked > 50
    assert wrong == []


def test_message_removed(proxy, session, vm, vdi):
    hm = ok(proxy.host.get_metrics(session, the_host(proxy, session)))
    assert failure(proxy.host_metrics.get_memory_free(session, hm)) == ["MESSAGE_REMOVED"]
    assert failure(proxy.VBD_metrics.get_all(session)) == ["MESSAGE_REMOVED"]
    assert failure(proxy.VBD_metrics.get_all_records(session)) == ["MESSAGE_REMOVED"]
    assert failure(proxy.VIF_metrics.get_all(session)) == ["MESSAGE_REMOVED"]
    vbd = ok(proxy.VBD.create(session, vbd_record(vm, vdi)))
    assert failure(proxy.VBD.get_metrics(session, vbd)) == ["MESSAGE_REMOVED"]
    # the session is checked first
    assert failure(proxy.VBD_metrics.get_all("OpaqueRef:bogus")) == ["SESSION_INVALID", "OpaqueRef:bogus"]
    # removed fields are not in records either
    assert "memory_free" not in ok(proxy.host_metrics.get_record(session, hm))
    assert "metrics" not in ok(proxy.VBD.get_record(session, vbd))


# --------------------------------------------------------------------------
# value types

def test_int64_round_trip_as_decimal_strings(proxy, session, vm):
    for value in ("5000000000", "-5000000000", "2147483648", "9223372036854775807",
                  "-9223372036854775808", "0"):
        ok(proxy.VM.set_user_version(session, vm, value))
        assert ok(proxy.VM.get_user_version(session, vm)) == value
    # a small Python int goes out as <int>
    ok(proxy.VM.set_user_version(session, vm, 7))
    assert ok(proxy.VM.get_user_version(session, vm)) == "7"
    # beyond int64
    assert failure(proxy.VM.set_user_version(session, vm, "9223372036854775808"))[0] == "FIELD_TYPE_ERROR"
    assert ok(proxy.VM.get_user_version(session, vm)) == "7"


def test_int64_in_constructor_records(proxy, session):
    big = str(64 * 2 ** 30)
    ref = ok(proxy.VM.create(session, vm_record(
        "it-big-memory", memory_static_max=big, memory_dynamic_max=big,
        memory_dynamic_min=str(8 * 2 ** 30), memory_static_min=str(4 * 2 ** 30))))
    try:
        rec = ok(proxy.VM.get_record(session, ref))
        assert rec["memory_static_max"] == big and rec["memory_dynamic_max"] == big
        assert rec["memory_dynamic_min"] == str(8 * 2 ** 30)
        assert rec["memory_static_min"] == str(4 * 2 ** 30)
    finally:
        ok(proxy.VM.destroy(session, ref))
    size = str(3 * 2 ** 40)
    vdi = ok(proxy.VDI.create(session, vdi_record(the_sr(proxy, session), "it-big-disk", virtual_size=size)))
    try:
        assert ok(proxy.VDI.get_virtual_size(session, vdi)) == size
    finally:
        ok(proxy.VDI.destroy(session, vdi))


def _utc(dt):
    return datetime.datetime.strptime(dt.value, "%Y%m%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def test_datetimes(proxy, session, vm):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    vm_uuid = ok(proxy.VM.get_uuid(session, vm))
    msg = ok(proxy.message.create(session, "IT_DATETIME", "3", "VM", vm_uuid, "body"))
    try:
        rec = ok(proxy.message.get_record(session, msg))
        assert isinstance(rec["timestamp"], xmlrpc.client.DateTime)
        assert re.match(r"^\d{8}T\d\d:\d\d:\d\dZ$", rec["timestamp"].value), rec["timestamp"].value
        ts = _utc(rec["timestamp"])
        assert abs((ts - before).total_seconds()) < 3600, (ts, before)
        assert rec["priority"] == "3" and rec["cls"] == "VM" and rec["obj_uuid"] == vm_uuid
        # a datetime parameter: XML-RPC dateTime, and RFC-3339 with dashes as a string
        assert msg in ok(proxy.message.get_since(session, xmlrpc.client.DateTime("20000101T00:00:00Z")))
        assert msg in ok(proxy.message.get_since(session, "2000-01-01T00:00:00Z"))
        assert msg not in ok(proxy.message.get_since(session, xmlrpc.client.DateTime("20990101T00:00:00Z")))
        assert msg in ok(proxy.message.get(session, "VM", vm_uuid, xmlrpc.client.DateTime("20000101T00:00:00Z")))
    finally:
        ok(proxy.message.destroy(session, msg))
    # the epoch as the null datetime
    snap_time = ok(proxy.VM.get_snapshot_time(session, vm))
    assert isinstance(snap_time, xmlrpc.client.DateTime) and snap_time.value == "19700101T00:00:00Z"


def test_bool_float_map_and_set_types(proxy, session, vm):
    rec = ok(proxy.VM.get_record(session, vm))
    assert rec["is_a_template"] is False and rec["is_control_domain"] is False
    assert isinstance(rec["HVM_shadow_multiplier"], float)
    assert rec["HVM_boot_params"] == {"order": "dc"} and rec["platform"] == {"acpi": "1"}
    assert rec["VBDs"] == [] and rec["tags"] == []
    ok(proxy.VM.set_other_config(session, vm, {"a": "1", "b": "<&>\"'"}))
    assert ok(proxy.VM.get_other_config(session, vm)) == {"a": "1", "b": "<&>\"'"}
    ok(proxy.VM.set_name_label(session, vm, "näme with ünïcode ✓ & <tags>"))
    assert ok(proxy.VM.get_name_label(session, vm)) == "näme with ünïcode ✓ & <tags>"
    ok(proxy.VM.set_name_description(session, vm, ""))
    assert ok(proxy.VM.get_name_description(session, vm)) == ""


# --------------------------------------------------------------------------
# get_all_records_where, get_by_name_label

def test_get_all_records_where(proxy, session, vm):
    everything = ok(proxy.VM.get_all_records(session))
    templates = {r for r, v in everything.items() if v["is_a_template"]}
    assert templates
    assert set(ok(proxy.VM.get_all_records_where(session, 'field "is_a_template"="true"'))) == templates
    not_templates = set(ok(proxy.VM.get_all_records_where(session, 'field "is_a_template"="false"')))
    assert not_templates == set(everything) - templates and vm in not_templates
    assert set(ok(proxy.VM.get_all_records_where(session, "true"))) == set(everything)
    assert ok(proxy.VM.get_all_records_where(session, "false")) == {}
    # namespaced fields use a double underscore
    label = ok(proxy.VM.get_name_label(session, vm))
    where = ok(proxy.VM.get_all_records_where(session, 'field "name__label"="%s"' % label))
    assert list(where) == [vm] and where[vm] == ok(proxy.VM.get_record(session, vm))
    assert ok(proxy.VM.get_all_where(session, 'field "name__label"="%s"' % label)) == [vm]
    # and / or / not / parentheses
    running_dom0 = ok(proxy.VM.get_all_records_where(
        session, 'field "is_a_template"="false" and field "power_state"="Running"'))
    assert set(running_dom0) == {r for r, v in everything.items()
                                 if not v["is_a_template"] and v["power_state"] == "Running"}
    either = ok(proxy.VM.get_all_records_where(
        session, '(field "is_control_domain"="true") or field "uuid"="%s"' % everything[vm]["uuid"]))
    assert set(either) == {vm} | {r for r, v in everything.items() if v["is_control_domain"]}
    neither = ok(proxy.VM.get_all_records_where(
        session, 'not (field "is_a_template"="true" or field "is_control_domain"="true")'))
    assert set(neither) == {r for r, v in everything.items()
                            if not v["is_a_template"] and not v["is_control_domain"]}
    # "and"/"or" have equal precedence and associate to the left
    assert ok(proxy.VM.get_all_records_where(session, "true or false and false")) == {}
    assert set(ok(proxy.VM.get_all_records_where(session, "true or (false and false)"))) == set(everything)
    # blanks around "=" and between tokens
    assert set(ok(proxy.VM.get_all_records_where(session, '  field "is_a_template"  =  "true"  '))) == templates
    # ints are compared as their decimal text, namespaced columns with "__"
    big = ok(proxy.VM.get_memory_static_max(session, vm))
    assert vm in ok(proxy.VM.get_all_records_where(session, 'field "memory__static_max"="%s"' % big))
    assert set(ok(proxy.VM.get_all_records_where(session, 'field "VCPUs__max"="2"'))) == \
        {r for r, v in everything.items() if v["VCPUs_max"] == "2"}
    # refs compare as their stored strings
    host = the_host(proxy, session)
    pifs = ok(proxy.PIF.get_all_records_where(session, 'field "host"="%s"' % host))
    assert set(pifs) == set(ok(proxy.host.get_PIFs(session, host)))


def test_get_all_records_where_rejects_bad_expressions(proxy, session):
    for expr in ('field "is_a_template"=', "blah", 'field "x"="y" and', '("a"="a"', 'field is_a_template="true"'):
        err = failure(proxy.VM.get_all_records_where(session, expr))
        assert err[0] == "INVALID_VALUE" and len(err) == 3 and err[1] == expr, (expr, err)


def test_get_by_name_label(proxy, session, vm):
    label = ok(proxy.VM.get_name_label(session, vm))
    assert ok(proxy.VM.get_by_name_label(session, label)) == [vm]
    assert ok(proxy.VM.get_by_name_label(session, label[:-1])) == []  # exact match only
    assert ok(proxy.VM.get_by_name_label(session, "no VM has this name")) == []
    twin = ok(proxy.VM.create(session, vm_record(label)))
    try:
        assert sorted(ok(proxy.VM.get_by_name_label(session, label))) == sorted([vm, twin])
    finally:
        ok(proxy.VM.destroy(session, twin))
    sr = the_sr(proxy, session)
    assert ok(proxy.SR.get_by_name_label(session, ok(proxy.SR.get_name_label(session, sr)))) == [sr]
    host = the_host(proxy, session)
    assert host in ok(proxy.host.get_by_name_label(session, ok(proxy.host.get_name_label(session, host))))
    # classes without name_label have no get_by_name_label
    assert failure(proxy.pool.get_by_name_label(session, "x")) == ["MESSAGE_METHOD_UNKNOWN", "pool.get_by_name_label"]
    assert failure(proxy.VBD.get_by_name_label(session, "x")) == ["MESSAGE_METHOD_UNKNOWN", "VBD.get_by_name_label"]


# --------------------------------------------------------------------------
# the first-start world

def test_one_pool_whose_master_is_the_host(proxy, session):
    pools = ok(proxy.pool.get_all_records(session))
    assert len(pools) == 1
    (pool, rec), = pools.items()
    host = the_host(proxy, session)
    assert rec["master"] == host
    assert isinstance(rec["other_config"], dict)
    sr = rec["default_SR"]
    assert sr in ok(proxy.SR.get_all(session))


def test_control_domain(proxy, session):
    host = the_host(proxy, session)
    hrec = ok(proxy.host.get_record(session, host))
    dom0s = {r: v for r, v in ok(proxy.VM.get_all_records(session)).items() if v["is_control_domain"]}
    assert len(dom0s) == 1
    (dom0, rec), = dom0s.items()
    assert rec["power_state"] == "Running"
    assert rec["resident_on"] == host
    assert rec["is_a_template"] is False
    assert hrec["control_domain"] == dom0
    assert dom0 in hrec["resident_VMs"]
    assert ok(proxy.VM_metrics.get_record(session, rec["metrics"]))["uuid"]


def test_local_sr_with_a_pbd(proxy, session):
    host = the_host(proxy, session)
    srs = ok(proxy.SR.get_all_records(session))
    assert srs
    sr = the_sr(proxy, session)
    assert srs[sr]["PBDs"], srs[sr]
    pbd = ok(proxy.PBD.get_record(session, srs[sr]["PBDs"][0]))
    assert pbd["SR"] == sr and pbd["host"] == host and pbd["currently_attached"] is True
    assert srs[sr]["PBDs"][0] in ok(proxy.host.get_PBDs(session, host))
    assert int(srs[sr]["physical_size"]) > 0


def test_network_with_a_pif(proxy, session):
    host = the_host(proxy, session)
    net = the_network(proxy, session)
    nrec = ok(proxy.network.get_record(session, net))
    assert nrec["PIFs"], nrec
    pif = nrec["PIFs"][0]
    prec = ok(proxy.PIF.get_record(session, pif))
    assert prec["network"] == net and prec["host"] == host
    assert pif in ok(proxy.host.get_PIFs(session, host))
    assert ok(proxy.PIF_metrics.get_record(session, prec["metrics"]))["uuid"]


def test_default_templates(proxy, session):
    vms = ok(proxy.VM.get_all_records(session))
    defaults = {v["name_label"]: v for v in vms.values() if v["is_default_template"]}
    assert all(v["is_a_template"] for v in defaults.values())
    assert all(v["power_state"] == "Halted" for v in defaults.values())
    for wanted in ("Debian", "Ubuntu", "Rocky Linux", "Alpine", "Windows", "Other install media"):
        assert any(wanted in name for name in defaults), (wanted, sorted(defaults))


def test_host_metrics_and_cpus(proxy, session):
    host = the_host(proxy, session)
    hrec = ok(proxy.host.get_record(session, host))
    hm = ok(proxy.host_metrics.get_record(session, hrec["metrics"]))
    assert hm["live"] is True and int(hm["memory_total"]) > 0
    cpus = ok(proxy.host_cpu.get_all_records(session))
    assert len(cpus) == int(hrec["cpu_info"]["cpu_count"]) > 0
    assert sorted(hrec["host_CPUs"]) == sorted(cpus)
    assert all(c["host"] == host for c in cpus.values())
    assert sorted(int(c["number"]) for c in cpus.values()) == list(range(len(cpus)))


def test_host_versions(proxy, session):
    host = the_host(proxy, session)
    sv = ok(proxy.host.get_software_version(session, host))
    for key in ("product_version", "platform_version"):
        assert re.match(r"^\d+(\.\d+)+$", sv[key]), (key, sv)
    assert ok(proxy.host.get_API_version_vendor(session, host)) == "XenSource"
    assert ok(proxy.host.get_API_version_vendor_implementation(session, host)) == {}
    api = "%s.%s" % (ok(proxy.host.get_API_version_major(session, host)),
                     ok(proxy.host.get_API_version_minor(session, host)))
    assert sv.get("xencenter_max") == api
    assert ok(proxy.session.get_this_host(session, session)) == host


# --------------------------------------------------------------------------
# constructors and relations

def test_vm_create_and_get_record(proxy, session):
    rec_in = vm_record("it-create", other_config={"k": "v"}, VCPUs_params={"weight": "256"},
                       no_such_field="ignored", another_unknown={"a": "b"})
    ref = ok(proxy.VM.create(session, rec_in))
    try:
        assert OPAQUE_REF.match(ref)
        rec = ok(proxy.VM.get_record(session, ref))
        for key, value in rec_in.items():
            if key not in ("no_such_field", "another_unknown"):
                assert rec[key] == value, (key, rec[key], value)
        assert "no_such_field" not in rec and "another_unknown" not in rec
        assert rec["power_state"] == "Halted"
        assert rec["is_control_domain"] is False and rec["is_default_template"] is False
        assert rec["resident_on"] == NULL
        assert rec["VBDs"] == [] and rec["VIFs"] == []
        assert UUID.match(rec["uuid"])
        assert ok(proxy.VM.get_by_uuid(session, rec["uuid"])) == ref
        assert ok(proxy.VM_metrics.get_record(session, rec["metrics"]))["uuid"]
        assert ref in ok(proxy.VM.get_all(session))
    finally:
        ok(proxy.VM.destroy(session, ref))
    assert ref not in ok(proxy.VM.get_all(session))


@pytest.mark.parametrize("missing", VM_REQUIRED_FIELDS)
def test_vm_create_missing_required_field(proxy, session, missing):
    rec = vm_record("it-missing-" + missing)
    del rec[missing]
    before = set(ok(proxy.VM.get_all(session)))
    err = failure(proxy.VM.create(session, rec))
    assert err[0] in ("INVALID_VALUE", "INTERNAL_ERROR") and missing in " ".join(err[1:]), err
    assert set(ok(proxy.VM.get_all(session))) == before


def test_vbd_and_vif_create_with_relations(proxy, session, vm, vdi):
    net = the_network(proxy, session)
    vbd = ok(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="0", other_config={"o": "1"})))
    cd = ok(proxy.VBD.create(session, vbd_record(vm, NULL, userdevice="3", type="CD", mode="RO",
                                                 empty=True, bootable=False)))
    vif = ok(proxy.VIF.create(session, vif_record(vm, net, device="0", unknown_key="ignored")))
    vif2 = ok(proxy.VIF.create(session, vif_record(vm, net, device="1", MAC="00:16:3e:01:02:03")))

    r = ok(proxy.VBD.get_record(session, vbd))
    assert (r["VM"], r["VDI"], r["userdevice"], r["bootable"], r["mode"], r["type"], r["empty"]) == \
        (vm, vdi, "0", True, "RW", "Disk", False)
    assert r["other_config"] == {"o": "1"} and r["currently_attached"] is False
    r = ok(proxy.VBD.get_record(session, cd))
    assert (r["VDI"], r["type"], r["mode"], r["empty"]) == (NULL, "CD", "RO", True)

    r = ok(proxy.VIF.get_record(session, vif))
    assert (r["VM"], r["network"], r["device"], r["MTU"]) == (vm, net, "0", "1500")
    assert "unknown_key" not in r
    assert re.match(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", r["MAC"]), r["MAC"]
    first_octet = int(r["MAC"][:2], 16)
    assert first_octet & 1 == 0, "generated MAC is multicast: " + r["MAC"]
    assert first_octet & 2 == 2, "generated MAC is not locally administered: " + r["MAC"]
    assert r["MAC_autogenerated"] is True
    r2 = ok(proxy.VIF.get_record(session, vif2))
    assert r2["MAC"] == "00:16:3e:01:02:03" and r2["MAC_autogenerated"] is False

    assert sorted(ok(proxy.VM.get_VBDs(session, vm))) == sorted([vbd, cd])
    assert sorted(ok(proxy.VM.get_VIFs(session, vm))) == sorted([vif, vif2])
    assert ok(proxy.VDI.get_VBDs(session, vdi)) == [vbd]
    net_vifs = ok(proxy.network.get_VIFs(session, net))
    assert vif in net_vifs and vif2 in net_vifs

    # destroying a device updates both sides
    ok(proxy.VIF.destroy(session, vif2))
    assert failure(proxy.VIF.get_record(session, vif2)) == ["HANDLE_INVALID", "VIF", vif2]
    assert ok(proxy.VM.get_VIFs(session, vm)) == [vif]
    assert vif2 not in ok(proxy.network.get_VIFs(session, net))
    ok(proxy.VBD.destroy(session, cd))
    assert ok(proxy.VM.get_VBDs(session, vm)) == [vbd]

    # VM.destroy takes its devices and metrics along, not its disks
    metrics = ok(proxy.VM.get_metrics(session, vm))
    ok(proxy.VM.destroy(session, vm))
    assert failure(proxy.VBD.get_record(session, vbd)) == ["HANDLE_INVALID", "VBD", vbd]
    assert failure(proxy.VIF.get_record(session, vif)) == ["HANDLE_INVALID", "VIF", vif]
    assert failure(proxy.VM_metrics.get_record(session, metrics))[0] == "HANDLE_INVALID"
    assert ok(proxy.VDI.get_VBDs(session, vdi)) == []
    assert vif not in ok(proxy.network.get_VIFs(session, net))
    assert vbd not in ok(proxy.VBD.get_all(session)) and vif not in ok(proxy.VIF.get_all(session))


def test_duplicate_devices(proxy, session, vm, vdi):
    net = the_network(proxy, session)
    ok(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="1")))
    other = ok(proxy.VDI.create(session, vdi_record(the_sr(proxy, session), "it-other-disk")))
    try:
        assert failure(proxy.VBD.create(session, vbd_record(vm, other, userdevice="1"))) == [
            "DEVICE_ALREADY_EXISTS", "1"]
        ok(proxy.VIF.create(session, vif_record(vm, net, device="2")))
        assert failure(proxy.VIF.create(session, vif_record(vm, net, device="2"))) == [
            "DEVICE_ALREADY_EXISTS", "2"]
        assert len(ok(proxy.VM.get_VBDs(session, vm))) == 1
        assert len(ok(proxy.VM.get_VIFs(session, vm))) == 1
        assert failure(proxy.VIF.create(session, vif_record(vm, net, device="3", MAC="not-a-mac"))) == [
            "MAC_INVALID", "not-a-mac"]
    finally:
        ok(proxy.VM.destroy(session, vm))
        ok(proxy.VDI.destroy(session, other))


def test_device_slot_rules(proxy, session, vm, vdi):
    net = the_network(proxy, session)
    ro_vdi = ok(proxy.VDI.create(session, vdi_record(the_sr(proxy, session), "it-ro-disk", read_only=True)))
    try:
        # "autodetect" takes the lowest free slot
        a = ok(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="autodetect")))
        b = ok(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="autodetect")))
        assert (ok(proxy.VBD.get_userdevice(session, a)), ok(proxy.VBD.get_userdevice(session, b))) == ("0", "1")
        # slots must be numbers
        assert failure(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="abc"))) == ["INVALID_DEVICE", "abc"]
        assert failure(proxy.VIF.create(session, vif_record(vm, net, device="eth0"))) == ["INVALID_DEVICE", "eth0"]
        # CD drives are read-only; a read-only disk forces RO
        assert failure(proxy.VBD.create(session, vbd_record(vm, NULL, userdevice="3", type="CD", mode="RW",
                                                            empty=True)))[0] == "VBD_CDS_MUST_BE_READONLY"
        ro = ok(proxy.VBD.create(session, vbd_record(vm, ro_vdi, userdevice="4", mode="RW")))
        assert ok(proxy.VBD.get_mode(session, ro)) == "RO"
        # enums in the record
        err = failure(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="5", mode="rw-ish")))
        assert err[0] == "INVALID_VALUE" and "rw-ish" in err, err
        err = failure(proxy.VBD.create(session, vbd_record(vm, vdi, userdevice="5", type="Tape")))
        assert err[0] == "INVALID_VALUE" and "Tape" in err, err
        # generated MACs differ
        vifs = [ok(proxy.VIF.create(session, vif_record(vm, net, device=str(i)))) for i in range(6)]
        macs = [ok(proxy.VIF.get_MAC(session, v)) for v in vifs]
        assert len(set(macs)) == len(macs), macs
    finally:
        ok(proxy.VM.destroy(session, vm))
        ok(proxy.VDI.destroy(session, ro_vdi))


@pytest.mark.parametrize("missing", VBD_REQUIRED_FIELDS)
def test_vbd_create_missing_required_field(proxy, session, vm, vdi, missing):
    rec = vbd_record(vm, vdi)
    del rec[missing]
    err = failure(proxy.VBD.create(session, rec))
    assert err[0] in ("INVALID_VALUE", "INTERNAL_ERROR") and missing in " ".join(err[1:]), err
    assert ok(proxy.VM.get_VBDs(session, vm)) == []


@pytest.mark.parametrize("missing", VIF_REQUIRED_FIELDS)
def test_vif_create_missing_required_field(proxy, session, vm, missing):
    rec = vif_record(vm, the_network(proxy, session))
    del rec[missing]
    err = failure(proxy.VIF.create(session, rec))
    assert err[0] in ("INVALID_VALUE", "INTERNAL_ERROR") and missing in " ".join(err[1:]), err
    assert ok(proxy.VM.get_VIFs(session, vm)) == []


def test_device_create_with_bad_references(proxy, session, vm, vdi):
    err = failure(proxy.VBD.create(session, vbd_record("OpaqueRef:bogus", vdi)))
    assert err == ["HANDLE_INVALID", "VM", "OpaqueRef:bogus"], err
    err = failure(proxy.VIF.create(session, vif_record(vm, "OpaqueRef:bogus")))
    assert err == ["HANDLE_INVALID", "network", "OpaqueRef:bogus"], err
    assert ok(proxy.VM.get_VBDs(session, vm)) == [] and ok(proxy.VM.get_VIFs(session, vm)) == []


def test_destroy_is_refused_for_the_control_domain_and_default_templates(proxy, session):
    vms = ok(proxy.VM.get_all_records(session))
    dom0 = [r for r, v in vms.items() if v["is_control_domain"]][0]
    # The running control domain fails the power-state check first (xapi's order).
    err = failure(proxy.VM.destroy(session, dom0))
    assert err == ["VM_BAD_POWER_STATE", dom0, "halted, suspended", "running"], err
    template = [r for r, v in vms.items() if v["is_default_template"]][0]
    assert failure(proxy.VM.destroy(session, template)) == ["VM_IS_TEMPLATE", template, "destroy"]
    assert ok(proxy.VM.get_power_state(session, dom0)) == "Running"
    assert ok(proxy.VM.get_is_default_template(session, template)) is True
    # through a task
    task = ok(call(proxy, "Async.VM.destroy", session, dom0))
    rec = wait_for_task(proxy, session, task)
    assert rec["status"] == "failure" and rec["error_info"][0] == "VM_BAD_POWER_STATE", rec
    assert dom0 in ok(proxy.VM.get_all(session))
    # a template of one's own may go
    mine = ok(proxy.VM.create(session, vm_record("it-own-template", is_a_template=True)))
    assert ok(proxy.VM.get_is_a_template(session, mine)) is True
    assert ok(proxy.VM.get_is_default_template(session, mine)) is False
    ok(proxy.VM.destroy(session, mine))
    assert mine not in ok(proxy.VM.get_all(session))


# --------------------------------------------------------------------------
# Async

def test_async_vm_create_task_succeeds(proxy, session):
    task = ok(call(proxy, "Async.VM.create", session, vm_record("it-async")))
    assert OPAQUE_REF.match(task)
    rec = wait_for_task(proxy, session, task)
    assert rec["status"] == "success", rec
    assert rec["error_info"] == []
    m = re.match(r"^<value>(OpaqueRef:[^<]+)</value>$", rec["result"])
    assert m, rec["result"]
    vm = m.group(1)
    try:
        assert ok(proxy.VM.get_name_label(session, vm)) == "it-async"
        assert isinstance(rec["created"], xmlrpc.client.DateTime)
        assert isinstance(rec["finished"], xmlrpc.client.DateTime)
        assert _utc(rec["created"]) <= _utc(rec["finished"])
        assert rec["progress"] == 1.0
        assert task in ok(proxy.task.get_all(session))
        assert ok(proxy.task.get_status(session, task)) == "success"
    finally:
        ok(proxy.VM.destroy(session, vm))


def test_async_task_failure_records_the_error(proxy, session):
    rec_in = vm_record("it-async-bad")
    del rec_in["memory_static_max"]
    task = ok(call(proxy, "Async.VM.create", session, rec_in))
    rec = wait_for_task(proxy, session, task)
    assert rec["status"] == "failure", rec
    assert rec["error_info"][0] in ("INVALID_VALUE", "INTERNAL_ERROR")
    assert "memory_static_max" in " ".join(rec["error_info"][1:])


def test_async_void_result(proxy, session):
    ref = ok(proxy.VM.create(session, vm_record("it-async-destroy")))
    task = ok(call(proxy, "Async.VM.destroy", session, ref))
    rec = wait_for_task(proxy, session, task)
    assert rec["status"] == "success", rec
    assert rec["result"] in ("", "<value></value>"), rec["result"]
    assert failure(proxy.VM.get_record(session, ref)) == ["HANDLE_INVALID", "VM", ref]


def test_async_failures_before_the_task_exists_are_direct(proxy, session):
    assert failure(call(proxy, "Async.VM.create", "OpaqueRef:bogus", vm_record("x"))) == [
        "SESSION_INVALID", "OpaqueRef:bogus"]
    err = failure(call(proxy, "Async.VM.create", session))
    assert err[0] == "MESSAGE_PARAMETER_COUNT_MISMATCH" and err[2:] == ["1", "0"], err
    assert failure(call(proxy, "Async.VM.no_such_message", session))[0] == "MESSAGE_METHOD_UNKNOWN"


# --------------------------------------------------------------------------
# logout

def test_logout_invalidates_only_that_session(proxy):
    a = ok(proxy.session.login_with_password("root", ROOT_PASSWORD))
    b = ok(proxy.session.login_with_password("root", ROOT_PASSWORD))
    assert ok(proxy.session.logout(a)) == ""
    assert failure(proxy.VM.get_all(a)) == ["SESSION_INVALID", a]
    assert failure(proxy.session.logout(a)) == ["SESSION_INVALID", a]
    assert ok(proxy.VM.get_all(b))
    ok(proxy.session.logout(b))
    assert failure(proxy.pool.get_all(b)) == ["SESSION_INVALID", b]


# --------------------------------------------------------------------------
# conflicting calls at the same time

def _race(server, fn, n=24):
    import threading
    out = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        p = server.proxy()
        try:
            barrier.wait(timeout=60)
            out[i] = fn(p, i)
        except Exception as e:  # reported by the caller's assertions
            out[i] = {"Status": "Exception", "ErrorDescription": [repr(e)]}

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def _codes(results):
    return sorted({r["ErrorDescription"][0] for r in results if r["Status"] != "Success"})


def test_concurrent_conflicting_calls(server, proxy, session, vm, vdi):
    net = the_network(proxy, session)
    r = _race(server, lambda p, i: p.VBD.create(session, vbd_record(vm, vdi, userdevice="2")))
    assert sum(x["Status"] == "Success" for x in r) == 1 and _codes(r) == ["DEVICE_ALREADY_EXISTS"], r
    r = _race(server, lambda p, i: p.VIF.create(session, vif_record(vm, net, device="1")))
    assert sum(x["Status"] == "Success" for x in r) == 1 and _codes(r) == ["DEVICE_ALREADY_EXISTS"], r
    r = _race(server, lambda p, i: p.VM.add_to_other_config(session, vm, "k", str(i)))
    assert sum(x["Status"] == "Success" for x in r) == 1 and _codes(r) == ["MAP_DUPLICATE_KEY"], r
    r = _race(server, lambda p, i: p.VBD.create(session, vbd_record(vm, vdi, userdevice="autodetect")))
    assert all(x["Status"] == "Success" for x in r), _codes(r)
    slots = [ok(proxy.VBD.get_userdevice(session, v)) for v in ok(proxy.VM.get_VBDs(session, vm))]
    assert len(slots) == len(r) + 1 and len(set(slots)) == len(slots), sorted(slots)
    vbds = ok(proxy.VM.get_VBDs(session, vm))
    r = _race(server, lambda p, i: p.VM.destroy(session, vm))
    assert sum(x["Status"] == "Success" for x in r) == 1 and _codes(r) == ["HANDLE_INVALID"], r
    assert not set(vbds) & set(ok(proxy.VBD.get_all(session)))
    assert ok(proxy.VDI.get_VBDs(session, vdi)) == []
