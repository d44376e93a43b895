"""Durability of the state database (DESIGN.md section 4), end to end.

Acknowledged writes survive SIGKILL; start-up reconciles records with the
simulator's domains and fails interrupted tasks; an older database is
upgraded in place; newer, damaged and truncated files are refused with exit
code 3 and left alone; a full database fails writes with INTERNAL_ERROR while
reads go on, and recovers; --backup copies a live database consistently;
sessions survive restarts and old event tokens get EVENTS_LOST.
"""
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import xmlrpc.client

import pytest

from conftest import (ROOT_PASSWORD, Server, failure, ok, server_binary, vbd_record, vdi_record, vif_record,
                      vm_record)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
DATABASE_ERROR = 3  # the server's exit code for an unusable state database


# ---------------------------------------------------------------------------
# helpers

def start(state_dir, *extra):
    """A server on state_dir (again): a killed server leaves its port file behind."""
    port_file = os.path.join(state_dir, "ports.json")
    if os.path.exists(port_file):
        os.remove(port_file)
    return Server(state_dir, extra_args=extra)


def kill(server):
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    server.log.close()


def start_refused(state_dir, *extra):
    """Runs a server expected not to start: (exit code, output)."""
    pw = os.path.join(state_dir, "root-password")
    with open(pw, "w") as f:
        f.write(ROOT_PASSWORD + "\n")
    r = subprocess.run([server_binary(), "--state-dir", state_dir, "--http", "127.0.0.1:0",
                        "--root-password-file", pw, "--log-level", "warn"] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                       universal_newlines=True)
    return r.returncode, r.stdout


def db_path(state_dir):
    return os.path.join(state_dir, "xapi.db")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def query(path, sql):
    """Rows of one statement, on a connection of our own."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def integrity(path):
    return query(path, "PRAGMA integrity_check")[0][0]


def copy_database(state_dir, dest_dir):
    """A copy of the database as a crash left it: the file and its WAL."""
    os.makedirs(dest_dir, exist_ok=True)
    for suffix in ("", "-wal"):
        src = db_path(state_dir) + suffix
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(dest_dir, "xapi.db" + suffix))
    return os.path.join(dest_dir, "xapi.db")


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def sexpr_map(text):
    """A stored (string -> string) map, (('k' 'v') ...), as a dict."""
    items = [re.sub(r"\\(.)", r"\1", x) for x in _QUOTED.findall(text or "")]
    return dict(zip(items[0::2], items[1::2]))


def network_record(name, **overrides):
    rec = {"name_label": name, "name_description": "", "other_config": {}}
    rec.update(overrides)
    return rec


def wait_until(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


@pytest.fixture
def state_dir():
    with tempfile.TemporaryDirectory(prefix="xenapi-persist-") as d:
        yield d


# ---------------------------------------------------------------------------
# crash safety

CONNECTIONS = 4
WRITES = 2000
CONNECTION_LOST = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError)


class Writer(threading.Thread):
    """One client connection issuing its share of mixed writes on objects of
    its own, remembering what the server acknowledged and the one call that
    was still unanswered when the connection died."""

    def __init__(self, url, session, tag, count, seed, acked):
        super().__init__(daemon=True)
        self.url, self.session, self.tag, self.count = url, session, tag, count
        self.rng = random.Random(seed)
        self.acked = acked  # shared callable: one more acknowledged write
        self.objects = {}   # ref -> {"cls", "name", "desc", "oc", "alive"}
        self.in_flight = None
        self.errors = []

    def run(self):
        p = xmlrpc.client.ServerProxy(self.url, allow_none=True)
        S = self.session
        try:
            for i in range(self.count):
                alive = [r for r, o in self.objects.items() if o["alive"]]
                roll = self.rng.random()
                if not alive or roll < 0.3:
                    cls = self.rng.choice(["VM", "network"])
                    name = "crash-%s-%d" % (self.tag, i)
                    op = {"kind": "create", "cls": cls, "name": name}
                    self.in_flight = op
                    if cls == "VM":
                        r = p.VM.create(S, vm_record(name, name_description="d-init"))
                    else:
                        r = p.network.create(S, network_record(name, name_description="d-init"))
                    if self.check(r, op):
                        self.objects[r["Value"]] = {"cls": cls, "name": name, "desc": "d-init", "oc": {},
                                                    "alive": True}
                else:
                    ref = self.rng.choice(alive)
                    o = self.objects[ref]
                    api = getattr(p, o["cls"])
                    if roll < 0.55:
                        op = {"kind": "desc", "ref": ref, "value": "d%d" % i}
                        self.in_flight = op
                        if self.check(api.set_name_description(S, ref, op["value"]), op):
                            o["desc"] = op["value"]
                    elif roll < 0.8:
                        op = {"kind": "oc", "ref": ref, "key": "k%d" % i, "value": "v%d" % i}
                        self.in_flight = op
                        if self.check(api.add_to_other_config(S, ref, op["key"], op["value"]), op):
                            o["oc"][op["key"]] = op["value"]
                    else:
                        op = {"kind": "destroy", "ref": ref}
                        self.in_flight = op
                        if self.check(api.destroy(S, ref), op):
                            o["alive"] = False
                self.in_flight = None
                self.acked()
        except CONNECTION_LOST:
            pass  # the server was killed; in_flight may or may not have happened

    def check(self, response, op):
        if response.get("Status") == "Success":
            return True
        self.errors.append((op, response))
        return False

    def verify(self, found):
        """found: ref -> (cls, name, desc, our other_config keys) of this run's objects."""
        problems = []
        f = self.in_flight
        for ref, o in self.objects.items():
            pending = f if f and f.get("ref") == ref else None
            got = found.get(ref)
            if not o["alive"]:
                if got is not None:
                    problems.append("acknowledged destroy of %s (%s) undone" % (ref, o["name"]))
                continue
            if got is None:
                if not (pending and pending["kind"] == "destroy"):
                    problems.append("acknowledged %s %s (%s) lost" % (o["cls"], ref, o["name"]))
                continue
            cls, name, desc, oc = got
            if (cls, name) != (o["cls"], o["name"]):
                problems.append("%s is %r, expected %r" % (ref, (cls, name), (o["cls"], o["name"])))
            if desc != o["desc"] and not (pending and pending["kind"] == "desc" and desc == pending["value"]):
                problems.append("%s name_description %r, acknowledged %r" % (ref, desc, o["desc"]))
            extra = {pending["key"]: pending["value"]} if pending and pending["kind"] == "oc" else {}
            if oc != o["oc"] and oc != dict(o["oc"], **extra):
                problems.append("%s other_config %r, acknowledged %r" % (ref, oc, o["oc"]))
        return problems


def our_objects(rows):
    """rows: (cls, ref, name, desc, other_config dict) -> this run's objects by ref, and their names."""
    found, names = {}, []
    for cls, ref, name, desc, oc in rows:
        if not name.startswith("crash-"):
            continue
        found[ref] = (cls, name, desc, {k: v for k, v in oc.items() if re.match(r"^k\d+$", k)})
        names.append(name)
    return found, names


def rows_from_database(path):
    rows = []
    for cls in ("VM", "network"):
        for ref, name, desc, oc in query(path, 'SELECT _ref, name__label, name__description, other_config FROM "%s"'
                                         % cls):
            rows.append((cls, ref, name, desc, sexpr_map(oc)))
    return rows


def rows_from_api(proxy, session):
    rows = []
    for cls in ("VM", "network"):
        for ref, rec in ok(getattr(proxy, cls).get_all_records(session)).items():
            rows.append((cls, ref, rec["name_label"], rec["name_description"], rec["other_config"]))
    return rows


def check_run(writers, rows):
    found, names = our_objects(rows)
    problems = []
    for w in writers:
        problems += w.verify(found)
    known = {ref for w in writers for ref in w.objects}
    maybe = {w.in_flight["name"] for w in writers if w.in_flight and w.in_flight["kind"] == "create"}
    for ref, (cls, name, _, _) in found.items():
        if ref not in known and name not in maybe:
            problems.append("%s %s (%s) was never acknowledged nor in flight" % (cls, ref, name))
    for name in set(names):
        if names.count(name) > 1:
            problems.append("%s exists %d times" % (name, names.count(name)))
    return problems


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_acknowledged_writes_survive_sigkill(state_dir, seed):
    """2,000 mixed writes (creates, sets, map additions, destroys of VMs and
    networks) over 4 connections; SIGKILL after a random number of them
    (seeded: different kill points per run). Every acknowledged write must
    be in the database the crash left (checked with Python's sqlite3 on a
    copy, after PRAGMA integrity_check) and in what the restarted server
    serves; an unanswered call may have happened or not, nothing else."""
    rng = random.Random(seed)
    kill_after = rng.randint(WRITES // 10, WRITES * 9 // 10)
    s = start(state_dir)
    S = s.login()
    lock = threading.Lock()
    count = [0]
    reached = threading.Event()

    def acked():
        with lock:
            count[0] += 1
            if count[0] >= kill_after:
                reached.set()

    writers = [Writer(s.url, S, "%d-%d" % (seed, i), WRITES // CONNECTIONS, rng.random(), acked)
               for i in range(CONNECTIONS)]
    for w in writers:
        w.start()
    assert reached.wait(180), "only %d writes acknowledged" % count[0]
    kill(s)
    for w in writers:
        w.join(60)
        assert not w.is_alive()
    for w in writers:
        assert not w.errors, w.errors[:3]
    in_flight = [w.in_flight for w in writers if w.in_flight]
    print("seed %d: killed after %d acknowledged writes; unanswered: %r" % (seed, count[0], in_flight))

    copy = copy_database(state_dir, os.path.join(state_dir, "as-crashed"))
    assert integrity(copy) == "ok"
    problems = check_run(writers, rows_from_database(copy))
    assert not problems, problems[:10]

    s = start(state_dir)
    try:
        p = s.proxy()
        # The session made before the crash is still good.
        problems = check_run(writers, rows_from_api(p, S))
        assert not problems, problems[:10]
        # The restarted server goes on writing.
        ok(p.VM.set_name_description(S, ok(p.VM.get_all(S))[0], "after the crash"))
    finally:
        s.stop()
    assert integrity(db_path(state_dir)) == "ok"


# ---------------------------------------------------------------------------
# reconciliation with the simulator

def make_vm(p, S, name, sr, net):
    vm = ok(p.VM.create(S, vm_record(name, memory_static_max="268435456", memory_dynamic_max="268435456",
                                     memory_dynamic_min="268435456", memory_static_min="268435456")))
    vdi = ok(p.VDI.create(S, vdi_record(sr, name + " disk", virtual_size="16777216")))
    vbd = ok(p.VBD.create(S, vbd_record(vm, vdi)))
    vif = ok(p.VIF.create(S, vif_record(vm, net)))
    return vm, vbd, vif


def volume_file(state_dir, vdi):
    """The file behind a VDI (VDI.path is internal: read from the live database)."""
    rows = query(db_path(state_dir), "SELECT path FROM VDI WHERE _ref = '%s'" % vdi)
    assert rows and os.path.isfile(rows[0][0]), rows
    return rows[0][0]


def test_restart_reconciles_with_the_simulator(state_dir):
    """VMs running at the kill stay Running with their domid; a VM whose
    domain was removed from sim-domains.json while the server was down is
    Halted with its VBDs and VIFs detached; tasks pending at the kill end as
    failure. The pending Async task is a VDI.copy whose source volume was
    swapped for a FIFO: copying blocks in open() until the kill, as a copy of
    a large disk on slow storage would. A task made with task.create stays
    pending as well."""
    s = start(state_dir)
    p = s.proxy()
    S = s.login()
    pool = ok(p.pool.get_all(S))[0]
    sr = ok(p.pool.get_default_SR(S, pool))
    net = ok(p.network.get_all(S))[0]
    kept, kept_vbd, kept_vif = make_vm(p, S, "kept", sr, net)
    gone, gone_vbd, gone_vif = make_vm(p, S, "gone", sr, net)
    halted, _, _ = make_vm(p, S, "halted", sr, net)
    for vm in (kept, gone):
        ok(p.VM.start(S, vm, False, False))
    kept_domid = int(ok(p.VM.get_domid(S, kept)))
    assert kept_domid >= 0

    slow = ok(p.VDI.create(S, vdi_record(sr, "slow source", virtual_size="16777216")))
    slow_file = volume_file(state_dir, slow)
    os.remove(slow_file)
    os.mkfifo(slow_file)
    copy_task = ok(p.Async.VDI.copy(S, slow, sr))
    client_task = ok(p.task.create(S, "client task", "made by the test"))
    time.sleep(0.3)  # let a worker pick the copy up
    assert ok(p.task.get_status(S, copy_task)) == "pending"
    kill(s)

    # While the server is down the host "loses" one domain.
    os.remove(slow_file)
    open(slow_file, "wb").close()
    sim_file = os.path.join(state_dir, "sim-domains.json")
    with open(sim_file) as f:
        sim = json.load(f)
    gone_uuid = query(db_path(state_dir), "SELECT uuid FROM VM WHERE _ref = '%s'" % gone)[0][0]
    assert gone_uuid in sim["domains"]
    del sim["domains"][gone_uuid]
    with open(sim_file, "w") as f:
        json.dump(sim, f)

    s = start(state_dir)
    try:
        p = s.proxy()
        kept_rec = ok(p.VM.get_record(S, kept))
        assert kept_rec["power_state"] == "Running"
        assert int(kept_rec["domid"]) == kept_domid
        assert ok(p.VBD.get_currently_attached(S, kept_vbd)) is True
        assert ok(p.VIF.get_currently_attached(S, kept_vif)) is True
        gone_rec = ok(p.VM.get_record(S, gone))
        assert gone_rec["power_state"] == "Halted"
        assert int(gone_rec["domid"]) == -1
        assert ok(p.VBD.get_currently_attached(S, gone_vbd)) is False
        assert ok(p.VIF.get_currently_attached(S, gone_vif)) is False
        assert ok(p.VM.get_power_state(S, halted)) == "Halted"
        for task in (copy_task, client_task):
            rec = ok(p.task.get_record(S, task))
            assert rec["status"] == "failure", rec
            assert rec["error_info"][0] == "INTERNAL_ERROR", rec
            assert "server stopped" in rec["error_info"][1], rec
        # Nothing is left blocked by operations that died with the server.
        for vm in (kept, gone):
            assert ok(p.VM.get_current_operations(S, vm)) == {}
        ok(p.VM.clean_shutdown(S, kept))
        ok(p.VM.start(S, gone, False, False))
        assert ok(p.VBD.get_currently_attached(S, gone_vbd)) is True
    finally:
        s.stop()


# ---------------------------------------------------------------------------
# migration of an older database

PREVIOUS_SQL = os.path.join(FIXTURES, "previous-schema.sql")


def test_previous_schema_version_is_upgraded_in_place(state_dir):
    """fixtures/previous-schema.sql (written by fixtures/make_previous_schema.py)
    is the database of the previous schema version: VM has no
    actions_after_softreboot column and enum domain_type has no pvh. The
    server upgrades it in place: every stored value is kept, the new field
    reads as its default, the new enum value can be stored."""
    with open(PREVIOUS_SQL) as f:
        script = f.read().replace("@STATE_DIR@", state_dir)
    conn = sqlite3.connect(db_path(state_dir))
    conn.executescript(script)
    conn.close()
    tables = [t for (t,) in query(db_path(state_dir), "SELECT name FROM sqlite_master WHERE type='table'")
              if t != "xenapi_meta"]
    before = {t: query(db_path(state_dir), 'SELECT * FROM "%s" ORDER BY _ref' % t) for t in tables}
    columns = {t: [c[1] for c in query(db_path(state_dir), 'PRAGMA table_info("%s")' % t)] for t in tables}
    old_meta = dict(query(db_path(state_dir), "SELECT key, value FROM xenapi_meta"))
    assert "actions__after_softreboot" not in columns["VM"]
    assert "pvh" not in old_meta["enum:domain_type"].split(",")
    session = query(db_path(state_dir), "SELECT _ref FROM session WHERE auth_user_name = 'root'")[0][0]
    vm = query(db_path(state_dir), "SELECT _ref FROM VM WHERE name__label = 'previous-vm'")[0][0]

    s = start(state_dir)
    try:
        p = s.proxy()
        # The session of the previous version still works.
        rec = ok(p.VM.get_record(session, vm))
        assert rec["actions_after_softreboot"] == "soft_reboot"
        assert rec["other_config"]["owner"] == "it's \"quoted\" (really)"
        assert sorted(rec["tags"]) == ["a tag", "another"]
        ok(p.VM.set_domain_type(session, vm, "pvh"))
        ok(p.VM.set_actions_after_softreboot(session, vm, "destroy"))
    finally:
        s.stop()

    meta = dict(query(db_path(state_dir), "SELECT key, value FROM xenapi_meta"))
    assert "pvh" in meta["enum:domain_type"].split(",")
    assert meta["schema"] != old_meta["schema"]
    assert int(meta["epoch"]) == int(old_meta["epoch"]) + 1
    # Every row and every old column is as it was, but for what the calls
    # above changed and what a start refreshes (host memory, session times).
    # (set_domain_type to pvh clears HVM_boot_policy, as in xapi.)
    changed = {("VM", vm): {"domain_type", "actions__after_softreboot", "HVM__boot_policy"}}
    refreshed = {"host_metrics": {"memory__free", "last_updated"}, "session": {"last_active"}}
    for t in tables:
        after = {row[0]: row for row in query(db_path(state_dir), 'SELECT %s FROM "%s"'
                                              % (", ".join('"%s"' % c for c in columns[t]), t))}
        assert set(after) == {row[0] for row in before[t]}, t
        for row in before[t]:
            for name, old, new in zip(columns[t], row, after[row[0]]):
                if name in {"_modified"} | refreshed.get(t, set()) | changed.get((t, row[0]), set()):
                    continue
                assert new == old, (t, row[0], name, old, new)
    assert query(db_path(state_dir), "SELECT domain_type, actions__after_softreboot FROM VM WHERE _ref = '%s'"
                 % vm) == [("pvh", "destroy")]
    assert integrity(db_path(state_dir)) == "ok"


# ---------------------------------------------------------------------------
# files the server must refuse

@pytest.fixture(scope="module")
def written_database():
    """A database the current server wrote, with some content, closed cleanly."""
    with tempfile.TemporaryDirectory(prefix="xenapi-persist-base-") as d:
        s = start(d)
        p = s.proxy()
        S = s.login()
        for i in range(40):
            ok(p.VM.create(S, vm_record("vm %d" % i, other_config={"pad": "x" * 2000})))
        s.stop()
        assert not os.path.exists(db_path(d) + "-wal")
        yield db_path(d)


def refused(state_dir, *extra):
    """Starts a server that must refuse the database: exit code 3, the file
    exactly as it was (not repaired, not replaced). Returns the output."""
    before = digest(db_path(state_dir))
    code, out = start_refused(state_dir, *extra)
    assert code == DATABASE_ERROR, out
    assert digest(db_path(state_dir)) == before, "the database file was changed"
    return out


@pytest.mark.parametrize("change, mentions", [
    ("UPDATE xenapi_meta SET value = '99' WHERE key = 'format'", "database format is 99"),
    ('ALTER TABLE VM ADD COLUMN "future_field" TEXT', "column future_field"),
    ("UPDATE xenapi_meta SET value = value || ',hibernated' WHERE key = 'enum:vm_power_state'",
     "value hibernated"),
], ids=["format", "column", "enum-value"])
def test_database_of_a_newer_version_is_refused(state_dir, written_database, change, mentions):
    shutil.copyfile(written_database, db_path(state_dir))
    conn = sqlite3.connect(db_path(state_dir))
    conn.execute(change)
    conn.commit()
    conn.close()
    out = refused(state_dir)
    assert "written by a newer xenapi-server" in out, out
    assert mentions in out, out


@pytest.mark.parametrize("damage", ["garbage", "empty", "header-only", "truncated-half", "last-page-missing",
                                    "overwritten-page"])
def test_damaged_database_is_refused_and_left_alone(state_dir, written_database, damage):
    with open(written_database, "rb") as f:
        good = f.read()
    assert len(good) > 64 * 4096
    content = {
        "garbage": lambda: random.Random(7).randbytes(256 * 1024),
        "empty": lambda: b"",
        "header-only": lambda: good[:100],
        "truncated-half": lambda: good[:len(good) // 2],
        "last-page-missing": lambda: good[:-4096],
        "overwritten-page": lambda: good[:4096 * 5] + b"\xa5" * 4096 + good[4096 * 6:],
    }[damage]()
    with open(db_path(state_dir), "wb") as f:
        f.write(content)
    out = refused(state_dir)
    assert ("is empty" if damage == "empty" else "is damaged") in out, out
    assert "left untouched" in out, out


def test_backup_of_a_missing_database_fails(state_dir):
    r = subprocess.run([server_binary(), "--state-dir", state_dir, "--backup", os.path.join(state_dir, "copy.db")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, universal_newlines=True)
    assert r.returncode == DATABASE_ERROR, r.stdout
    assert "backup" in r.stdout, r.stdout


# ---------------------------------------------------------------------------
# full database

def fill(p, S, prefix, pad, limit=400):
    """Creates VMs until the database is full: (refs made, the error)."""
    made = []
    for i in range(limit):
        r = p.VM.create(S, vm_record("%s %d" % (prefix, i), other_config={"pad": pad}))
        if r["Status"] != "Success":
            return made, r["ErrorDescription"]
        made.append(r["Value"])
    raise AssertionError("the database did not fill up after %d VMs" % limit)


def test_full_database_fails_writes_keeps_reads_and_recovers(state_dir):
    """A full disk, made with the hidden --db-max-pages option (SQLite's
    max_page_count: SQLite then fails writes with SQLITE_FULL, "database or
    disk is full", exactly as when the disk has no room left). Writes fail
    with INTERNAL_ERROR naming the reason and leave nothing behind; reads go
    on. Space comes back two ways: destroying objects frees pages within the
    same run, and a restart with a larger limit (as after an operator frees
    disk space) takes all writes again with everything acknowledged kept."""
    s = start(state_dir)
    S = s.login()
    s.stop()
    pages = query(db_path(state_dir), "PRAGMA page_count")[0][0]
    s = start(state_dir, "--db-max-pages", str(pages + 25))
    pad = "x" * 3000
    try:
        p = s.proxy()
        made, error = fill(p, S, "fill", pad)
        assert made, "no room at all"
        assert error[0] == "INTERNAL_ERROR", error
        assert "full" in error[1], error
        # Reads go on, and the failed create left nothing behind.
        records = ok(p.VM.get_all_records(S))
        assert set(made) <= set(records)
        assert "fill %d" % len(made) not in [r["name_label"] for r in records.values()]
        assert ok(p.VM.get_other_config(S, made[0]))["pad"] == pad
        token = ok(getattr(p.event, "from")(S, ["vm"], "", 0.1))["token"]
        assert token
        # A failed change is not visible either.
        error = failure(p.VM.add_to_other_config(S, made[0], "more", pad * 3))
        assert error[0] == "INTERNAL_ERROR", error
        assert "more" not in ok(p.VM.get_other_config(S, made[0]))
        # Destroying objects frees room for new writes.
        for vm in made[-4:]:
            ok(p.VM.destroy(S, vm))
        del made[-4:]
        made.append(ok(p.VM.create(S, vm_record("after destroy", other_config={"pad": pad}))))
        more, error = fill(p, S, "again", pad)
        made += more
        assert error[0] == "INTERNAL_ERROR", error
    finally:
        s.stop()
    assert integrity(db_path(state_dir)) == "ok"

    s = start(state_dir, "--db-max-pages", str(pages + 400))
    try:
        p = s.proxy()
        records = ok(p.VM.get_all_records(S))
        assert set(made) <= set(records)
        for i in range(10):
            ok(p.VM.create(S, vm_record("roomy %d" % i, other_config={"pad": pad})))
    finally:
        s.stop()
    assert integrity(db_path(state_dir)) == "ok"


@pytest.fixture
def small_filesystem():
    """A 24 MiB tmpfs (needs root and permission to mount; skipped otherwise)."""
    mnt = tempfile.mkdtemp(prefix="xenapi-smallfs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        pytest.skip("cannot mount a small filesystem here: " + r.stdout.strip())
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


def test_real_full_disk_fails_writes_and_recovers_when_space_returns(small_filesystem):
    """The same on a filesystem that really runs out of space: a filler file
    takes the free space, writes fail with INTERNAL_ERROR while reads go on,
    and once the filler is deleted writes succeed again, on the same run."""
    state_dir = os.path.join(small_filesystem, "state")
    os.mkdir(state_dir)
    s = start(state_dir)
    filler = os.path.join(small_filesystem, "filler")
    try:
        p = s.proxy()
        S = s.login()
        first = ok(p.VM.create(S, vm_record("before the disk filled")))
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        pad = "y" * 200000
        made, error = fill(p, S, "big", pad, limit=200)
        assert error[0] == "INTERNAL_ERROR", error
        assert "full" in error[1], error
        assert ok(p.VM.get_name_label(S, first)) == "before the disk filled"
        assert set(made) <= set(ok(p.VM.get_all(S)))
        os.remove(filler)
        made.append(ok(p.VM.create(S, vm_record("after space returned", other_config={"pad": pad}))))
    finally:
        s.stop()
        if os.path.exists(filler):
            os.remove(filler)
    assert integrity(db_path(state_dir)) == "ok"
    s = start(state_dir)
    try:
        assert set(made + [first]) <= set(ok(s.proxy().VM.get_all(S)))
    finally:
        s.stop()


# ---------------------------------------------------------------------------
# backup

def test_backup_while_the_server_runs_and_writes(state_dir, tmp_path):
    """--backup copies the live database while a client keeps writing. The
    client makes network "net i" and then sets the counter VM's description
    to i, so a consistent copy holds networks 1..n and a counter of n-1 or n,
    at least what was acknowledged before the backup began. The last copy
    then serves as the state of a new server."""
    s = start(state_dir)
    try:
        p = s.proxy()
        S = s.login()
        counter = ok(p.VM.create(S, vm_record("counter", name_description="0")))
        acked = [0]
        stop = threading.Event()
        errors = []

        def writer():
            q = s.proxy()
            i = 0
            while not stop.is_set():
                i += 1
                for r in (q.network.create(S, network_record("net %d" % i)),
                          q.VM.set_name_description(S, counter, str(i))):
                    if r["Status"] != "Success":
                        errors.append(r)
                        return
                acked[0] = i

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        backups = []
        during = []
        try:
            for k in range(3):
                wait_until(lambda: acked[0] >= 30 * (k + 1), what="writes")
                floor = acked[0]
                out = str(tmp_path / ("backup-%d.db" % k))
                r = subprocess.run([server_binary(), "--state-dir", state_dir, "--backup", out],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                                   universal_newlines=True)
                during.append(acked[0] - floor)
                assert r.returncode == 0, r.stdout
                assert integrity(out) == "ok"
                n = query(out, "SELECT COUNT(*) FROM network WHERE name__label LIKE 'net %'")[0][0]
                c = int(query(out, "SELECT name__description FROM VM WHERE _ref = '%s'" % counter)[0][0])
                assert c >= floor, (c, floor)
                assert c in (n - 1, n), (c, n)
                assert query(out, "SELECT COUNT(*) FROM network WHERE name__label = 'net %d'" % n)[0][0] == 1
                backups.append((out, n, c))
        finally:
            stop.set()
            t.join(30)
        assert not errors, errors
        assert max(during) > 0, "no write was acknowledged while a backup ran"
    finally:
        s.stop()

    out, n, c = backups[-1]
    restored = str(tmp_path / "restored")
    os.mkdir(restored)
    shutil.copyfile(out, db_path(restored))
    s = start(restored)
    try:
        p = s.proxy()
        S = s.login()
        assert ok(p.VM.get_name_description(S, counter)) == str(c)
        names = [r["name_label"] for r in ok(p.network.get_all_records(S)).values()]
        assert len([x for x in names if x.startswith("net ")]) == n
    finally:
        s.stop()


# ---------------------------------------------------------------------------
# sessions and event tokens

@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_sessions_survive_a_restart_and_old_event_tokens_are_lost(state_dir, how):
    """A session, its role and what it watched are the client's to keep across
    a restart (clean or a crash); the event token of the previous run is not
    honoured (EVENTS_LOST: the client resynchronises from "")."""
    s = start(state_dir)
    p = s.proxy()
    S = s.login()
    vm = ok(p.VM.create(S, vm_record("watched", name_description="one")))
    event_from = getattr(p.event, "from")
    token = ok(event_from(S, ["vm"], "", 0.1))["token"]
    ok(p.VM.set_name_description(S, vm, "two"))
    r = ok(event_from(S, ["vm"], token, 5))
    assert vm in [e["ref"] for e in r["events"]]
    token = r["token"]
    if how == "SIGTERM":
        s.stop()
    else:
        kill(s)

    s = start(state_dir)
    try:
        p = s.proxy()
        event_from = getattr(p.event, "from")
        # The session is still logged in.
        assert ok(p.VM.get_name_description(S, vm)) == "two"
        # A token of the previous run cannot be honoured: EVENTS_LOST, never
        # the events of another lifetime.
        assert failure(event_from(S, ["vm"], token, 1))[0] == "EVENTS_LOST"
        # A full resync from "" shows the current state, and its token works.
        r = ok(event_from(S, ["vm"], "", 1))
        snapshots = {e["ref"]: e.get("snapshot") for e in r["events"]}
        assert snapshots[vm]["name_description"] == "two"
        ok(p.VM.set_name_description(S, vm, "three"))
        r = ok(event_from(S, ["vm"], r["token"], 5))
        mine = [e for e in r["events"] if e["ref"] == vm]
        assert mine and mine[-1]["snapshot"]["name_description"] == "three"
        ok(p.session.logout(S))
    finally:
        s.stop()
