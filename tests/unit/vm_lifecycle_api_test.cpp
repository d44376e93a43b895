// Every VM lifecycle call in every power state through the API: exact errors, the record, metrics, devices and host memory following the simulator, guest-initiated changes, fault injection and concurrent operations.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"
#include "vm_fixtures.h"

namespace xenapi::testing {
namespace {

const char* const kStates[] = {"Halted", "Running", "Paused", "Suspended"};

// allowed_operations of an ordinary VM with nothing in progress, per state
// (xenapi-spec §5.2 and the lifecycle table).
StringSet vm_ops_in(const std::string& state) {
  if (state == "Halted")
    return {"snapshot", "clone", "copy", "start", "start_on", "changing_dynamic_range", "changing_static_range",
            "changing_shadow_memory", "changing_NVRAM", "make_into_template", "destroy"};
  if (state == "Running")
    return {"snapshot", "checkpoint", "pause", "clean_shutdown", "clean_reboot", "hard_shutdown", "hard_reboot",
            "suspend", "changing_dynamic_range", "changing_VCPUs_live"};
  if (state == "Paused") return {"snapshot", "checkpoint", "unpause", "hard_shutdown", "hard_reboot"};
  return {"snapshot", "checkpoint", "hard_shutdown", "resume", "resume_on", "destroy"};
}

const char* backend_state(const std::string& s) {
  if (s == "Running") return "running";
  if (s == "Paused") return "paused";
  if (s == "Suspended") return "suspended";
  return "halted";
}

class VmLifecycle : public VmFixture {
 protected:
  // Everything that must hold between calls for a VM made by new_kit.
  void expect_consistent(const Kit& k, const std::string& where) {
    SCOPED_TRACE(where);
    const std::string state = power(k.vm);
    const bool live = state == "Running" || state == "Paused";
    Value vm = record("VM", k.vm);
    hv::DomainInfo d = domain(k.vm);
    EXPECT_EQ(hv::to_string(d.state), std::string(backend_state(state)));
    EXPECT_EQ(vm.find("current_operations")->map().size(), 0u);
    EXPECT_EQ(set_of(*vm.find("allowed_operations")), vm_ops_in(state));
    EXPECT_EQ(vm.find("domid")->integer(), live ? d.domid : -1);
    if (live) EXPECT_GT(d.domid, 0);
    EXPECT_EQ(vm.find("resident_on")->str(), live ? host() : std::string(kNull));
    EXPECT_EQ(vm.find("scheduled_to_be_resident_on")->str(), kNull);
    EXPECT_EQ(vm.find("suspend_VDI")->str() != kNull, state == "Suspended");

    Value m = metrics(k.vm);
    EXPECT_EQ(m.find("memory_actual")->integer(), live ? vm.find("memory_dynamic_max")->integer() : 0);
    EXPECT_EQ(m.find("memory_actual")->integer(), d.memory_actual);
    EXPECT_EQ(m.find("VCPUs_number")->integer(), live ? vm.find("VCPUs_at_startup")->integer() : 0);
    Strings mstate = strings_of(*m.find("state"));
    if (live) EXPECT_EQ(mstate, Strings{backend_state(state)});
    else EXPECT_TRUE(mstate.empty());

    for (const auto& vbd : {k.disk_vbd, k.cd_vbd}) {
      EXPECT_EQ(flag("VBD", vbd, "currently_attached"), live) << vbd;
    }
    EXPECT_EQ(flag("VIF", k.vif, "currently_attached"), live);
    if (live) {
      EXPECT_EQ(str("VBD", k.disk_vbd, "device"), "xvda");
      EXPECT_EQ(str("VBD", k.cd_vbd, "device"), "xvdd");
      EXPECT_EQ(StringSet(d.attached_disks.begin(), d.attached_disks.end()), (StringSet{"xvda", "xvdd"}));
      EXPECT_EQ(d.attached_nics, Strings{"0"});
    }
    // Devices: allowed operations follow the VM's state and theirs.
    StringSet disk_ops, cd_ops, vif_ops;
    if (state == "Halted") disk_ops = cd_ops = vif_ops = {"attach"};
    if (state == "Running") {
      disk_ops = {"unplug", "unplug_force"};  // the kit's VM is HVM: its CD drive is never hot-plugged
      vif_ops = {"unplug"};
    }
    if (state != "Suspended") cd_ops.insert("insert");  // the drive is empty
    EXPECT_EQ(allowed("VBD", k.disk_vbd), disk_ops);
    EXPECT_EQ(allowed("VBD", k.cd_vbd), cd_ops);
    EXPECT_EQ(allowed("VIF", k.vif), vif_ops);
    // An attached disk cannot be destroyed or resized.
    StringSet vdi_ops = allowed("VDI", k.disk_vdi);
    EXPECT_EQ(vdi_ops.count("destroy") + vdi_ops.count("resize"), live ? 0u : 2u);

    EXPECT_EQ(host_free(), h.backend().free_memory());
  }

  static std::vector<Value> args_for(const std::string& op, const std::string& vm, const std::string& host) {
    if (op == "start" || op == "resume") return {Value(vm), Value(false), Value(false)};
    if (op == "start_on" || op == "resume_on") return {Value(vm), Value(host), Value(false), Value(false)};
    return {Value(vm)};
  }
};

// ---------------------------------------------------------------- every call in every state

struct PowerCall {
  const char* op;
  std::vector<std::string> from;  // states that allow it
  const char* expected;           // VM_BAD_POWER_STATE's expected list
  const char* result;             // state afterwards
};

const std::vector<PowerCall>& power_calls() {
  static const std::vector<PowerCall> calls = {
      {"start", {"Halted"}, "halted", "Running"},
      {"start_on", {"Halted"}, "halted", "Running"},
      {"pause", {"Running"}, "running", "Paused"},
      {"unpause", {"Paused"}, "paused", "Running"},
      {"clean_shutdown", {"Running"}, "running", "Halted"},
      {"hard_shutdown", {"Running", "Paused", "Suspended"}, "running, paused, suspended", "Halted"},
      {"shutdown", {"Running", "Paused", "Suspended"}, "running, paused, suspended", "Halted"},
      {"clean_reboot", {"Running"}, "running", "Running"},
      {"hard_reboot", {"Running", "Paused"}, "running, paused", "Running"},
      {"suspend", {"Running"}, "running", "Suspended"},
      {"resume", {"Suspended"}, "suspended", "Running"},
      {"resume_on", {"Suspended"}, "suspended", "Running"},
      {"power_state_reset", {"Halted", "Running", "Paused", "Suspended"}, "", "Halted"},
  };
  return calls;
}

struct MatrixCase {
  PowerCall call;
  std::string state;
};

std::vector<MatrixCase> matrix() {
  std::vector<MatrixCase> out;
  for (const auto& c : power_calls())
    for (const char* s : kStates) out.push_back({c, s});
  return out;
}

class PowerMatrix : public VmLifecycle, public ::testing::WithParamInterface<MatrixCase> {};

TEST_P(PowerMatrix, AllowedOrExactError) {
  const auto& [call, state] = GetParam();
  Kit k = new_kit();
  bring_to(k.vm, state);
  expect_consistent(k, "before " + std::string(call.op));
  const int64_t domid = num("VM", k.vm, "domid");
  const std::string image = str("VM", k.vm, "suspend_VDI");
  const bool allowed = std::find(call.from.begin(), call.from.end(), state) != call.from.end();

  Response r = h.call(std::string("VM.") + call.op, args_for(call.op, k.vm, host()));
  if (!allowed) {
    ASSERT_EQ(r.kind, Response::Kind::Failure);
    EXPECT_EQ(r.error, (Strings{"VM_BAD_POWER_STATE", k.vm, call.expected, lifecycle::state_name(state)}));
    EXPECT_EQ(power(k.vm), state);
    EXPECT_EQ(num("VM", k.vm, "domid"), domid);
    expect_consistent(k, "after refused " + std::string(call.op));
    return;
  }
  ASSERT_EQ(r.kind, Response::Kind::Success) << (r.error.empty() ? "" : r.error[0]);
  EXPECT_EQ(power(k.vm), call.result);
  expect_consistent(k, "after " + std::string(call.op));
  const std::string op = call.op;
  if (op == "clean_reboot" || op == "hard_reboot") EXPECT_NE(num("VM", k.vm, "domid"), domid) << "a reboot makes a new domain";
  // The memory image lives exactly as long as the suspended state.
  if (image != kNull) {
    bool still = power(k.vm) == "Suspended";
    EXPECT_EQ(h.store().read([&](const View& v) { return v.exists(h.store().cls("VDI"), image); }), still);
  }
}

std::string matrix_name(const ::testing::TestParamInfo<MatrixCase>& i) {
  return std::string(i.param.call.op) + "_from_" + i.param.state;
}

INSTANTIATE_TEST_SUITE_P(EveryCallEveryState, PowerMatrix, ::testing::ValuesIn(matrix()), matrix_name);

// ---------------------------------------------------------------- the record follows the backend

TEST_F(VmLifecycle, StartFillsRecordMetricsAndHostMemory) {
  Kit k = new_kit("web", 2 * kGiB);
  const int64_t free_before = host_free();
  EXPECT_EQ(free_before, h.backend().free_memory());
  const int64_t before = std::time(nullptr);
  start(k.vm);
  const int64_t after = std::time(nullptr);

  EXPECT_EQ(power(k.vm), "Running");
  EXPECT_EQ(str("VM", k.vm, "resident_on"), host());
  EXPECT_GT(num("VM", k.vm, "domid"), 0);
  Value m = metrics(k.vm);
  EXPECT_EQ(m.find("memory_actual")->integer(), 2 * kGiB);
  EXPECT_EQ(m.find("VCPUs_number")->integer(), 1);
  EXPECT_EQ(strings_of(*m.find("state")), Strings{"running"});
  int64_t started = m.find("start_time")->datetime().seconds;
  EXPECT_GE(started, before - 1);
  EXPECT_LE(started, after + 1);
  EXPECT_GT(m.find("install_time")->datetime().seconds, 0);
  EXPECT_EQ(host_free(), free_before - 2 * kGiB);
}

TEST_F(VmLifecycle, StartPausedAndResumePaused) {
  Kit k = new_kit();
  start(k.vm, true);
  EXPECT_EQ(power(k.vm), "Paused");
  expect_consistent(k, "started paused");
  h.ok("VM.unpause", {Value(k.vm)});
  h.ok("VM.suspend", {Value(k.vm)});
  h.ok("VM.resume", {Value(k.vm), Value(true), Value(false)});
  EXPECT_EQ(power(k.vm), "Paused");
  expect_consistent(k, "resumed paused");
}

TEST_F(VmLifecycle, PauseAndUnpauseUpdateMetricsState) {
  Kit k = new_kit();
  start(k.vm);
  h.ok("VM.pause", {Value(k.vm)});
  EXPECT_EQ(strings_of(*metrics(k.vm).find("state")), Strings{"paused"});
  h.ok("VM.unpause", {Value(k.vm)});
  EXPECT_EQ(strings_of(*metrics(k.vm).find("state")), Strings{"running"});
}

TEST_F(VmLifecycle, SuspendWritesAnImageThatResumeAndHardShutdownDiscard) {
  Kit k = new_kit("s", kGiB);
  start(k.vm);
  const size_t vdis = count("VDI");
  h.ok("VM.suspend", {Value(k.vm)});
  std::string image = str("VM", k.vm, "suspend_VDI");
  ASSERT_NE(image, kNull);
  EXPECT_EQ(count("VDI"), vdis + 1);
  EXPECT_EQ(num("VDI", image, "virtual_size"), kGiB);
  EXPECT_EQ(str("VDI", image, "type"), "suspend");
  std::string path = h.store().read([&](const View& v) {
    return v.must_get(h.store().cls("VDI"), image)->at(h.store().cls("VDI"), "path").str();
  });
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(host_free(), h.backend().free_memory());

  h.ok("VM.resume", {Value(k.vm), Value(false), Value(false)});
  EXPECT_EQ(str("VM", k.vm, "suspend_VDI"), kNull);
  EXPECT_EQ(count("VDI"), vdis);
  EXPECT_FALSE(std::filesystem::exists(path));

  h.ok("VM.suspend", {Value(k.vm)});
  path = h.store().read([&](const View& v) {
    return v.must_get(h.store().cls("VDI"), str("VM", k.vm, "suspend_VDI"))->at(h.store().cls("VDI"), "path").str();
  });
  h.ok("VM.hard_shutdown", {Value(k.vm)});
  EXPECT_EQ(count("VDI"), vdis);
  EXPECT_FALSE(std::filesystem::exists(path));
  expect_consistent(k, "after hard shutdown of a suspended VM");
}

TEST_F(VmLifecycle, DestroyRules) {
  Kit k = new_kit();
  start(k.vm);
  EXPECT_EQ(h.fail("VM.destroy", {Value(k.vm)}), (Strings{"VM_BAD_POWER_STATE", k.vm, "halted, suspended", "running"}));
  h.ok("VM.pause", {Value(k.vm)});
  EXPECT_EQ(h.fail("VM.destroy", {Value(k.vm)}), (Strings{"VM_BAD_POWER_STATE", k.vm, "halted, suspended", "paused"}));
  h.ok("VM.unpause", {Value(k.vm)});
  h.ok("VM.suspend", {Value(k.vm)});
  std::string image = str("VM", k.vm, "suspend_VDI");
  const std::string uuid = str("VM", k.vm, "uuid");
  const size_t vdis = count("VDI");
  h.ok("VM.destroy", {Value(k.vm)});
  // The VM's devices go, its disks stay, its memory image goes.
  EXPECT_EQ(count("VDI"), vdis - 1);
  EXPECT_TRUE(h.call("VDI.get_record", {Value(k.disk_vdi)}).kind == Response::Kind::Success);
  EXPECT_EQ(h.fail("VBD.get_record", {Value(k.disk_vbd)})[0], "HANDLE_INVALID");
  EXPECT_EQ(h.fail("VIF.get_record", {Value(k.vif)})[0], "HANDLE_INVALID");
  EXPECT_EQ(h.fail("VDI.get_record", {Value(image)})[0], "HANDLE_INVALID");
  EXPECT_EQ(h.backend().list().count(uuid), 0u) << "the domain is undefined";
}

TEST_F(VmLifecycle, PowerStateResetForgetsTheDomain) {
  Kit k = new_kit();
  start(k.vm);
  const int64_t free_running = host_free();
  h.ok("VM.power_state_reset", {Value(k.vm)});
  EXPECT_EQ(power(k.vm), "Halted");
  EXPECT_EQ(host_free(), free_running + kGiB);
  expect_consistent(k, "after power_state_reset");
  start(k.vm);
  EXPECT_EQ(power(k.vm), "Running");
}

TEST_F(VmLifecycle, SysrqAndTriggerNeedARunningVm) {
  Kit k = new_kit();
  EXPECT_EQ(h.fail("VM.send_sysrq", {Value(k.vm), Value("b")}), (Strings{"VM_BAD_POWER_STATE", k.vm, "running", "halted"}));
  EXPECT_EQ(h.fail("VM.send_trigger", {Value(k.vm), Value("nmi")}),
            (Strings{"VM_BAD_POWER_STATE", k.vm, "running", "halted"}));
  start(k.vm);
  h.ok("VM.send_trigger", {Value(k.vm), Value("nmi")});
  h.ok("VM.send_sysrq", {Value(k.vm), Value("s")});  // no visible effect
  h.backend().drain_events();
  EXPECT_EQ(power(k.vm), "Running");
}

TEST_F(VmLifecycle, AssertOperationValidUsesTheSameRules) {
  Kit k = new_kit();
  h.ok("VM.assert_operation_valid", {Value(k.vm), Value("start")});
  EXPECT_EQ(h.fail("VM.assert_operation_valid", {Value(k.vm), Value("pause")}),
            (Strings{"VM_BAD_POWER_STATE", k.vm, "running", "halted"}));
}

// Clients watching events see every committed state: none may be half-way
// (running with a memory image, suspended without one, halted on a host).
TEST_F(VmLifecycle, EveryCommittedStateIsConsistent) {
  Kit k = new_kit();
  struct Seen {
    std::string state, resident_on, image;
    int64_t domid;
  };
  auto seen = std::make_shared<std::vector<Seen>>();
  auto mu = std::make_shared<std::mutex>();
  const dm::Class& vc = h.store().cls("VM");
  const std::string vm = k.vm;
  h.store().add_observer([seen, mu, &vc, vm](const Commit& commit) {
    for (const auto& ch : commit.changes) {
      if (ch.cls != &vc || ch.ref != vm || !ch.object || ch.kind == ChangeKind::Del) continue;
      const Object& o = *ch.object;
      std::lock_guard lock(*mu);
      seen->push_back({o.at(vc, "power_state").str(), o.at(vc, "resident_on").str(), o.at(vc, "suspend_VDI").str(),
                       o.at(vc, "domid").integer()});
    }
  });
  auto run = [&](const char* method, std::vector<Value> args) {
    args.insert(args.begin(), Value(k.vm));
    h.ok(method, std::move(args));
  };
  run("VM.start", {Value(false), Value(false)});
  run("VM.pause", {});
  run("VM.unpause", {});
  run("VM.suspend", {});
  run("VM.resume", {Value(false), Value(false)});
  run("VM.clean_reboot", {});
  run("VM.suspend", {});
  run("VM.hard_shutdown", {});
  run("VM.start", {Value(true), Value(false)});
  run("VM.hard_reboot", {});
  run("VM.suspend", {});
  run("VM.power_state_reset", {});
  run("VM.start", {Value(false), Value(false)});
  run("VM.shutdown", {});
  std::lock_guard lock(*mu);
  ASSERT_GT(seen->size(), 14u);
  for (size_t i = 0; i < seen->size(); ++i) {
    const Seen& x = (*seen)[i];
    SCOPED_TRACE("commit " + std::to_string(i) + ": " + x.state);
    if (x.state == "Running" || x.state == "Paused") {
      EXPECT_GT(x.domid, 0);
      EXPECT_EQ(x.resident_on, host());
      EXPECT_EQ(x.image, kNull) << "a running VM has no memory image";
    } else {
      EXPECT_EQ(x.domid, -1);
      EXPECT_EQ(x.resident_on, kNull);
      EXPECT_EQ(x.image != kNull, x.state == "Suspended") << "an image exactly while suspended";
    }
  }
  // Every image made on the way is gone.
  EXPECT_EQ(count("VDI"), 1u) << "only the kit's disk is left";
}

// ---------------------------------------------------------------- templates, snapshots, control domain

TEST_F(VmLifecycle, TemplatesRefuseLifecycleCalls) {
  const std::string t = debian();
  for (const char* op : {"start", "start_on"}) {
    EXPECT_EQ(h.fail(std::string("VM.") + op, args_for(op, t, host())), (Strings{"VM_IS_TEMPLATE", t, op}));
  }
  // The power state is checked first.
  EXPECT_EQ(h.fail("VM.pause", {Value(t)}), (Strings{"VM_BAD_POWER_STATE", t, "running", "halted"}));
  // Default templates cannot be destroyed; other templates can.
  EXPECT_EQ(h.fail("VM.destroy", {Value(t)}), (Strings{"VM_IS_TEMPLATE", t, "destroy"}));
  std::string mine = h.ok("VM.clone", {Value(t), Value("my template")}).str();
  EXPECT_TRUE(flag("VM", mine, "is_a_template"));
  EXPECT_FALSE(flag("VM", mine, "is_default_template"));
  EXPECT_EQ(h.fail("VM.start", {Value(mine), Value(false), Value(false)}), (Strings{"VM_IS_TEMPLATE", mine, "start"}));
  EXPECT_EQ(allowed("VM", mine), (StringSet{"clone", "copy", "provision", "changing_dynamic_range",
                                            "changing_static_range", "changing_shadow_memory", "changing_NVRAM",
                                            "destroy"}));
  EXPECT_EQ(allowed("VM", t), (StringSet{"clone", "copy", "provision", "changing_dynamic_range", "changing_static_range",
                                         "changing_shadow_memory", "changing_NVRAM"}));
  h.ok("VM.destroy", {Value(mine)});
}

TEST_F(VmLifecycle, SnapshotsRefuseLifecycleCalls) {
  Kit k = new_kit();
  std::string snap = h.ok("VM.snapshot", {Value(k.vm), Value("snap")}).str();
  EXPECT_EQ(h.fail("VM.start", {Value(snap), Value(false), Value(false)}), (Strings{"VM_IS_SNAPSHOT", snap, "start"}));
  EXPECT_EQ(h.fail("VM.provision", {Value(snap)}), (Strings{"VM_IS_SNAPSHOT", snap, "provision"}));
  EXPECT_EQ(h.fail("VM.snapshot", {Value(snap), Value("again")}), (Strings{"VM_IS_SNAPSHOT", snap, "snapshot"}));
  EXPECT_EQ(allowed("VM", snap), (StringSet{"clone", "copy", "revert", "destroy"}));
  // Revert only on snapshots.
  EXPECT_EQ(h.fail("VM.revert", {Value(k.vm)}), (Strings{"REVERT_ONLY_ALLOWED_ON_SNAPSHOT"}));
  EXPECT_EQ(h.fail("VM.provision", {Value(k.vm)}), (Strings{"PROVISION_ONLY_ALLOWED_ON_TEMPLATE"}));
  h.ok("VM.destroy", {Value(snap)});
}

TEST_F(VmLifecycle, ControlDomainIsProtected) {
  const std::string d = dom0();
  ASSERT_EQ(power(d), "Running");
  for (const char* op : {"pause", "clean_shutdown", "hard_shutdown", "shutdown", "clean_reboot", "hard_reboot",
                         "suspend", "power_state_reset"}) {
    EXPECT_EQ(h.fail(std::string("VM.") + op, {Value(d)}),
              (Strings{"OPERATION_NOT_ALLOWED", "This operation (" + std::string(op) + ") is not allowed on the control domain"}))
        << op;
  }
  EXPECT_EQ(h.fail("VM.start", {Value(d), Value(false), Value(false)}),
            (Strings{"VM_BAD_POWER_STATE", d, "halted", "running"}));
  EXPECT_EQ(h.fail("VM.destroy", {Value(d)}), (Strings{"VM_BAD_POWER_STATE", d, "halted, suspended", "running"}));
  StringSet ops = allowed("VM", d);
  for (const char* op : {"start", "pause", "clean_shutdown", "hard_shutdown", "clean_reboot", "hard_reboot", "suspend",
                         "destroy", "snapshot", "checkpoint", "clone", "copy"})
    EXPECT_EQ(ops.count(op), 0u) << op;
  EXPECT_EQ(power(d), "Running");
}

// ---------------------------------------------------------------- blocked operations

TEST_F(VmLifecycle, BlockedOperationsComeFirstAndLeaveAllowedOperations) {
  Kit k = new_kit();
  h.ok("VM.add_to_blocked_operations", {Value(k.vm), Value("start"), Value("maintenance window")});
  EXPECT_EQ(allowed("VM", k.vm).count("start"), 0u);
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"OPERATION_BLOCKED", k.vm, "maintenance window"}));
  // Before the power state check.
  h.ok("VM.add_to_blocked_operations", {Value(k.vm), Value("clean_shutdown"), Value("no")});
  EXPECT_EQ(h.fail("VM.clean_shutdown", {Value(k.vm)}), (Strings{"OPERATION_BLOCKED", k.vm, "no"}));
  h.ok("VM.add_to_blocked_operations", {Value(k.vm), Value("destroy"), Value("keep")});
  EXPECT_EQ(h.fail("VM.destroy", {Value(k.vm)}), (Strings{"OPERATION_BLOCKED", k.vm, "keep"}));
  EXPECT_EQ(allowed("VM", k.vm).count("destroy"), 0u);

  h.ok("VM.remove_from_blocked_operations", {Value(k.vm), Value("start")});
  EXPECT_EQ(allowed("VM", k.vm).count("start"), 1u);
  start(k.vm);
  h.ok("VM.set_blocked_operations", {Value(k.vm), map_of({{"shutdown", Value("use hard")}})});
  EXPECT_EQ(h.fail("VM.shutdown", {Value(k.vm)}), (Strings{"OPERATION_BLOCKED", k.vm, "use hard"}));
  EXPECT_EQ(allowed("VM", k.vm).count("clean_shutdown"), 1u);
  h.ok("VM.clean_shutdown", {Value(k.vm)});
  EXPECT_EQ(power(k.vm), "Halted");
}

// ---------------------------------------------------------------- memory and vCPUs

TEST_F(VmLifecycle, VmLargerThanTheHostDoesNotStart) {
  Kit k = new_kit("huge", 80 * kGiB);
  const int64_t free = h.backend().free_memory();
  EXPECT_EQ(free, 60 * kGiB);  // 64 GiB minus the control domain's 4
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"HOST_NOT_ENOUGH_FREE_MEMORY", std::to_string(80 * kGiB), std::to_string(free)}));
  EXPECT_EQ(power(k.vm), "Halted");
  expect_consistent(k, "after refused start");
  EXPECT_EQ(h.backend().free_memory(), free);
}

TEST_F(VmLifecycle, SeveralVmsExhaustHostMemory) {
  std::vector<Kit> kits;
  for (int i = 0; i < 3; ++i) kits.push_back(new_kit("vm" + std::to_string(i), 25 * kGiB));
  start(kits[0].vm);
  start(kits[1].vm);
  EXPECT_EQ(host_free(), 10 * kGiB);
  EXPECT_EQ(h.fail("VM.start", {Value(kits[2].vm), Value(false), Value(false)}),
            (Strings{"HOST_NOT_ENOUGH_FREE_MEMORY", std::to_string(25 * kGiB), std::to_string(10 * kGiB)}));
  expect_consistent(kits[2], "refused");
  // Suspended VMs hold no host memory; resuming needs it again.
  h.ok("VM.suspend", {Value(kits[0].vm)});
  EXPECT_EQ(host_free(), 35 * kGiB);
  start(kits[2].vm);
  EXPECT_EQ(host_free(), 10 * kGiB);
  EXPECT_EQ(h.fail("VM.resume", {Value(kits[0].vm), Value(false), Value(false)}),
            (Strings{"HOST_NOT_ENOUGH_FREE_MEMORY", std::to_string(25 * kGiB), std::to_string(10 * kGiB)}));
  EXPECT_EQ(power(kits[0].vm), "Suspended");
  expect_consistent(kits[0], "refused resume");
  h.ok("VM.hard_shutdown", {Value(kits[1].vm)});
  h.ok("VM.resume", {Value(kits[0].vm), Value(false), Value(false)});
  EXPECT_EQ(host_free(), 10 * kGiB);
  for (const auto& k : kits) expect_consistent(k, "in the end");
}

TEST_F(VmLifecycle, TooManyVcpusDoesNotStart) {
  std::string vm = new_vm("wide", kGiB, 16);
  EXPECT_EQ(h.fail("VM.start", {Value(vm), Value(false), Value(false)}), (Strings{"HOST_NOT_ENOUGH_PCPUS", "16", "8"}));
  EXPECT_EQ(power(vm), "Halted");
  EXPECT_EQ(current_ops("VM", vm), 0u);
}

// ---------------------------------------------------------------- guest-initiated changes

struct GuestCase {
  const char* key;      // sysrq
  const char* field;    // actions_after_*
  const char* action;
  const char* result;   // power state afterwards
  bool new_domain;      // a fresh domain runs afterwards
};

class GuestInitiated : public VmLifecycle, public ::testing::WithParamInterface<GuestCase> {};

TEST_P(GuestInitiated, ActionsAfterAreApplied) {
  const GuestCase& g = GetParam();
  Kit k = new_kit();
  if (std::string(g.field) == "actions_after_crash")
    h.ok("VM.set_actions_after_crash", {Value(k.vm), Value(g.action)});
  else
    h.ok(std::string("VM.set_") + g.field, {Value(k.vm), Value(g.action)});
  start(k.vm);
  const int64_t domid = num("VM", k.vm, "domid");
  const int64_t free_running = host_free();
  const std::string token = now_token();

  h.ok("VM.send_sysrq", {Value(k.vm), Value(g.key)});
  h.backend().drain_events();

  EXPECT_EQ(power(k.vm), g.result);
  auto evs = events_since(token, {"vm", "vbd", "vif", "vm_metrics", "host_metrics"});
  const Event* e = find_event(evs, "vm", k.vm);
  ASSERT_TRUE(e) << "no VM event";
  EXPECT_EQ(e->snapshot.find("power_state")->str(), g.result);
  if (std::string(g.result) == "Halted") {
    expect_consistent(k, "after the guest stopped");
    EXPECT_EQ(host_free(), free_running + kGiB);
    const Event* b = find_event(evs, "vbd", k.disk_vbd);
    ASSERT_TRUE(b) << "no VBD event";
    EXPECT_FALSE(b->snapshot.find("currently_attached")->boolean());
    const Event* f = find_event(evs, "vif", k.vif);
    ASSERT_TRUE(f) << "no VIF event";
    EXPECT_FALSE(f->snapshot.find("currently_attached")->boolean());
    EXPECT_TRUE(find_event(evs, "host_metrics", host_metrics()));
    // It starts again normally.
    start(k.vm);
    EXPECT_EQ(power(k.vm), "Running");
  } else if (std::string(g.result) == "Running") {
    expect_consistent(k, "after the guest came back");
    if (g.new_domain) EXPECT_NE(num("VM", k.vm, "domid"), domid);
    EXPECT_EQ(host_free(), free_running);
    h.ok("VM.clean_shutdown", {Value(k.vm)});
    EXPECT_EQ(power(k.vm), "Halted");
  } else {
    // preserve: the crashed domain is kept (not running) for inspection,
    // holding its memory; it cannot be unpaused.
    EXPECT_EQ(num("VM", k.vm, "domid"), domid);
    EXPECT_EQ(strings_of(*metrics(k.vm).find("state")), Strings{"paused"});
    StringSet ops = vm_ops_in("Paused");
    ops.erase("unpause");
    EXPECT_EQ(allowed("VM", k.vm), ops);
    EXPECT_EQ(host_free(), free_running);
    EXPECT_EQ(h.fail("VM.unpause", {Value(k.vm)}), (Strings{"VM_CRASHED", k.vm}));
    h.ok("VM.hard_shutdown", {Value(k.vm)});
    expect_consistent(k, "after the preserved domain was stopped");
    EXPECT_EQ(host_free(), free_running + kGiB);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sysrq, GuestInitiated,
    ::testing::Values(GuestCase{"o", "actions_after_shutdown", "destroy", "Halted", false},
                      GuestCase{"o", "actions_after_shutdown", "restart", "Running", true},
                      GuestCase{"b", "actions_after_reboot", "restart", "Running", true},
                      GuestCase{"b", "actions_after_reboot", "destroy", "Halted", false},
                      GuestCase{"c", "actions_after_crash", "destroy", "Halted", false},
                      GuestCase{"c", "actions_after_crash", "coredump_and_destroy", "Halted", false},
                      GuestCase{"c", "actions_after_crash", "restart", "Running", true},
                      GuestCase{"c", "actions_after_crash", "coredump_and_restart", "Running", true},
                      GuestCase{"c", "actions_after_crash", "rename_restart", "Running", true},
                      GuestCase{"c", "actions_after_crash", "preserve", "Paused", false}),
    [](const auto& i) { return std::string("key_") + i.param.key + "_" + i.param.action; });

TEST_F(VmLifecycle, StartEmitsEventsForTheVmItsDevicesAndTheHost) {
  Kit k = new_kit();
  const std::string token = now_token();
  start(k.vm);
  auto evs = events_since(token, {"vm", "vbd", "vif", "vm_metrics", "host_metrics", "vdi"});
  const Event* vm = find_event(evs, "vm", k.vm);
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->snapshot.find("power_state")->str(), "Running");
  EXPECT_EQ(set_of(*vm->snapshot.find("allowed_operations")), vm_ops_in("Running"));
  for (const auto& vbd : {k.disk_vbd, k.cd_vbd}) {
    const Event* b = find_event(evs, "vbd", vbd);
    ASSERT_TRUE(b) << vbd;
    EXPECT_TRUE(b->snapshot.find("currently_attached")->boolean());
  }
  const Event* f = find_event(evs, "vif", k.vif);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->snapshot.find("currently_attached")->boolean());
  const Event* m = find_event(evs, "vm_metrics", str("VM", k.vm, "metrics"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->snapshot.find("memory_actual")->integer(), kGiB);
  const Event* hm = find_event(evs, "host_metrics", host_metrics());
  ASSERT_TRUE(hm) << "no host_metrics event";
  EXPECT_EQ(host_free(), h.backend().free_memory());
  // The disk in use can no longer be destroyed: its allowed_operations changed too.
  const Event* d = find_event(evs, "vdi", k.disk_vdi);
  ASSERT_TRUE(d) << "no VDI event";
  EXPECT_EQ(set_of(*d->snapshot.find("allowed_operations")).count("destroy"), 0u);
}

// ---------------------------------------------------------------- fault injection

TEST_F(VmLifecycle, FailedStartLeavesAConsistentHaltedVm) {
  Kit k = new_kit();
  const int64_t free = host_free();
  h.backend().fail_next("start");
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of start (injected)"}));
  EXPECT_EQ(power(k.vm), "Halted");
  expect_consistent(k, "after the failed start");
  EXPECT_EQ(host_free(), free);
  EXPECT_EQ(h.backend().free_memory(), free);
  start(k.vm);
  expect_consistent(k, "after the second start");
}

TEST_F(VmLifecycle, FailedAsyncStartFailsItsTaskAndLeavesAConsistentVm) {
  Kit k = new_kit();
  h.backend().fail_next("start");
  std::string task = h.ok("Async.VM.start", {Value(k.vm), Value(false), Value(false)}).str();
  ASSERT_TRUE(eventually([&] { return str("task", task, "status") != "pending"; }));
  EXPECT_EQ(str("task", task, "status"), "failure");
  EXPECT_EQ(strings_of(field("task", task, "error_info")),
            (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of start (injected)"}));
  expect_consistent(k, "after the failed Async start");
}

TEST_F(VmLifecycle, SimFailHintFailsEveryStart) {
  Kit k = new_kit("flaky", kGiB, {{"sim_fail", Value("start,suspend")}});
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
              (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of start (sim_fail)"}));
    expect_consistent(k, "after failure " + std::to_string(i));
  }
  h.ok("VM.remove_from_other_config", {Value(k.vm), Value("sim_fail")});
  start(k.vm);
  expect_consistent(k, "started");
}

TEST_F(VmLifecycle, FailedStartBeforeTheBackendClearsTheScheduledHost) {
  // Slots "0" and "xvda" name the same guest device: the domain cannot be built.
  Kit k = new_kit();
  std::string other = add_vbd(k.vm, new_vdi(kGiB, "clash"), "xvda");
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"VM_DUPLICATE_VBD_DEVICE", k.vm, other, "xvda"}));
  EXPECT_EQ(str("VM", k.vm, "scheduled_to_be_resident_on"), kNull);
  EXPECT_EQ(current_ops("VM", k.vm), 0u);
  h.ok("VBD.destroy", {Value(other)});
  expect_consistent(k, "after the failed start");
}

TEST_F(VmLifecycle, FailedSuspendKeepsTheVmRunningAndLeavesNoImage) {
  Kit k = new_kit();
  start(k.vm);
  const size_t vdis = count("VDI");
  const auto files = std::distance(std::filesystem::directory_iterator(sr_dir()), {});
  h.backend().fail_next("suspend");
  EXPECT_EQ(h.fail("VM.suspend", {Value(k.vm)}),
            (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of suspend (injected)"}));
  EXPECT_EQ(power(k.vm), "Running");
  EXPECT_EQ(count("VDI"), vdis);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(sr_dir()), {}), files);
  expect_consistent(k, "after the failed suspend");
}

TEST_F(VmLifecycle, FailedResumeKeepsTheImage) {
  Kit k = new_kit();
  bring_to(k.vm, "Suspended");
  std::string image = str("VM", k.vm, "suspend_VDI");
  h.backend().fail_next("resume");
  EXPECT_EQ(h.fail("VM.resume", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of resume (injected)"}));
  EXPECT_EQ(str("VM", k.vm, "suspend_VDI"), image);
  expect_consistent(k, "after the failed resume");
  h.ok("VM.resume", {Value(k.vm), Value(false), Value(false)});
  expect_consistent(k, "resumed");
}

TEST_F(VmLifecycle, FailedRebootAndShutdownKeepTheVmRunning) {
  Kit k = new_kit();
  start(k.vm);
  const int64_t domid = num("VM", k.vm, "domid");
  h.backend().fail_next("reboot");
  EXPECT_EQ(h.fail("VM.hard_reboot", {Value(k.vm)})[0], "INTERNAL_ERROR");
  h.backend().fail_next("shutdown");
  EXPECT_EQ(h.fail("VM.clean_shutdown", {Value(k.vm)})[0], "INTERNAL_ERROR");
  h.backend().fail_next("pause");
  EXPECT_EQ(h.fail("VM.pause", {Value(k.vm)})[0], "INTERNAL_ERROR");
  EXPECT_EQ(num("VM", k.vm, "domid"), domid);
  expect_consistent(k, "after the failures");
}

// ---------------------------------------------------------------- uncooperative guests

TEST_F(VmLifecycle, UnresponsiveGuestTimesOutAndShutdownFallsBackToHard) {
  Kit k = new_kit("mute", kGiB, {{"sim_guest", Value("unresponsive")}});
  start(k.vm);
  EXPECT_EQ(h.fail("VM.clean_shutdown", {Value(k.vm)}), (Strings{"VM_SHUTDOWN_TIMEOUT", k.vm, "60"}));
  EXPECT_EQ(h.fail("VM.clean_reboot", {Value(k.vm)}), (Strings{"VM_SHUTDOWN_TIMEOUT", k.vm, "60"}));
  EXPECT_EQ(power(k.vm), "Running");
  expect_consistent(k, "after the timeouts");
  h.ok("VM.shutdown", {Value(k.vm)});
  EXPECT_EQ(power(k.vm), "Halted");
  expect_consistent(k, "after shutdown");
}

TEST_F(VmLifecycle, RefusingGuestAndShutdownFallsBackToHard) {
  Kit k = new_kit("stubborn", kGiB, {{"sim_guest", Value("refuse")}});
  start(k.vm);
  EXPECT_EQ(h.fail("VM.clean_shutdown", {Value(k.vm)}), (Strings{"VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT", k.vm}));
  EXPECT_EQ(h.fail("VM.clean_reboot", {Value(k.vm)}), (Strings{"VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT", k.vm}));
  expect_consistent(k, "after the refusals");
  h.ok("VM.shutdown", {Value(k.vm)});
  expect_consistent(k, "after shutdown");
}

TEST_F(VmLifecycle, ShutdownOfPausedAndSuspendedVmsIsHard) {
  Kit k = new_kit("mute", kGiB, {{"sim_guest", Value("unresponsive")}});
  bring_to(k.vm, "Paused");
  h.ok("VM.shutdown", {Value(k.vm)});
  expect_consistent(k, "paused -> halted");
  bring_to(k.vm, "Suspended");
  h.ok("VM.shutdown", {Value(k.vm)});
  expect_consistent(k, "suspended -> halted");
}

// ---------------------------------------------------------------- concurrency

TEST_F(VmLifecycle, OperationInProgressBlocksConflictingCalls) {
  Kit k = new_kit();
  start(k.vm);
  const dm::Class& vc = h.store().cls("VM");
  h.store().write([&](Txn& t) {
    t.update(vc, k.vm, [&](Object& o) {
      o.values[vc.field("current_operations")->index].set_member("OpaqueRef:busy-task", Value("clean_shutdown"));
    });
  });
  // allowed_operations follows current_operations.
  EXPECT_EQ(allowed("VM", k.vm), (StringSet{"hard_shutdown", "hard_reboot"}));
  const Strings busy = {"OTHER_OPERATION_IN_PROGRESS", "VM", k.vm, "clean_shutdown", "OpaqueRef:busy-task"};
  EXPECT_EQ(h.fail("VM.clean_reboot", {Value(k.vm)}), busy);
  EXPECT_EQ(h.fail("VM.pause", {Value(k.vm)}), busy);
  EXPECT_EQ(h.fail("VM.suspend", {Value(k.vm)}), busy);
  EXPECT_EQ(h.fail("VM.snapshot", {Value(k.vm), Value("s")}), busy);
  // The power state is checked before concurrency.
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"VM_BAD_POWER_STATE", k.vm, "halted", "running"}));
  // No hot-plug while the VM is stopping.
  const Strings stopping = {"OPERATION_NOT_ALLOWED", "Current operation on VM:" + k.vm + " is clean_shutdown"};
  EXPECT_EQ(h.fail("VBD.unplug", {Value(k.disk_vbd)}), stopping);
  EXPECT_EQ(h.fail("VIF.unplug", {Value(k.vif)}), stopping);
  EXPECT_TRUE(allowed("VBD", k.disk_vbd) == StringSet{"unplug_force"}) << "forcing does not wait for the VM";
  // hard_shutdown runs alongside a clean shutdown.
  h.ok("VM.hard_shutdown", {Value(k.vm)});
  EXPECT_EQ(power(k.vm), "Halted");
  EXPECT_EQ(field("VM", k.vm, "current_operations").map().size(), 1u) << "only the other task's entry is left";
}

TEST_F(VmLifecycle, OperationGuardHeldOpenShowsInCurrentOperations) {
  Kit k = new_kit();
  const dm::Message* msg = h.model().message("VM.start");
  ASSERT_TRUE(msg);
  Principal root{h.session(), "root", dm::Role::PoolAdmin, true};
  Call call(h.env(), *msg, &root);
  std::string key;
  {
    vm::Operation op(call, k.vm, "start");
    key = call.operation_key();
    Value cur = field("VM", k.vm, "current_operations");
    ASSERT_EQ(cur.map().size(), 1u);
    EXPECT_EQ(cur.find(key)->str(), "start");
    EXPECT_TRUE(allowed("VM", k.vm).empty()) << "nothing overlaps a start";
    EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
              (Strings{"OTHER_OPERATION_IN_PROGRESS", "VM", k.vm, "start", key}));
    EXPECT_EQ(h.fail("VM.clone", {Value(k.vm), Value("c")}),
              (Strings{"OTHER_OPERATION_IN_PROGRESS", "VM", k.vm, "start", key}));
    EXPECT_EQ(h.fail("VM.destroy", {Value(k.vm)}), (Strings{"OTHER_OPERATION_IN_PROGRESS", "VM", k.vm, "start", key}));
    // A second guard on the same VM is refused the same way.
    Call other(h.env(), *msg, &root);
    try {
      vm::Operation second(other, k.vm, "start");
      ADD_FAILURE() << "a second start was let in";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), "OTHER_OPERATION_IN_PROGRESS");
    }
  }
  EXPECT_EQ(current_ops("VM", k.vm), 0u);
  expect_consistent(k, "after the guard ended");
  start(k.vm);
}

TEST_F(VmLifecycle, CloneAndCopyOverlapButNotWithStart) {
  Kit k = new_kit();
  const dm::Class& vc = h.store().cls("VM");
  h.store().write([&](Txn& t) {
    t.update(vc, k.vm, [&](Object& o) {
      o.values[vc.field("current_operations")->index].set_member("OpaqueRef:cloning", Value("clone"));
    });
  });
  EXPECT_EQ(allowed("VM", k.vm), (StringSet{"clone", "copy"}));
  std::string c = h.ok("VM.clone", {Value(k.vm), Value("second clone")}).str();
  EXPECT_EQ(power(c), "Halted");
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}),
            (Strings{"OTHER_OPERATION_IN_PROGRESS", "VM", k.vm, "clone", "OpaqueRef:cloning"}));
}

TEST_F(VmLifecycle, TwoClientsRacingExactlyOneWins) {
  Kit k = new_kit();
  std::string second = Harness::value(h.raw("session.login_with_password", {Value("root"), Value(kRootPassword)})).str();
  const std::vector<std::pair<std::string, std::vector<Value>>> rounds = {
      {"VM.start", {Value(k.vm), Value(false), Value(false)}},
      {"VM.suspend", {Value(k.vm)}},
      {"VM.resume", {Value(k.vm), Value(false), Value(false)}},
      {"VM.clean_shutdown", {Value(k.vm)}},
  };
  for (int round = 0; round < 25; ++round) {
    for (const auto& [method, args] : rounds) {
      std::atomic<int> go{0};
      Response r[2];
      std::string sessions[2] = {h.session(), second};
      std::thread t[2];
      for (int i = 0; i < 2; ++i) {
        t[i] = std::thread([&, i] {
          ++go;
          while (go < 2) std::this_thread::yield();
          std::vector<Value> p = args;
          p.insert(p.begin(), Value(sessions[i]));
          r[i] = h.raw(method, p);
        });
      }
      for (auto& x : t) x.join();
      int wins = 0;
      for (const auto& x : r) {
        if (x.kind == Response::Kind::Success) {
          ++wins;
          continue;
        }
        ASSERT_FALSE(x.error.empty());
        EXPECT_TRUE(x.error[0] == "OTHER_OPERATION_IN_PROGRESS" || x.error[0] == "VM_BAD_POWER_STATE") << x.error[0];
        if (x.error[0] == "OTHER_OPERATION_IN_PROGRESS") {
          ASSERT_EQ(x.error.size(), 5u);
          EXPECT_EQ(x.error[1], "VM");
          EXPECT_EQ(x.error[2], k.vm);
        }
      }
      EXPECT_EQ(wins, 1) << method << " round " << round;
    }
    expect_consistent(k, "after round " + std::to_string(round));
  }
}

// ---------------------------------------------------------------- the other VM calls in every state

struct OtherCall {
  const char* method;
  std::vector<Value> extra;        // arguments after the VM
  std::vector<std::string> from;   // states that allow it
  const char* expected;            // VM_BAD_POWER_STATE's expected list
  const char* refusal = nullptr;   // error (without parameters) in every allowed state instead of success
};

const std::vector<OtherCall>& other_calls() {
  static const std::vector<OtherCall> calls = {
      {"VM.clone", {Value("c")}, {"Halted"}, "halted"},
      {"VM.copy", {Value("c"), Value(kNull)}, {"Halted"}, "halted"},
      {"VM.snapshot", {Value("s")}, {"Halted", "Running", "Paused", "Suspended"}, ""},
      {"VM.checkpoint", {Value("cp")}, {"Running", "Paused", "Suspended"}, "running, paused, suspended"},
      {"VM.provision", {}, {"Halted"}, "halted", "PROVISION_ONLY_ALLOWED_ON_TEMPLATE"},
      {"VM.revert", {}, {"Halted", "Running", "Paused", "Suspended"}, "", "REVERT_ONLY_ALLOWED_ON_SNAPSHOT"},
      {"VM.destroy", {}, {"Halted", "Suspended"}, "halted, suspended"},
      {"VM.send_sysrq", {Value("s")}, {"Running"}, "running"},
      {"VM.send_trigger", {Value("nmi")}, {"Running"}, "running"},
      {"VM.set_VCPUs_number_live", {Value(int64_t{1})}, {"Running"}, "running"},
      {"VM.set_memory_dynamic_range", {Value(kGiB), Value(kGiB)}, {"Halted", "Running"}, "halted, running"},
      {"VM.set_memory_static_range", {Value(kGiB), Value(kGiB)}, {"Halted"}, "halted"},
      {"VM.set_VCPUs_max", {Value(int64_t{1})}, {"Halted"}, "halted"},
      {"VM.set_NVRAM", {map_of({{"EFI-variables", Value("AAAA")}})}, {"Halted"}, "halted"},
      {"VM.set_HVM_shadow_multiplier", {Value(1.0)}, {"Halted"}, "halted"},
  };
  return calls;
}

struct OtherCase {
  OtherCall call;
  std::string state;
};

class OtherMatrix : public VmLifecycle, public ::testing::WithParamInterface<OtherCase> {};

TEST_P(OtherMatrix, AllowedOrExactError) {
  const auto& [call, state] = GetParam();
  Kit k = new_kit();
  bring_to(k.vm, state);
  std::vector<Value> args = {Value(k.vm)};
  args.insert(args.end(), call.extra.begin(), call.extra.end());
  const bool allowed = std::find(call.from.begin(), call.from.end(), state) != call.from.end();
  Response r = h.call(call.method, args);
  if (!allowed) {
    ASSERT_EQ(r.kind, Response::Kind::Failure);
    EXPECT_EQ(r.error, (Strings{"VM_BAD_POWER_STATE", k.vm, call.expected, lifecycle::state_name(state)}));
  } else if (call.refusal) {
    ASSERT_EQ(r.kind, Response::Kind::Failure);
    EXPECT_EQ(r.error, Strings{call.refusal});
  } else {
    ASSERT_EQ(r.kind, Response::Kind::Success) << (r.error.empty() ? "" : r.error[0] + " " + r.error.back());
    if (std::string(call.method) == "VM.destroy") {
      EXPECT_EQ(h.fail("VM.get_record", {Value(k.vm)})[0], "HANDLE_INVALID");
      return;
    }
  }
  EXPECT_EQ(power(k.vm), state) << "none of these calls changes the power state";
  expect_consistent(k, std::string("after ") + call.method);
}

std::vector<OtherCase> other_matrix() {
  std::vector<OtherCase> out;
  for (const auto& c : other_calls())
    for (const char* s : kStates) out.push_back({c, s});
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryOtherCallEveryState, OtherMatrix, ::testing::ValuesIn(other_matrix()),
                         [](const ::testing::TestParamInfo<OtherCase>& i) {
                           return std::string(i.param.call.method).substr(3) + "_from_" + i.param.state;
                         });

// ---------------------------------------------------------------- a crashed domain kept for inspection

TEST_F(VmLifecycle, PreservedCrashCanBeRebootedHardOrReset) {
  Kit k = new_kit();
  h.ok("VM.set_actions_after_crash", {Value(k.vm), Value("preserve")});
  start(k.vm);
  const int64_t domid = num("VM", k.vm, "domid");
  const int64_t free_running = host_free();
  h.ok("VM.send_sysrq", {Value(k.vm), Value("c")});
  h.backend().drain_events();
  ASSERT_EQ(power(k.vm), "Paused");
  EXPECT_EQ(domain(k.vm).state, hv::PowerState::Crashed);
  EXPECT_EQ(h.fail("VM.unpause", {Value(k.vm)}), (Strings{"VM_CRASHED", k.vm}));
  EXPECT_EQ(h.fail("VM.assert_operation_valid", {Value(k.vm), Value("unpause")}), (Strings{"VM_CRASHED", k.vm}));
  EXPECT_EQ(h.fail("VM.clean_shutdown", {Value(k.vm)}), (Strings{"VM_BAD_POWER_STATE", k.vm, "running", "paused"}));
  // A hard reboot makes a fresh domain out of the wreck.
  h.ok("VM.hard_reboot", {Value(k.vm)});
  EXPECT_EQ(power(k.vm), "Running");
  EXPECT_NE(num("VM", k.vm, "domid"), domid);
  expect_consistent(k, "after the hard reboot");
  EXPECT_EQ(host_free(), free_running);
  EXPECT_EQ(allowed("VM", k.vm).count("pause"), 1u);
  h.ok("VM.pause", {Value(k.vm)});
  h.ok("VM.unpause", {Value(k.vm)});  // an ordinary pause unpauses
  // Crash again and reset the record: the domain goes, its memory is
  // released, and the VM starts again normally.
  h.ok("VM.send_sysrq", {Value(k.vm), Value("c")});
  h.backend().drain_events();
  ASSERT_EQ(power(k.vm), "Paused");
  h.ok("VM.power_state_reset", {Value(k.vm)});
  expect_consistent(k, "after power_state_reset of a crashed VM");
  EXPECT_EQ(host_free(), free_running + kGiB);
  start(k.vm);
  expect_consistent(k, "started again");
  // A record that forgot its crashed domain (as after a restart of the
  // server): the next start clears the leftover domain instead of failing.
  h.ok("VM.send_sysrq", {Value(k.vm), Value("c")});
  h.backend().drain_events();
  h.store().write([&](Txn& t) { vm::mark_stopped(t, h.env(), k.vm); });
  ASSERT_EQ(domain(k.vm).state, hv::PowerState::Crashed);
  start(k.vm);
  expect_consistent(k, "started over the leftover domain");
}

// ---------------------------------------------------------------- host memory and host state

TEST_F(VmLifecycle, HostFreeMemoryFollowsEveryChange) {
  Kit a = new_kit("a", 4 * kGiB);
  Kit b = new_kit("b", 2 * kGiB);
  auto compute = [&] { return h.ok("host.compute_free_memory", {Value(host())}).integer(); };
  auto expect_in_step = [&](const std::string& where, int64_t want) {
    SCOPED_TRACE(where);
    EXPECT_EQ(h.backend().free_memory(), want);
    EXPECT_EQ(host_free(), want) << "host_metrics.memory_free";
    EXPECT_EQ(compute(), want) << "host.compute_free_memory";
  };
  // a may balloon down to 1 GiB.
  h.ok("VM.set_memory_limits", {Value(a.vm), Value(kGiB), Value(4 * kGiB), Value(4 * kGiB), Value(4 * kGiB)});
  const int64_t idle = h.backend().free_memory();
  EXPECT_EQ(idle, 60 * kGiB);
  expect_in_step("idle", idle);
  start(a.vm);
  expect_in_step("a running", idle - 4 * kGiB);
  start(b.vm, true);
  expect_in_step("b paused too", idle - 6 * kGiB);
  h.ok("VM.suspend", {Value(a.vm)});
  expect_in_step("a suspended", idle - 2 * kGiB);
  h.ok("VM.resume", {Value(a.vm), Value(false), Value(false)});
  expect_in_step("a resumed", idle - 6 * kGiB);
  // Ballooning a running VM moves the host's free memory with it.
  h.ok("VM.set_memory_dynamic_range", {Value(a.vm), Value(kGiB), Value(3 * kGiB)});
  EXPECT_EQ(metrics(a.vm).find("memory_actual")->integer(), 3 * kGiB);
  EXPECT_EQ(num("VM", a.vm, "memory_target"), 3 * kGiB);
  expect_in_step("a ballooned down", idle - 5 * kGiB);
  h.ok("VM.clean_shutdown", {Value(a.vm)});
  h.ok("VM.hard_shutdown", {Value(b.vm)});
  expect_in_step("all halted", idle);
  // A VM being started here (scheduled, not yet running) is already counted.
  h.store().write([&](Txn& t) { t.set(h.store().cls("VM"), b.vm, "scheduled_to_be_resident_on", Value(host())); });
  EXPECT_EQ(compute(), idle - 2 * kGiB);
  h.store().write([&](Txn& t) { t.set(h.store().cls("VM"), b.vm, "scheduled_to_be_resident_on", Value(std::string(kNull))); });
  EXPECT_EQ(compute(), idle);
  EXPECT_EQ(h.fail("host.compute_free_memory", {Value("OpaqueRef:no-such-host")}),
            (Strings{"HANDLE_INVALID", "host", "OpaqueRef:no-such-host"}));
}

TEST_F(VmLifecycle, BalloonBeyondTheHostIsRefusedAndChangesNothing) {
  Kit k = new_kit("balloon", 2 * kGiB);
  h.ok("VM.set_memory_limits", {Value(k.vm), Value(kGiB), Value(100 * kGiB), Value(kGiB), Value(2 * kGiB)});
  start(k.vm);
  const int64_t free = host_free();
  EXPECT_EQ(h.fail("VM.set_memory_dynamic_max", {Value(k.vm), Value(90 * kGiB)}),
            (Strings{"HOST_NOT_ENOUGH_FREE_MEMORY", std::to_string(90 * kGiB), std::to_string(free + 2 * kGiB)}));
  EXPECT_EQ(num("VM", k.vm, "memory_dynamic_max"), 2 * kGiB) << "the record did not move";
  EXPECT_EQ(metrics(k.vm).find("memory_actual")->integer(), 2 * kGiB);
  EXPECT_EQ(host_free(), free);
  EXPECT_EQ(domain(k.vm).memory_actual, 2 * kGiB);
}

TEST_F(VmLifecycle, DisabledHostStartsAndResumesNothing) {
  Kit k = new_kit();
  Kit s = new_kit("suspended");
  bring_to(s.vm, "Suspended");
  EXPECT_EQ(allowed("host", host()), (StringSet{"vm_start", "vm_resume"}));
  h.ok("host.disable", {Value(host())});
  EXPECT_FALSE(flag("host", host(), "enabled"));
  EXPECT_TRUE(allowed("host", host()).empty());
  const Strings disabled = {"HOST_DISABLED", host()};
  EXPECT_EQ(h.fail("VM.start", {Value(k.vm), Value(false), Value(false)}), disabled);
  EXPECT_EQ(h.fail("VM.start_on", {Value(k.vm), Value(host()), Value(false), Value(false)}), disabled);
  EXPECT_EQ(h.fail("VM.resume", {Value(s.vm), Value(false), Value(false)}), disabled);
  EXPECT_EQ(h.fail("VM.resume_on", {Value(s.vm), Value(host()), Value(false), Value(false)}), disabled);
  EXPECT_EQ(h.fail("VM.assert_can_boot_here", {Value(k.vm), Value(host())}), disabled);
  EXPECT_TRUE(h.ok("VM.get_possible_hosts", {Value(k.vm)}).arr().empty());
  expect_consistent(k, "refused start");
  expect_consistent(s, "refused resume");
  h.ok("host.enable", {Value(host())});
  EXPECT_EQ(allowed("host", host()), (StringSet{"vm_start", "vm_resume"}));
  start(k.vm);
  h.ok("VM.resume", {Value(s.vm), Value(false), Value(false)});
  expect_consistent(k, "started");
  expect_consistent(s, "resumed");
}

// ---------------------------------------------------------------- the backend

TEST_F(VmLifecycle, SimulatorReportsLiveMetricsPerVcpuAndDevice) {
  std::string vm = new_vm("busy", kGiB, 2);
  add_disk(vm, "0");
  add_disk(vm, "1");
  add_vif(vm, "0");
  start(vm);
  auto info = [&] { return domain(vm); };
  auto grows = [&](const hv::DomainInfo& before) {
    return eventually([&] {
      hv::DomainInfo now = info();
      return now.vcpu_seconds[0] > before.vcpu_seconds[0] && now.disk_read_bytes > before.disk_read_bytes &&
             now.net_rx_bytes > before.net_rx_bytes;
    });
  };
  hv::DomainInfo first = info();
  EXPECT_EQ(first.state, hv::PowerState::Running);
  EXPECT_EQ(first.vcpus, 2);
  EXPECT_EQ(first.vcpu_seconds.size(), 2u);
  EXPECT_EQ(first.memory_actual, kGiB);
  EXPECT_EQ(first.disk_stats.size(), 2u);
  EXPECT_TRUE(first.disk_stats.count("xvda") && first.disk_stats.count("xvdb"));
  EXPECT_EQ(first.nic_stats.size(), 1u);
  EXPECT_TRUE(first.nic_stats.count("0"));
  ASSERT_TRUE(grows(first)) << "a running guest uses CPU and does I/O";
  hv::DomainInfo now = info();
  int64_t reads = 0, rx = 0;
  for (const auto& [dev, st] : now.disk_stats) reads += st.read_bytes;
  for (const auto& [dev, st] : now.nic_stats) rx += st.rx_bytes;
  EXPECT_EQ(reads, now.disk_read_bytes) << "totals are the sums over the devices";
  EXPECT_EQ(rx, now.net_rx_bytes);
  // Paused: the counters stand still; unpaused: they move again.
  h.ok("VM.pause", {Value(vm)});
  hv::DomainInfo paused = info();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  hv::DomainInfo later = info();
  EXPECT_EQ(later.vcpu_seconds, paused.vcpu_seconds);
  EXPECT_EQ(later.disk_read_bytes, paused.disk_read_bytes);
  h.ok("VM.unpause", {Value(vm)});
  EXPECT_TRUE(grows(later));
  // An unplugged disk has no counters.
  h.ok("VBD.unplug", {Value(strings_of(field("VM", vm, "VBDs"))[1])});
  EXPECT_EQ(info().disk_stats.size(), 1u);
}

TEST_F(VmLifecycle, EveryVcpuTheVmMayUseNeedsAHostCpu) {
  // One vCPU at start, up to 12 later: the host's 8 pCPUs are not enough.
  std::string vm = new_vm("growing", kGiB, 1);
  h.ok("VM.set_VCPUs_max", {Value(vm), Value(int64_t{12})});
  EXPECT_EQ(h.fail("VM.start", {Value(vm), Value(false), Value(false)}), (Strings{"HOST_NOT_ENOUGH_PCPUS", "12", "8"}));
  EXPECT_EQ(h.fail("VM.assert_can_boot_here", {Value(vm), Value(host())}), (Strings{"HOST_NOT_ENOUGH_PCPUS", "12", "8"}));
  EXPECT_EQ(power(vm), "Halted");
  h.ok("VM.set_VCPUs_max", {Value(vm), Value(int64_t{8})});
  start(vm);
  h.ok("VM.set_VCPUs_number_live", {Value(vm), Value(int64_t{8})});
  EXPECT_EQ(domain(vm).vcpus, 8);
  EXPECT_EQ(metrics(vm).find("VCPUs_number")->integer(), 8);
  EXPECT_EQ(h.fail("VM.set_VCPUs_number_live", {Value(vm), Value(int64_t{9})}), (Strings{"INVALID_VALUE", "nvcpu", "9"}));
}

// A backend with nothing but the required calls: every optional capability
// answers NotSupported, which a client sees as OPERATION_NOT_ALLOWED.
class BareBackend : public hv::HypervisorBackend {
 public:
  std::string name() const override { return "bare"; }
  hv::HostInfo host_info() override { return {}; }
  int64_t free_memory() override { return 0; }
  void define(const hv::DomainConfig&) override {}
  void undefine(const std::string&) override {}
  hv::DomainInfo start(const std::string&, bool) override { return {}; }
  void pause(const std::string&) override {}
  void unpause(const std::string&) override {}
  void shutdown(const std::string&, hv::ShutdownMode) override {}
  hv::DomainInfo reboot(const std::string&, hv::ShutdownMode) override { return {}; }
  void suspend(const std::string&, const std::string&) override {}
  hv::DomainInfo resume(const std::string&, const std::string&, bool) override { return {}; }
  void destroy(const std::string&) override {}
  hv::DomainInfo info(const std::string&) override { return {}; }
  std::map<std::string, hv::DomainInfo> list() override { return {}; }
  hv::VolumeInfo create_volume(const std::string&, const std::string&, int64_t) override { return {}; }
  void delete_volume(const std::string&) override {}
  hv::VolumeInfo resize_volume(const std::string&, int64_t) override { return {}; }
  hv::VolumeInfo copy_volume(const std::string&, const std::string&, const std::string&) override { return {}; }
  hv::VolumeInfo volume_info(const std::string&) override { return {}; }
  std::vector<hv::VolumeInfo> list_volumes(const std::string&) override { return {}; }
  void report(const hv::DomainEvent& e) { emit(e); }
};

TEST(Backend, OptionalCapabilitiesAreNotSupportedByDefault) {
  BareBackend b;
  const std::vector<std::pair<std::string, std::function<void()>>> optional = {
      {"attach_disk", [&] { b.attach_disk("u", hv::DiskConfig{}); }},
      {"detach_disk", [&] { b.detach_disk("u", "xvda", false); }},
      {"change_media", [&] { b.change_media("u", "xvdd", ""); }},
      {"attach_nic", [&] { b.attach_nic("u", hv::NicConfig{}); }},
      {"detach_nic", [&] { b.detach_nic("u", "0", true); }},
      {"send_sysrq", [&] { b.send_sysrq("u", "b"); }},
      {"send_trigger", [&] { b.send_trigger("u", "nmi"); }},
      {"set_vcpus", [&] { b.set_vcpus("u", 2); }},
      {"set_memory_target", [&] { b.set_memory_target("u", kGiB); }},
  };
  for (const auto& [what, call] : optional) {
    try {
      call();
      ADD_FAILURE() << what << " did not throw";
    } catch (const hv::Error& e) {
      EXPECT_EQ(e.code, hv::Error::Code::NotSupported) << what;
      ApiError api = vm::backend_error(e, "OpaqueRef:vm");
      EXPECT_EQ(api.description(), (Strings{"OPERATION_NOT_ALLOWED", e.what()})) << what;
    }
  }
  // The event sink gets what the backend reports.
  std::vector<std::string> seen;
  b.set_event_sink([&](const hv::DomainEvent& e) { seen.push_back(e.uuid); });
  b.report(hv::DomainEvent{"uuid-1", hv::DomainEvent::Kind::Halted});
  EXPECT_EQ(seen, Strings{"uuid-1"});
}

TEST(Backend, EveryErrorCodeMapsToOneXenApiError) {
  using C = hv::Error::Code;
  const std::string vm = "OpaqueRef:vm", vbd = "OpaqueRef:vbd";
  struct Row {
    C code;
    std::string device_class;
    Strings want;
  };
  const std::vector<Row> rows = {
      {C::NotSupported, "VM", {"OPERATION_NOT_ALLOWED", "what"}},
      {C::NoMemory, "VM", {"HOST_NOT_ENOUGH_FREE_MEMORY", "10", "4"}},
      {C::TooManyVcpus, "VM", {"HOST_NOT_ENOUGH_PCPUS", "10", "4"}},
      {C::GuestRefused, "VM", {"VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT", vm}},
      {C::GuestRefused, "VBD", {"DEVICE_DETACH_REJECTED", "VBD", vbd, "what"}},
      {C::Timeout, "VM", {"VM_SHUTDOWN_TIMEOUT", vm, "60"}},
      {C::Timeout, "VBD", {"DEVICE_DETACH_TIMEOUT", "VBD", vbd}},
      {C::NoSuchDevice, "VBD", {"DEVICE_ALREADY_DETACHED", vbd}},
      {C::DeviceBusy, "VBD", {"DEVICE_ALREADY_ATTACHED", vbd}},
      {C::StorageFull, "SR", {"SR_FULL", "10", "4"}},
      {C::NoSuchDomain, "VM", {"INTERNAL_ERROR", "hypervisor: what"}},
      {C::BadState, "VM", {"INTERNAL_ERROR", "hypervisor: what"}},
      {C::Failed, "VM", {"INTERNAL_ERROR", "hypervisor: what"}},
  };
  for (const auto& r : rows) {
    const std::string& ref = r.device_class == "VM" ? vm : vbd;
    EXPECT_EQ(vm::backend_error(hv::Error(r.code, "what", 10, 4), ref, r.device_class).description(), r.want)
        << static_cast<int>(r.code) << " " << r.device_class;
  }
}

}  // namespace
}  // namespace xenapi::testing
