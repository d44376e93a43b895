// Unit tests of the dispatcher through the in-process harness: lookup, Async, sessions, removed, arity, coercion, RBAC, refs, listMethods.
#include <gtest/gtest.h>

#include <xmlrpc-c/base.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "value_printer.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi::testing {
namespace {

using Strings = std::vector<std::string>;
const std::string kNull(dm::kNullRef);

class DispatcherTest : public ::testing::Test {
 protected:
  Harness h;

  std::string template_vm() {
    Value refs = h.ok("VM.get_by_name_label", {Value("Alpine Linux 3.19")});
    EXPECT_EQ(refs.arr().size(), 1u);
    return refs.arr().at(0).str();
  }
  std::string host() { return h.env().this_host; }
  // A VM record good enough for VM.create: a template's record with another name.
  Value vm_record(const std::string& name) {
    Value rec = h.ok("VM.get_record", {Value(template_vm())});
    rec.set_member("name_label", Value(name));
    rec.set_member("is_a_template", Value(false));
    return rec;
  }
  std::string new_vm(const std::string& name = "vm") { return h.ok("VM.create", {vm_record(name)}).str(); }

  // A session for a non-root user with the given role.
  std::string user_session(const std::string& name, dm::Role role) {
    return h.sessions().open(User{name, role, false}, "");
  }
  Response as(const std::string& session, const std::string& method, std::vector<Value> params = {}) {
    params.insert(params.begin(), Value(session));
    return h.raw(method, std::move(params));
  }
  static Strings error(const Response& r) {
    EXPECT_EQ(r.kind, Response::Kind::Failure);
    return r.error;
  }
  size_t tasks() {
    return h.store().read([&](const View& v) { return v.count(h.store().cls("task")); });
  }
  // Waits until an Async task is no longer pending; returns its record.
  Value wait_task(const std::string& task) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (h.ok("task.get_status", {Value(task)}) != Value("pending")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return h.ok("task.get_record", {Value(task)});
  }
};

// ------------------------------------------------------------------ method lookup

TEST_F(DispatcherTest, DottedAndUnderscoreSpellingsFindTheSameMessage) {
  Value dotted = h.ok("VM.get_all");
  Value underscored = h.ok("VM_get_all");
  ASSERT_TRUE(dotted.is_array());
  EXPECT_FALSE(dotted.arr().empty());
  EXPECT_EQ(dotted, underscored);
  EXPECT_EQ(h.ok("host.get_API_version_major", {Value(host())}), Value(int64_t{2}));
  EXPECT_EQ(h.ok("host_get_API_version_minor", {Value(host())}), Value(int64_t{21}));
}

TEST_F(DispatcherTest, UnknownMethodWithAValidSessionOrNoParams) {
  EXPECT_EQ(h.fail("VM.no_such_message"), (Strings{"MESSAGE_METHOD_UNKNOWN", "VM.no_such_message"}));
  EXPECT_EQ(h.fail("NoSuchClass.get_all"), (Strings{"MESSAGE_METHOD_UNKNOWN", "NoSuchClass.get_all"}));
  EXPECT_EQ(error(h.raw("VM.no_such_message", {})), (Strings{"MESSAGE_METHOD_UNKNOWN", "VM.no_such_message"}));
  // Class names are case-sensitive.
  EXPECT_EQ(h.fail("vm.get_all"), (Strings{"MESSAGE_METHOD_UNKNOWN", "vm.get_all"}));
}

TEST_F(DispatcherTest, UnknownMethodWithABogusFirstParamIsSessionInvalid) {
  EXPECT_EQ(error(h.raw("VM.no_such_message", {Value("OpaqueRef:bogus")})),
            (Strings{"SESSION_INVALID", "OpaqueRef:bogus"}));
  EXPECT_EQ(error(h.raw("no.such", {Value("OpaqueRef:bogus"), Value("x")})),
            (Strings{"SESSION_INVALID", "OpaqueRef:bogus"}));
}

// ------------------------------------------------------------------ Async

TEST_F(DispatcherTest, AsyncOfASyncOnlyMessageIsAFault) {
  EXPECT_EQ(h.fail("Async.VM.get_all"), (Strings{"Fault", "No async mode for this operation (rpc: VM.get_all)"}));
  EXPECT_EQ(h.fail("Async.VM.get_name_label", {Value(template_vm())}),
            (Strings{"Fault", "No async mode for this operation (rpc: VM.get_name_label)"}));
  EXPECT_EQ(h.fail("Async.session.logout"),
            (Strings{"Fault", "No async mode for this operation (rpc: session.logout)"}));
}

TEST_F(DispatcherTest, AsyncUnderscoreSpellingIsUnknown) {
  EXPECT_EQ(h.fail("Async.VM_create", {vm_record("x")}), (Strings{"MESSAGE_METHOD_UNKNOWN", "Async.VM_create"}));
  EXPECT_EQ(h.fail("Async.VM.no_such_message"), (Strings{"MESSAGE_METHOD_UNKNOWN", "Async.VM.no_such_message"}));
}

TEST_F(DispatcherTest, AsyncCallReturnsATaskThatSucceedsWithTheResult) {
  Response r = h.call("Async.VM.create", {vm_record("made-async")});
  ASSERT_EQ(r.kind, Response::Kind::Success);
  std::string task = r.result.to_value().str();
  EXPECT_EQ(task.rfind("OpaqueRef:", 0), 0u);
  EXPECT_EQ(h.ok("task.get_name_label", {Value(task)}), Value("Async.VM.create"));

  Value rec = wait_task(task);
  ASSERT_EQ(*rec.find("status"), Value("success"));
  EXPECT_EQ(*rec.find("progress"), Value(1.0));
  EXPECT_EQ(*rec.find("error_info"), Value::empty_array());
  Value made = h.ok("VM.get_by_name_label", {Value("made-async")});
  ASSERT_EQ(made.arr().size(), 1u);
  EXPECT_EQ(*rec.find("result"), Value("<value>" + made.arr()[0].str() + "</value>"));
}

TEST_F(DispatcherTest, AsyncVoidResultIsAnEmptyValueFragment) {
  std::string vm = new_vm("to-destroy");
  std::string task = h.ok("Async.VM.destroy", {Value(vm)}).str();
  Value rec = wait_task(task);
  ASSERT_EQ(*rec.find("status"), Value("success"));
  EXPECT_EQ(*rec.find("result"), Value("<value></value>"));
  EXPECT_EQ(error(h.call("VM.get_uuid", {Value(vm)})), (Strings{"HANDLE_INVALID", "VM", vm}));
}

TEST_F(DispatcherTest, AsyncCallThatFailsRecordsTheErrorInTheTask) {
  std::string task = h.ok("Async.VM.create", {Value::empty_map()}).str();
  Value rec = wait_task(task);
  ASSERT_EQ(*rec.find("status"), Value("failure"));
  const Value& info = *rec.find("error_info");
  ASSERT_TRUE(info.is_array());
  ASSERT_EQ(info.arr().size(), 3u) << info.debug_string();
  EXPECT_EQ(info.arr()[0], Value("INVALID_VALUE"));
  EXPECT_EQ(info.arr()[1], Value("user_version"));
  EXPECT_EQ(*rec.find("result"), Value(""));
}

TEST_F(DispatcherTest, AsyncChecksHappenBeforeATaskIsCreated) {
  const size_t before = tasks();
  EXPECT_EQ(error(h.raw("Async.VM.create", {Value("OpaqueRef:bogus"), vm_record("x")})),
            (Strings{"SESSION_INVALID", "OpaqueRef:bogus"}));
  EXPECT_EQ(h.fail("Async.VM.create"), (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.create", "1", "0"}));
  EXPECT_EQ(tasks(), before);
}

TEST_F(DispatcherTest, AsyncReferenceErrorsEndUpInTheTask) {
  // Only the session and the argument count are checked before the task exists.
  std::string task = h.ok("Async.VM.destroy", {Value("OpaqueRef:nope")}).str();
  ASSERT_EQ(task.rfind("OpaqueRef:", 0), 0u);
  for (int i = 0; i < 500 && h.ok("task.get_status", {Value(task)}).str() == "pending"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(h.ok("task.get_status", {Value(task)}), Value("failure"));
  EXPECT_EQ(h.ok("task.get_error_info", {Value(task)}), Value::array({Value("HANDLE_INVALID"), Value("VM"), Value("OpaqueRef:nope")}));
}

// ------------------------------------------------------------------ sessions

TEST_F(DispatcherTest, SessionChecks) {
  EXPECT_EQ(error(h.raw("VM.get_all", {Value("OpaqueRef:bogus")})), (Strings{"SESSION_INVALID", "OpaqueRef:bogus"}));
  EXPECT_EQ(error(h.raw("VM.get_all", {Value("")})), (Strings{"SESSION_INVALID", ""}));
  EXPECT_EQ(error(h.raw("VM.get_all", {Value(int64_t{7})})).at(0), "SESSION_INVALID");
  // A session message called with no parameters at all: received = -1 (as xapi counts).
  EXPECT_EQ(error(h.raw("VM.get_all", {})), (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_all", "0", "-1"}));
}

TEST_F(DispatcherTest, LoginLogoutAndReuse) {
  Response login = h.raw("session.login_with_password", {Value("root"), Value(kRootPassword)});
  ASSERT_EQ(login.kind, Response::Kind::Success);
  std::string s = login.result.to_value().str();
  EXPECT_NE(s, h.session());
  ASSERT_EQ(as(s, "VM.get_all").kind, Response::Kind::Success);
  ASSERT_EQ(as(s, "session.logout").kind, Response::Kind::Success);
  EXPECT_EQ(error(as(s, "VM.get_all")), (Strings{"SESSION_INVALID", s}));
  // The harness's own session is untouched.
  EXPECT_EQ(h.call("VM.get_all").kind, Response::Kind::Success);
}

TEST_F(DispatcherTest, BadCredentials) {
  EXPECT_EQ(error(h.raw("session.login_with_password", {Value("root"), Value("wrong")})),
            (Strings{"SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"}));
  EXPECT_EQ(error(h.raw("session.login_with_password", {Value("nobody"), Value("x")})),
            (Strings{"SESSION_AUTHENTICATION_FAILED", "nobody", "Authentication failure"}));
}

// ------------------------------------------------------------------ removed messages

TEST_F(DispatcherTest, RemovedMessagesAnswerMessageRemovedAfterTheSessionCheck) {
  std::string vm = template_vm();
  EXPECT_EQ(h.fail("VM.get_is_snapshot_from_vmpp", {Value(vm)}), (Strings{"MESSAGE_REMOVED"}));
  EXPECT_EQ(h.fail("VBD_metrics.get_all"), (Strings{"MESSAGE_REMOVED"}));
  EXPECT_EQ(h.fail("host.license_apply", {Value(host()), Value("x")}), (Strings{"MESSAGE_REMOVED"}));
  EXPECT_EQ(error(h.raw("VM.get_is_snapshot_from_vmpp", {Value("OpaqueRef:bogus"), Value(vm)})),
            (Strings{"SESSION_INVALID", "OpaqueRef:bogus"}));
}

// ------------------------------------------------------------------ arity

TEST_F(DispatcherTest, LoginAcceptsTwoThreeOrFourParameters) {
  for (size_t n : {2u, 3u, 4u}) {
    std::vector<Value> p = {Value("root"), Value(kRootPassword), Value("2.0"), Value("unit-test")};
    p.resize(n);
    Response r = h.raw("session.login_with_password", p);
    ASSERT_EQ(r.kind, Response::Kind::Success) << n << " params: " << (r.error.empty() ? "" : r.error[0]);
    std::string s = r.result.to_value().str();
    EXPECT_EQ(as(s, "VM.get_all").kind, Response::Kind::Success);
    if (n == 4) {
      EXPECT_EQ(h.ok("session.get_originator", {Value(s)}), Value("unit-test"));
    }
  }
}

TEST_F(DispatcherTest, LoginWithTooFewParameters) {
  EXPECT_EQ(error(h.raw("session.login_with_password", {Value("root")})),
            (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1"}));
  EXPECT_EQ(error(h.raw("session.login_with_password", {})),
            (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "0"}));
}

TEST_F(DispatcherTest, SurplusTrailingParametersAreIgnoredForMessagesWithOptionalParameters) {
  // xenapi-spec.md 1.2 (as xapi's generated server matches "required :: default_args"):
  // a message that has optional parameters ignores surplus trailing arguments.
  Response r = h.raw("session.login_with_password",
                     {Value("root"), Value(kRootPassword), Value("2.0"), Value("unit-test"), Value("surplus")});
  ASSERT_EQ(r.kind, Response::Kind::Success) << (r.error.empty() ? "" : r.error[0]);
}

TEST_F(DispatcherTest, ExactCountForMessagesWithoutOptionalParameters) {
  EXPECT_EQ(h.fail("VM.get_all", {Value("extra")}), (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_all", "0", "1"}));
  EXPECT_EQ(h.fail("VM.get_name_label"), (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_name_label", "1", "0"}));
  EXPECT_EQ(h.fail("VM.set_name_label", {Value(template_vm())}),
            (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.set_name_label", "2", "1"}));
  EXPECT_EQ(h.fail("VM.set_name_label", {Value(template_vm()), Value("a"), Value("b")}),
            (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.set_name_label", "2", "3"}));
}

// ------------------------------------------------------------------ coercion

TEST_F(DispatcherTest, IntFromADigitString) {
  std::string vm = new_vm();
  h.ok("VM.set_user_version", {Value(vm), Value("42")});
  EXPECT_EQ(h.ok("VM.get_user_version", {Value(vm)}), Value(int64_t{42}));
  h.ok("VM.set_user_version", {Value(vm), Value("-3")});
  EXPECT_EQ(h.ok("VM.get_user_version", {Value(vm)}), Value(int64_t{-3}));
  h.ok("VM.set_user_version", {Value(vm), Value("8589934592")});
  EXPECT_EQ(h.ok("VM.get_user_version", {Value(vm)}), Value(int64_t{8589934592LL}));
  EXPECT_EQ(h.fail("VM.set_user_version", {Value(vm), Value("4x")}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_user_version", {Value(vm), Value("")}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_user_version", {Value(vm), Value("99999999999999999999")}),
            (Strings{"FIELD_TYPE_ERROR", "value"}));
}

TEST_F(DispatcherTest, FloatFromAnInt) {
  Value rec = vm_record("shadow");
  rec.set_member("HVM_shadow_multiplier", Value(int64_t{2}));
  std::string vm = h.ok("VM.create", {rec}).str();
  EXPECT_EQ(h.ok("VM.get_HVM_shadow_multiplier", {Value(vm)}), Value(2.0));
  const auto& model = h.model();
  EXPECT_EQ(coerce(model, dm::parse_type("float"), Value(int64_t{3}), "p"), Value(3.0));
  EXPECT_EQ(coerce(model, dm::parse_type("float"), Value("1.25"), "p"), Value(1.25));
}

TEST_F(DispatcherTest, DateTimeFromAString) {
  EXPECT_EQ(h.call("message.get_since", {Value("20240101T00:00:00Z")}).kind, Response::Kind::Success);
  EXPECT_EQ(h.call("message.get_since", {Value("2024-01-01T00:00:00+01:00")}).kind, Response::Kind::Success);
  EXPECT_EQ(h.call("message.get_since", {Value(DateTime{0})}).kind, Response::Kind::Success);
  EXPECT_EQ(h.fail("message.get_since", {Value("yesterday")}), (Strings{"FIELD_TYPE_ERROR", "since"}));
  EXPECT_EQ(coerce(h.model(), dm::parse_type("datetime"), Value("2024-01-02T03:04:05Z"), "p"),
            Value(DateTime{1704164645}));
}

TEST_F(DispatcherTest, EnumsAreMatchedCaseInsensitivelyAndCanonicalised) {
  std::string vm = new_vm();
  h.ok("VM.set_actions_after_shutdown", {Value(vm), Value("RESTART")});
  EXPECT_EQ(h.ok("VM.get_actions_after_shutdown", {Value(vm)}), Value("restart"));
  h.ok("VM.set_actions_after_shutdown", {Value(vm), Value("Destroy")});
  EXPECT_EQ(h.ok("VM.get_actions_after_shutdown", {Value(vm)}), Value("destroy"));

  Value vm_uuid = h.ok("VM.get_uuid", {Value(vm)});
  std::string msg = h.ok("message.create", {Value("ALERT"), Value("3"), Value("vm"), vm_uuid, Value("body")}).str();
  Value rec = h.ok("message.get_record", {Value(msg)});
  EXPECT_EQ(*rec.find("cls"), Value("VM"));
  EXPECT_EQ(*rec.find("priority"), Value(int64_t{3}));
}

TEST_F(DispatcherTest, BadEnumIsInvalidValue) {
  std::string vm = new_vm();
  Value before = h.ok("VM.get_actions_after_shutdown", {Value(vm)});
  EXPECT_EQ(h.fail("VM.set_actions_after_shutdown", {Value(vm), Value("explode")}),
            (Strings{"INVALID_VALUE", "value", "explode"}));
  EXPECT_EQ(h.ok("VM.get_actions_after_shutdown", {Value(vm)}), before);
  EXPECT_EQ(h.fail("message.get_since", {Value(int64_t{1})}), (Strings{"FIELD_TYPE_ERROR", "since"}));
  EXPECT_EQ(h.fail("message.create", {Value("n"), Value(int64_t{1}), Value("NoSuchClass"), Value("u"), Value("b")}),
            (Strings{"INVALID_VALUE", "cls", "NoSuchClass"}));
}

TEST_F(DispatcherTest, WrongTypeIsFieldTypeError) {
  std::string vm = new_vm("typed");
  EXPECT_EQ(h.fail("VM.set_name_label", {Value(vm), Value(int64_t{5})}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_is_a_template", {Value(vm), Value("true")}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_tags", {Value(vm), Value("a")}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_tags", {Value(vm), Value::array({Value(true)})}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_other_config", {Value(vm), Value::array({})}), (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.set_other_config", {Value(vm), Value(Map{{Value("k"), Value(1.5)}})}),
            (Strings{"FIELD_TYPE_ERROR", "value"}));
  EXPECT_EQ(h.fail("VM.get_name_label", {Value(int64_t{1})}), (Strings{"FIELD_TYPE_ERROR", "self"}));
  EXPECT_EQ(h.ok("VM.get_name_label", {Value(vm)}), Value("typed"));
}

TEST_F(DispatcherTest, InvalidUtf8StringParameterIsInvalidValue) {
  // xenapi-spec.md 1.2: every string parameter must be valid UTF-8. (Over XML-RPC such
  // bytes can arrive inside <base64>.)
  std::string vm = new_vm("clean");
  Strings e = h.fail("VM.set_name_label", {Value(vm), Value(std::string("bad\xFF"))});
  ASSERT_GE(e.size(), 2u);
  EXPECT_EQ(e[0], "INVALID_VALUE");
  EXPECT_EQ(e[1], "Invalid UTF-8 string in parameter");
  EXPECT_EQ(h.ok("VM.get_name_label", {Value(vm)}), Value("clean"));
}

// ------------------------------------------------------------------ RBAC

TEST_F(DispatcherTest, ReadOnlyUserMayReadButNotWrite) {
  std::string vm = new_vm("rbac");
  std::string ro = user_session("reader", dm::Role::ReadOnly);
  EXPECT_EQ(as(ro, "VM.get_all").kind, Response::Kind::Success);
  EXPECT_EQ(Harness::value(as(ro, "VM.get_name_label", {Value(vm)})), Value("rbac"));
  EXPECT_EQ(as(ro, "VM.get_record", {Value(vm)}).kind, Response::Kind::Success);
  EXPECT_EQ(as(ro, "VM.get_all_records_where", {Value("true")}).kind, Response::Kind::Success);

  Strings e = error(as(ro, "VM.set_name_label", {Value(vm), Value("hacked")}));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(e[1], "vm.set_name_label");
  EXPECT_EQ(e[2].rfind("No permission in user session", 0), 0u) << e[2];
  // The alias spelling checks the same permission.
  e = error(as(ro, "VM_set_name_label", {Value(vm), Value("hacked")}));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1], "vm.set_name_label");
  EXPECT_EQ(h.ok("VM.get_name_label", {Value(vm)}), Value("rbac"));
  // Also for Async: no task is made.
  const size_t before = tasks();
  EXPECT_EQ(error(as(ro, "Async.VM.destroy", {Value(vm)})).at(0), "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(tasks(), before);
}

TEST_F(DispatcherTest, RolesAreOrdered) {
  std::string vm = new_vm("roles");
  std::string va = user_session("vmadmin", dm::Role::VmAdmin);
  EXPECT_EQ(as(va, "VM.set_name_label", {Value(vm), Value("renamed")}).kind, Response::Kind::Success);
  Strings e = error(as(va, "VM.set_affinity", {Value(vm), Value(host())}));  // vm-power-admin
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(e[1], "vm.set_affinity");
  std::string vpa = user_session("poweradmin", dm::Role::VmPowerAdmin);
  EXPECT_EQ(as(vpa, "VM.set_affinity", {Value(vm), Value(host())}).kind, Response::Kind::Success);
  // session.change_password is for the local superuser only, whatever the role.
  std::string pa = user_session("pooladmin", dm::Role::PoolAdmin);
  e = error(as(pa, "session.change_password", {Value("a"), Value("b")}));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(e[1], "session.change_password");
}

TEST_F(DispatcherTest, RbacIsCheckedBeforeRefsAndNotImplemented) {
  std::string ro = user_session("reader", dm::Role::ReadOnly);
  EXPECT_EQ(error(as(ro, "VM.set_name_label", {Value("OpaqueRef:nope"), Value("x")})).at(0), "RBAC_PERMISSION_DENIED");
  EXPECT_EQ(error(as(ro, "VM.clone", {Value(template_vm()), Value("x")})).at(0), "RBAC_PERMISSION_DENIED");
}

// ------------------------------------------------------------------ not implemented

TEST_F(DispatcherTest, UnimplementedExplicitMessageIsNotImplemented) {
  // Joining pools needs a second host: declared, not implemented.
  std::vector<Value> args = {Value("192.0.2.20"), Value("root"), Value("secret")};
  EXPECT_EQ(h.fail("pool.join", args), (Strings{"NOT_IMPLEMENTED", "pool.join"}));
  EXPECT_EQ(h.fail("pool_join", args), (Strings{"NOT_IMPLEMENTED", "pool.join"}));
  EXPECT_EQ(h.fail("Async.pool.join", args), (Strings{"NOT_IMPLEMENTED", "pool.join"}));
  std::string host = h.ok("host.get_all").arr().at(0).str();
  EXPECT_EQ(h.fail("host.license_add", {Value(host), Value("licence")}), (Strings{"NOT_IMPLEMENTED", "host.license_add"}));
}

// ------------------------------------------------------------------ references

TEST_F(DispatcherTest, BadSelfRefIsHandleInvalid) {
  EXPECT_EQ(h.fail("VM.get_name_label", {Value("OpaqueRef:bad")}), (Strings{"HANDLE_INVALID", "VM", "OpaqueRef:bad"}));
  EXPECT_EQ(h.fail("VM.get_name_label", {Value(kNull)}), (Strings{"HANDLE_INVALID", "VM", kNull}));
  // A live ref of another class is no VM.
  EXPECT_EQ(h.fail("VM.get_name_label", {Value(host())}), (Strings{"HANDLE_INVALID", "VM", host()}));
  EXPECT_EQ(h.fail("VM.destroy", {Value("OpaqueRef:bad")}), (Strings{"HANDLE_INVALID", "VM", "OpaqueRef:bad"}));
}

TEST_F(DispatcherTest, BadNonSelfRefIsHandleInvalidAndNullIsAllowed) {
  std::string vm = new_vm();
  EXPECT_EQ(h.fail("VM.set_affinity", {Value(vm), Value("OpaqueRef:nohost")}),
            (Strings{"HANDLE_INVALID", "host", "OpaqueRef:nohost"}));
  h.ok("VM.set_affinity", {Value(vm), Value(host())});
  EXPECT_EQ(h.ok("VM.get_affinity", {Value(vm)}), Value(host()));
  h.ok("VM.set_affinity", {Value(vm), Value(kNull)});
  EXPECT_EQ(h.ok("VM.get_affinity", {Value(vm)}), Value(kNull));
  h.ok("VM.set_suspend_SR", {Value(vm), Value(kNull)});
  EXPECT_EQ(h.fail("VM.set_suspend_SR", {Value(vm), Value(host())}), (Strings{"HANDLE_INVALID", "SR", host()}));
}

TEST_F(DispatcherTest, RefsInsideACreateRecordAreChecked) {
  Value rec = vm_record("bad-affinity");
  rec.set_member("affinity", Value("OpaqueRef:nohost"));
  EXPECT_EQ(h.fail("VM.create", {rec}), (Strings{"HANDLE_INVALID", "host", "OpaqueRef:nohost"}));
  EXPECT_TRUE(h.ok("VM.get_by_name_label", {Value("bad-affinity")}).arr().empty());
}

// ------------------------------------------------------------------ system.listMethods

TEST_F(DispatcherTest, ListMethodsIsAPlainArrayOfCallableSyncNames) {
  Response r = h.raw("system.listMethods", {});
  ASSERT_EQ(r.kind, Response::Kind::Plain);
  ASSERT_TRUE(r.plain.is_array());
  std::set<std::string> names;
  for (const auto& v : r.plain.arr()) {
    ASSERT_TRUE(v.is_string());
    EXPECT_TRUE(names.insert(v.str()).second) << "duplicate " << v.str();
  }
  for (const char* want : {"VM.get_all_records", "VM.get_record", "VM.create", "session.login_with_password",
                           "session.logout", "host.get_API_version_major", "pool.get_all", "task.get_status",
                           "message.create"})
    EXPECT_TRUE(names.count(want)) << want;
  for (const char* absent : {"pool.join", "host.license_add", "VM.get_is_snapshot_from_vmpp", "VBD_metrics.get_all",
                             "host.license_apply", "system.listMethods"})
    EXPECT_FALSE(names.count(absent)) << absent;
  for (const auto& n : names) {
    EXPECT_NE(n.rfind("Async.", 0), 0u) << n;
    const dm::Message* m = h.model().message(n);
    ASSERT_NE(m, nullptr) << n;
    EXPECT_EQ(m->wire_name, n);
    EXPECT_TRUE(m->implemented) << n;
    EXPECT_FALSE(m->life.is_removed()) << n;
  }
  // No session needed, and the same answer for a caller with a session.
  EXPECT_EQ(h.raw("system.listMethods", {Value(h.session())}).plain, r.plain);
}

TEST_F(DispatcherTest, ListMethodsEncodesAsAWellFormedUnwrappedArray) {
  Response r = h.raw("system.listMethods", {});
  std::string out;
  xmlrpc::write_plain(out, r.plain);
  EXPECT_EQ(out.rfind("<methodResponse><params><param><value><array><data><value>", 0), 0u);
  EXPECT_EQ(out.find("Status"), std::string::npos);

  xmlrpc_env env;
  xmlrpc_env_init(&env);
  xmlrpc_value* result = nullptr;
  int fault_code = 0;
  const char* fault_string = nullptr;
  xmlrpc_parse_response2(&env, out.data(), out.size(), &result, &fault_code, &fault_string);
  ASSERT_FALSE(env.fault_occurred) << env.fault_string;
  ASSERT_EQ(fault_string, nullptr);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(xmlrpc_value_type(result), XMLRPC_TYPE_ARRAY);
  EXPECT_EQ(static_cast<size_t>(xmlrpc_array_size(&env, result)), r.plain.arr().size());
  xmlrpc_DECREF(result);
  xmlrpc_env_clean(&env);
}

// ------------------------------------------------------------------ dispatch()

TEST_F(DispatcherTest, DispatchCallsDoneExactlyOnceAlsoForBlockingMessages) {
  std::promise<Response> done;
  Request req;
  req.method = "session.login_with_password";  // a blocking message: runs on a worker
  req.params = {Value("root"), Value(kRootPassword)};
  int calls = 0;
  h.dispatcher().dispatch(std::move(req), [&](Response r) {
    ++calls;
    done.set_value(std::move(r));
  });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Response r = f.get();
  EXPECT_EQ(r.kind, Response::Kind::Success);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace xenapi::testing
