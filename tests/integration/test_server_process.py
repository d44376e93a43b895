"""The server process: the generated root password, user-add and RBAC, the command
line, the port file and a clean shutdown on SIGTERM/SIGINT."""
import json
import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import xmlrpc.client

import pytest

from conftest import (ROOT_PASSWORD, failure, ok, read_port_file, server_binary,
                      vm_record, wait_for_file)

GENERATED = re.compile(r"Generated the root password[^\n]*:\s*(\S+)\s*$", re.M)


class Proc:
    """A server process with stdout and stderr captured separately."""

    def __init__(self, state_dir, extra_args=(), password_file=None):
        self.state_dir = state_dir
        self.port_file = os.path.join(os.path.dirname(state_dir.rstrip("/")) or ".",
                                      "ports-%s.json" % os.path.basename(state_dir.rstrip("/")))
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        args = [server_binary(), "--state-dir", state_dir, "--http", "127.0.0.1:0",
                "--port-file", self.port_file, "--auth-failure-delay", "0.2", "--log-level", "info"]
        if password_file:
            args += ["--root-password-file", password_file]
        args += list(extra_args)
        base = state_dir.rstrip("/") + "-run%d" % id(self)
        self.out_path, self.err_path = base + ".out", base + ".err"
        self.out = open(self.out_path, "w+")
        self.err = open(self.err_path, "w+")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.err)
        wait_for_file(self.port_file, self.proc, describe=self.stderr)
        self.host, self.port = read_port_file(self.port_file)
        self.url = "http://%s:%d/" % (self.host, self.port)

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def proxy(self):
        return xmlrpc.client.ServerProxy(self.url, allow_none=True)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig`, returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server ignored signal %d for %d s" % (sig, timeout))
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="xenapi-proc-") as d:
        yield d


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        p.close()


def start(procs, *args, **kwargs):
    p = Proc(*args, **kwargs)
    procs.append(p)
    return p


def password_file(workdir, password=ROOT_PASSWORD):
    path = os.path.join(workdir, "root-password")
    with open(path, "w") as f:
        f.write(password + "\n")
    return path


def user_add(state_dir, name, role, password):
    return subprocess.run([server_binary(), "--state-dir", state_dir, "user-add", name, role],
                          input=password + "\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


def all_file_contents(directory):
    out = {}
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.isfile(path):  # the Unix socket
                continue
            with open(path, "rb") as f:
                out[path] = f.read()
    return out


# --------------------------------------------------------------------------
# the generated root password

def test_generated_root_password(workdir, procs):
    state = os.path.join(workdir, "state")
    p = start(procs, state)
    out = p.stdout()
    found = GENERATED.findall(out)
    assert len(found) == 1, out
    password = found[0]
    assert len(password) >= 12
    assert password not in p.stderr()

    x = p.proxy()
    s = ok(x.session.login_with_password("root", password))
    assert ok(x.session.get_is_local_superuser(s, s)) is True
    assert failure(x.session.login_with_password("root", password + "x"))[0] == "SESSION_AUTHENTICATION_FAILED"

    hash_file = os.path.join(state, "root-password.hash")
    assert os.path.isfile(hash_file)
    assert stat.S_IMODE(os.stat(hash_file).st_mode) == 0o600
    with open(hash_file, "rb") as f:
        hashed = f.read()
    assert password.encode() not in hashed
    assert hashed.strip(), "empty hash file"
    # nowhere in the state folder in plain text
    for path, content in all_file_contents(state).items():
        assert password.encode() not in content, path

    assert p.stop() == 0
    assert p.stdout().count(password) == 1

    # a second start with the same state: no new password, the old one still works
    p2 = start(procs, state)
    assert not GENERATED.search(p2.stdout()), p2.stdout()
    assert password not in p2.stdout() and password not in p2.stderr()
    x2 = p2.proxy()
    s2 = ok(x2.session.login_with_password("root", password))
    ok(x2.session.logout(s2))
    with open(hash_file, "rb") as f:
        assert f.read() == hashed
    assert p2.stop() == 0
    assert not GENERATED.search(p2.stdout())


def test_password_file_is_used_and_nothing_is_generated(workdir, procs):
    state = os.path.join(workdir, "state")
    p = start(procs, state, password_file=password_file(workdir, "file-secret-1"))
    assert not GENERATED.search(p.stdout())
    x = p.proxy()
    ok(x.session.login_with_password("root", "file-secret-1"))
    assert failure(x.session.login_with_password("root", ROOT_PASSWORD)) == [
        "SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]
    for path, content in all_file_contents(state).items():
        assert b"file-secret-1" not in content, path
    assert p.stop() == 0


# --------------------------------------------------------------------------
# users and RBAC

def test_user_add_and_rbac(workdir, procs):
    state = os.path.join(workdir, "state")
    r = user_add(state, "alice", "read-only", "alice-secret")
    assert r.returncode == 0, r.stderr
    r = user_add(state, "bob", "vm-admin", "bob-secret")
    assert r.returncode == 0, r.stderr
    users = os.path.join(state, "users")
    assert stat.S_IMODE(os.stat(users).st_mode) & 0o077 == 0
    with open(users, "rb") as f:
        content = f.read()
    assert b"alice-secret" not in content and b"bob-secret" not in content

    p = start(procs, state, password_file=password_file(workdir))
    x = p.proxy()
    root = ok(x.session.login_with_password("root", ROOT_PASSWORD))
    vm = ok(x.VM.create(root, vm_record("rbac-target")))
    pool = ok(x.pool.get_all(root))[0]

    alice = ok(x.session.login_with_password("alice", "alice-secret", "2.0", "rbac-test"))
    assert ok(x.session.get_auth_user_name(alice, alice)) == "alice"
    assert ok(x.session.get_is_local_superuser(alice, alice)) is False
    # reads work
    assert vm in ok(x.VM.get_all(alice))
    assert ok(x.VM.get_record(alice, vm))["name_label"] == "rbac-target"
    assert ok(x.VM.get_all_records(alice))
    # writes do not
    err = failure(x.VM.set_name_label(alice, vm, "renamed"))
    assert err[0] == "RBAC_PERMISSION_DENIED" and len(err) == 3, err
    assert err[1] == "vm.set_name_label"
    assert ok(x.VM.get_name_label(root, vm)) == "rbac-target"
    err = failure(x.VM.create(alice, vm_record("not-allowed")))
    assert err[:2] == ["RBAC_PERMISSION_DENIED", "vm.create"], err
    assert ok(x.VM.get_by_name_label(root, "not-allowed")) == []
    err = failure(x.VM.destroy(alice, vm))
    assert err[:2] == ["RBAC_PERMISSION_DENIED", "vm.destroy"], err

    # a vm-admin may change VMs but not the pool
    bob = ok(x.session.login_with_password("bob", "bob-secret"))
    ok(x.VM.set_name_label(bob, vm, "renamed-by-bob"))
    assert ok(x.VM.get_name_label(alice, vm)) == "renamed-by-bob"
    err = failure(x.pool.set_name_label(bob, pool, "bob's pool"))
    assert err[:2] == ["RBAC_PERMISSION_DENIED", "pool.set_name_label"], err
    assert ok(x.pool.get_name_label(root, pool)) != "bob's pool"
    # root may do anything
    ok(x.pool.set_name_label(root, pool, "root's pool"))

    # wrong passwords and unknown users
    assert failure(x.session.login_with_password("alice", "wrong")) == [
        "SESSION_AUTHENTICATION_FAILED", "alice", "Authentication failure"]
    assert failure(x.session.login_with_password("nobody", "alice-secret"))[:2] == [
        "SESSION_AUTHENTICATION_FAILED", "nobody"]
    ok(x.session.logout(alice))
    assert failure(x.VM.get_all(alice)) == ["SESSION_INVALID", alice]
    ok(x.session.logout(bob))
    assert p.stop() == 0


def test_user_add_rejects_bad_input(workdir):
    state = os.path.join(workdir, "state")
    assert user_add(state, "carol", "no-such-role", "pw").returncode != 0
    assert user_add(state, "carol", "vm-operator", "pw").returncode == 0
    again = user_add(state, "carol", "vm-operator", "other")
    assert again.returncode != 0
    empty = subprocess.run([server_binary(), "--state-dir", state, "user-add", "dave", "read-only"],
                           input="", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
    assert empty.returncode != 0
    with open(os.path.join(state, "users")) as f:
        names = [line.split(":", 1)[0] for line in f if line.strip() and not line.startswith("#")]
    assert names.count("carol") == 1 and "dave" not in names


# --------------------------------------------------------------------------
# command line, port file, signals

@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_exit_zero(flag):
    r = subprocess.run([server_binary(), flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_version_matches_the_host_software_version(workdir, procs):
    version = subprocess.run([server_binary(), "--version"], stdout=subprocess.PIPE,
                             universal_newlines=True, timeout=60).stdout
    p = start(procs, os.path.join(workdir, "state"), password_file=password_file(workdir))
    x = p.proxy()
    s = ok(x.session.login_with_password("root", ROOT_PASSWORD))
    sv = ok(x.host.get_software_version(s, ok(x.host.get_all(s))[0]))
    assert sv["xenapi_server"] in version
    assert p.stop() == 0


def test_port_file_names_the_bound_port(workdir, procs):
    p = start(procs, os.path.join(workdir, "state"), password_file=password_file(workdir))
    with open(p.port_file) as f:
        ports = json.load(f)
    assert ports["http"]["address"] == "127.0.0.1"
    port = ports["http"]["port"]
    assert isinstance(port, int) and 0 < port < 65536
    with socket.create_connection(("127.0.0.1", port), timeout=10):
        pass
    x = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % port)
    assert ok(x.session.login_with_password("root", ROOT_PASSWORD)).startswith("OpaqueRef:")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_gives_a_clean_exit_and_removes_the_port_file(workdir, procs, sig):
    p = start(procs, os.path.join(workdir, "state"), password_file=password_file(workdir))
    x = p.proxy()
    ok(x.session.login_with_password("root", ROOT_PASSWORD))
    assert os.path.exists(p.port_file)
    assert p.stop(sig) == 0, p.stderr()
    assert not os.path.exists(p.port_file)
    with pytest.raises(OSError):
        socket.create_connection((p.host, p.port), timeout=5).close()


def test_sigterm_with_open_client_connections(workdir, procs):
    """Idle keep-alive clients and a half-sent request do not hold up the shutdown."""
    p = start(procs, os.path.join(workdir, "state"), password_file=password_file(workdir))
    idle = socket.create_connection((p.host, p.port), timeout=10)
    half = socket.create_connection((p.host, p.port), timeout=10)
    body = xmlrpc.client.dumps(("root", ROOT_PASSWORD), "session.login_with_password").encode()
    idle.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert idle.recv(12).startswith(b"HTTP/1.1 200")
    half.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n<method")
    try:
        assert p.stop(signal.SIGTERM) == 0, p.stderr()
        assert not os.path.exists(p.port_file)
    finally:
        idle.close()
        half.close()


def test_port_in_use_is_a_startup_error(workdir, procs):
    first = start(procs, os.path.join(workdir, "one"), password_file=password_file(workdir))
    state2 = os.path.join(workdir, "two")
    r = subprocess.run([server_binary(), "--state-dir", state2, "--http", "127.0.0.1:%d" % first.port,
                        "--root-password-file", password_file(workdir), "--log-level", "warn"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=60)
    assert r.returncode != 0
    assert (r.stderr + r.stdout).strip()
    # the first one is unaffected
    ok(first.proxy().session.login_with_password("root", ROOT_PASSWORD))
    assert first.stop() == 0


# --------------------------------------------------------------------------
# changing the root password

def test_change_password_checks_the_old_password_and_persists(workdir, procs):
    state = os.path.join(workdir, "state")
    p = start(procs, state)
    password = GENERATED.findall(p.stdout())[0]
    x = p.proxy()
    s = ok(x.session.login_with_password("root", password))

    # a wrong old password is rejected and changes nothing (xapi: CHANGE_PASSWORD_REJECTED)
    err = failure(x.session.change_password(s, "not-the-password", "attacker-choice"))
    assert err[0] == "CHANGE_PASSWORD_REJECTED", err
    assert failure(x.session.login_with_password("root", "attacker-choice"))[0] == \
        "SESSION_AUTHENTICATION_FAILED"
    ok(x.session.login_with_password("root", password))

    # the right old password works; the new one survives a restart
    ok(x.session.change_password(s, password, "a-new-root-password"))
    assert failure(x.session.login_with_password("root", password))[0] == "SESSION_AUTHENTICATION_FAILED"
    ok(x.session.login_with_password("root", "a-new-root-password"))
    assert p.stop() == 0
    p2 = start(procs, state)
    assert not GENERATED.search(p2.stdout())
    ok(p2.proxy().session.login_with_password("root", "a-new-root-password"))
    with open(os.path.join(state, "root-password.hash"), "rb") as f:
        assert b"a-new-root-password" not in f.read()
    assert p2.stop() == 0


def test_only_root_may_change_the_root_password(workdir, procs):
    state = os.path.join(workdir, "state")
    assert user_add(state, "admin", "pool-admin", "admin-secret").returncode == 0
    p = start(procs, state, password_file=password_file(workdir))
    x = p.proxy()
    admin = ok(x.session.login_with_password("admin", "admin-secret"))
    err = failure(x.session.change_password(admin, ROOT_PASSWORD, "taken-over"))
    assert err[0] in ("RBAC_PERMISSION_DENIED", "USER_IS_NOT_LOCAL_SUPERUSER"), err
    ok(x.session.login_with_password("root", ROOT_PASSWORD))
    assert failure(x.session.login_with_password("root", "taken-over"))[0] == "SESSION_AUTHENTICATION_FAILED"
    assert p.stop() == 0


def test_vm_operator_may_set_the_folder_and_custom_fields_only(workdir, procs):
    """xenapi-spec.md §8.3: vm-operator gates other_config:folder and
    XenCenter.CustomFields.* (permission e.g. vm.add_to_other_config/key:folder),
    other other_config keys need vm-admin."""
    state = os.path.join(workdir, "state")
    assert user_add(state, "op", "vm-operator", "op-secret").returncode == 0
    p = start(procs, state, password_file=password_file(workdir))
    x = p.proxy()
    root = ok(x.session.login_with_password("root", ROOT_PASSWORD))
    vm = ok(x.VM.create(root, vm_record("operator-target")))
    op = ok(x.session.login_with_password("op", "op-secret"))
    ok(x.VM.add_tags(op, vm, "tagged-by-operator"))
    err = failure(x.VM.add_to_other_config(op, vm, "other", "1"))
    assert err[0] == "RBAC_PERMISSION_DENIED" and err[1].startswith("vm.add_to_other_config"), err
    ok(x.VM.add_to_other_config(op, vm, "folder", "/operators"))
    ok(x.VM.add_to_other_config(op, vm, "XenCenter.CustomFields.owner", "ops"))
    ok(x.VM.remove_from_other_config(op, vm, "folder"))
    assert ok(x.VM.get_other_config(root, vm)) == {"XenCenter.CustomFields.owner": "ops"}
    assert p.stop() == 0


@pytest.mark.parametrize("case", ["missing-password-file", "empty-password-file", "bad-http", "unknown-flag"])
def test_bad_startup_arguments_fail_with_a_message(workdir, case):
    state = os.path.join(workdir, "state")
    port_file = os.path.join(workdir, "ports.json")
    empty = os.path.join(workdir, "empty")
    open(empty, "w").close()
    args = {"missing-password-file": ["--root-password-file", os.path.join(workdir, "nope")],
            "empty-password-file": ["--root-password-file", empty],
            "bad-http": ["--http", "not-an-address"],
            "unknown-flag": ["--no-such-flag"]}[case]
    r = subprocess.run([server_binary(), "--state-dir", state, "--port-file", port_file,
                        "--log-level", "warn"] + ([] if case == "bad-http" else ["--http", "127.0.0.1:0"]) + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert r.returncode != 0
    assert r.stderr.strip()
    assert not os.path.exists(port_file)
