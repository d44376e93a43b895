// The lifecycle rules tables as data, run against the checks and against
// allowed_operations, which come from the same tables: VMs
// (data/vm_lifecycle.txt) and VBDs, VIFs, VDIs, SRs and hosts
// (data/device_operations.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "classes/vm/lifecycle.h"
#include "harness.h"

namespace xenapi::testing {
namespace {

struct Case {
  std::string op, state, flags;
  std::vector<std::string> outcome;  // empty: allowed
  int line = 0;
};

std::string trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

std::vector<Case> load_cases() {
  std::ifstream in(std::string(XENAPI_TEST_DATA) + "/vm_lifecycle.txt");
  std::vector<Case> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    Case c;
    c.line = n;
    std::string code;
    ss >> c.op >> c.state >> c.flags >> code;
    if (code != "ok") {
      c.outcome.push_back(code);
      std::string rest;
      std::getline(ss, rest);
      rest = trim(rest);
      size_t start = 0;
      while (!rest.empty() && start <= rest.size()) {
        size_t bar = rest.find(" | ", start);
        c.outcome.push_back(trim(rest.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
        if (bar == std::string::npos) break;
        start = bar + 3;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// A VM object in the requested situation, made directly (no backend).
Object make_vm(const dm::Class& vc, const Case& c) {
  Object o;
  o.ref = "OpaqueRef:case-vm";
  for (const auto& f : vc.fields) o.values.push_back(f.default_value);
  auto set = [&](const char* f, Value v) { o.values[vc.field(f)->index] = std::move(v); };
  set("power_state", Value(c.state));
  if (c.flags == "template") set("is_a_template", Value(true));
  if (c.flags == "default_template") {
    set("is_a_template", Value(true));
    set("is_default_template", Value(true));
  }
  if (c.flags == "snapshot") {
    set("is_a_template", Value(true));
    set("is_a_snapshot", Value(true));
  }
  if (c.flags == "control_domain") set("is_control_domain", Value(true));
  if (c.flags == "crashed") set("crashed", Value(true));
  if (c.flags == "blocked") set("blocked_operations", Value(Map{{Value(c.op), Value("maintenance window")}}));
  if (c.flags.rfind("busy:", 0) == 0)
    set("current_operations", Value(Map{{Value("OpaqueRef:other-task"), Value(c.flags.substr(5))}}));
  return o;
}

class LifecycleTable : public ::testing::TestWithParam<Case> {};

TEST_P(LifecycleTable, CheckGivesTheTabulatedOutcome) {
  const Case& c = GetParam();
  const dm::Class& vc = *dm::Datamodel::standard()->cls("VM");
  Object vm = make_vm(vc, c);
  auto e = lifecycle::check_vm(vc, vm, c.op, true);
  if (c.outcome.empty()) {
    EXPECT_FALSE(e) << "line " << c.line << ": " << (e ? e->what() : "");
    return;
  }
  ASSERT_TRUE(e) << "line " << c.line << " allowed, expected " << c.outcome[0];
  std::vector<std::string> got = e->description();
  EXPECT_EQ(got[0], c.outcome[0]) << "line " << c.line;
  if (c.outcome[0] == "VM_BAD_POWER_STATE") {
    std::vector<std::string> want = {c.outcome[0], vm.ref};
    want.insert(want.end(), c.outcome.begin() + 1, c.outcome.end());
    EXPECT_EQ(got, want) << "line " << c.line;
  }
  if (c.outcome[0] == "VM_IS_TEMPLATE" || c.outcome[0] == "VM_IS_SNAPSHOT") {
    EXPECT_EQ(got, (std::vector<std::string>{c.outcome[0], vm.ref, c.op})) << "line " << c.line;
  }
  if (c.outcome[0] == "VM_CRASHED") {
    EXPECT_EQ(got, (std::vector<std::string>{"VM_CRASHED", vm.ref}));
  }
  if (c.outcome[0] == "OPERATION_BLOCKED") {
    EXPECT_EQ(got, (std::vector<std::string>{"OPERATION_BLOCKED", vm.ref, "maintenance window"}));
  }
  if (c.outcome[0] == "OTHER_OPERATION_IN_PROGRESS") {
    EXPECT_EQ(got, (std::vector<std::string>{"OTHER_OPERATION_IN_PROGRESS", "VM", vm.ref, c.flags.substr(5),
                                             "OpaqueRef:other-task"}));
  }
}

TEST_P(LifecycleTable, AllowedOperationsAgreeWithTheCheck) {
  const Case& c = GetParam();
  const dm::Class& vc = *dm::Datamodel::standard()->cls("VM");
  const lifecycle::VmRule* rule = lifecycle::vm_rule(c.op);
  ASSERT_TRUE(rule) << "line " << c.line << ": unknown operation " << c.op;
  Object vm = make_vm(vc, c);
  Value allowed = lifecycle::vm_allowed_operations(vc, vm);
  bool listed = std::find(allowed.arr().begin(), allowed.arr().end(), Value(c.op)) != allowed.arr().end();
  EXPECT_EQ(listed, rule->listed && c.outcome.empty()) << "line " << c.line;
}

INSTANTIATE_TEST_SUITE_P(Rows, LifecycleTable, ::testing::ValuesIn(load_cases()), [](const auto& i) {
  return i.param.op + "_" + i.param.state + "_" + std::to_string(i.param.line);
});

TEST(LifecycleTableFile, CoversEveryListedOperation) {
  std::set<std::string> covered;
  for (const auto& c : load_cases()) covered.insert(c.op);
  for (const auto& r : lifecycle::vm_rules())
    if (r.listed) {
      EXPECT_TRUE(covered.count(std::string(r.op)) || r.op.rfind("changing_", 0) == 0) << r.op;
    }
}

TEST(LifecycleTableFile, ReadsEveryRow) {
  // A row the parser dropped would silently test nothing.
  std::ifstream in(std::string(XENAPI_TEST_DATA) + "/vm_lifecycle.txt");
  size_t rows = 0;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') ++rows;
  EXPECT_EQ(load_cases().size(), rows);
}

// ---------------------------------------------------------------- VBD, VIF, VDI, SR, host

struct DeviceCase {
  std::string cls, op, state;
  std::vector<std::string> flags;
  std::vector<std::string> outcome;  // empty: allowed
  int line = 0;
  bool has(const std::string& f) const { return std::find(flags.begin(), flags.end(), f) != flags.end(); }
  std::string value_of(const std::string& prefix) const {
    for (const auto& f : flags)
      if (f.rfind(prefix, 0) == 0) return f.substr(prefix.size());
    return "";
  }
};

std::vector<DeviceCase> load_device_cases() {
  std::ifstream in(std::string(XENAPI_TEST_DATA) + "/device_operations.txt");
  std::vector<DeviceCase> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    DeviceCase c;
    c.line = n;
    std::string flags, code;
    ss >> c.cls >> c.op >> c.state >> flags >> code;
    if (flags != "-") {
      std::istringstream fs(flags);
      for (std::string f; std::getline(fs, f, ',');) c.flags.push_back(f);
    }
    if (code != "ok") {
      c.outcome.push_back(code);
      std::string rest;
      std::getline(ss, rest);
      rest = trim(rest);
      size_t start = 0;
      while (!rest.empty() && start <= rest.size()) {
        size_t bar = rest.find(" | ", start);
        c.outcome.push_back(trim(rest.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
        if (bar == std::string::npos) break;
        start = bar + 3;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

Object blank(const dm::Class& c, const std::string& ref) {
  Object o;
  o.ref = ref;
  for (const auto& f : c.fields) o.values.push_back(f.default_value);
  return o;
}

const char* const kTask = "OpaqueRef:other-task";

// What check_<cls> answers for the case, and whether <cls>_allowed_operations lists the op.
struct Verdict {
  std::optional<ApiError> error;
  bool listed = false;
  std::string ref, vm;
};

bool lists(const Value& ops, const std::string& op) {
  return std::find(ops.arr().begin(), ops.arr().end(), Value(op)) != ops.arr().end();
}

Verdict judge(const DeviceCase& c) {
  const dm::Datamodel& m = *dm::Datamodel::standard();
  const dm::Class& cls = *m.cls(c.cls);
  Verdict v;
  v.ref = "OpaqueRef:case-" + c.cls;
  Object o = blank(cls, v.ref);
  auto set = [&](const char* f, Value x) { o.values[cls.field(f)->index] = std::move(x); };
  if (std::string busy = c.value_of("busy:"); !busy.empty())
    set("current_operations", Value(Map{{Value(kTask), Value(busy)}}));
  if (c.cls == "VBD" || c.cls == "VIF") {
    const dm::Class& vc = *m.cls("VM");
    v.vm = "OpaqueRef:case-vm";
    Object vm = blank(vc, v.vm);
    vm.values[vc.field("power_state")->index] = Value(c.state);
    vm.values[vc.field("HVM_boot_policy")->index] = Value(c.has("hvm") ? "BIOS order" : "");
    if (std::string doing = c.value_of("vm_doing:"); !doing.empty())
      vm.values[vc.field("current_operations")->index] = Value(Map{{Value("OpaqueRef:vm-task"), Value(doing)}});
    set("VM", Value(v.vm));
    set("currently_attached", Value(c.has("attached")));
    if (c.cls == "VBD") {
      set("type", Value(c.has("cd") ? "CD" : "Disk"));
      set("empty", Value(c.has("empty")));
      set("unpluggable", Value(!c.has("not_unpluggable")));
      v.error = lifecycle::check_vbd(cls, o, vc, &vm, c.op);
      v.listed = lists(lifecycle::vbd_allowed_operations(cls, o, vc, &vm), c.op);
    } else {
      v.error = lifecycle::check_vif(cls, o, vc, &vm, c.op);
      v.listed = lists(lifecycle::vif_allowed_operations(cls, o, vc, &vm), c.op);
    }
  } else if (c.cls == "VDI") {
    v.error = lifecycle::check_vdi(cls, o, c.has("in_use"), c.op);
    v.listed = lists(lifecycle::vdi_allowed_operations(cls, o, c.has("in_use")), c.op);
  } else if (c.cls == "SR") {
    set("content_path", Value(c.has("no_folder") ? "" : "/srv/sr"));
    v.error = lifecycle::check_sr(cls, o, c.op);
    v.listed = lists(lifecycle::sr_allowed_operations(cls, o), c.op);
  } else if (c.cls == "host") {
    set("enabled", Value(!c.has("disabled")));
    v.error = lifecycle::check_host(cls, o, c.op);
    v.listed = lists(lifecycle::host_allowed_operations(cls, o), c.op);
  }
  return v;
}

bool listed_op(const std::string& cls, const std::string& op) {
  auto find = [&](const auto& rules) {
    for (const auto& r : rules)
      if (r.op == op) return r.listed;
    return false;
  };
  if (cls == "VBD") return find(lifecycle::vbd_rules());
  if (cls == "VIF") return find(lifecycle::vif_rules());
  if (cls == "VDI") return find(lifecycle::vdi_rules());
  if (cls == "SR") return find(lifecycle::sr_rules());
  if (cls == "host") return find(lifecycle::host_rules());
  return false;
}

class DeviceTable : public ::testing::TestWithParam<DeviceCase> {};

TEST_P(DeviceTable, CheckGivesTheTabulatedOutcome) {
  const DeviceCase& c = GetParam();
  Verdict v = judge(c);
  if (c.outcome.empty()) {
    EXPECT_FALSE(v.error) << "line " << c.line << ": " << (v.error ? v.error->what() : "");
    return;
  }
  ASSERT_TRUE(v.error) << "line " << c.line << " allowed, expected " << c.outcome[0];
  const std::vector<std::string> got = v.error->description();
  const std::string& code = c.outcome[0];
  std::vector<std::string> want = {code};
  if (code == "VM_BAD_POWER_STATE") {
    want.push_back(v.vm);
    want.insert(want.end(), c.outcome.begin() + 1, c.outcome.end());
  } else if (code == "OPERATION_NOT_ALLOWED") {
    want.insert(want.end(), c.outcome.begin() + 1, c.outcome.end());
  } else if (code == "OTHER_OPERATION_IN_PROGRESS") {
    want.insert(want.end(), {c.cls, v.ref, c.value_of("busy:"), kTask});
  } else if (code == "VDI_IN_USE") {
    want.insert(want.end(), {v.ref, c.op});
  } else {
    // DEVICE_ALREADY_*, VBD_*, SR_OPERATION_NOT_SUPPORTED, HOST_DISABLED: the object.
    want.push_back(v.ref);
  }
  EXPECT_EQ(got, want) << "line " << c.line;
}

TEST_P(DeviceTable, AllowedOperationsAgreeWithTheCheck) {
  const DeviceCase& c = GetParam();
  Verdict v = judge(c);
  EXPECT_EQ(v.listed, listed_op(c.cls, c.op) && !v.error) << "line " << c.line;
}

INSTANTIATE_TEST_SUITE_P(Rows, DeviceTable, ::testing::ValuesIn(load_device_cases()), [](const auto& i) {
  return i.param.cls + "_" + i.param.op + "_" + std::to_string(i.param.line);
});

TEST(DeviceTableFile, CoversEveryOperationOfEveryTable) {
  std::set<std::string> covered;
  for (const auto& c : load_device_cases()) covered.insert(c.cls + "." + c.op);
  auto expect_all = [&](const std::string& cls, const auto& rules) {
    for (const auto& r : rules) EXPECT_TRUE(covered.count(cls + "." + std::string(r.op))) << cls << "." << r.op;
  };
  expect_all("VBD", lifecycle::vbd_rules());
  expect_all("VIF", lifecycle::vif_rules());
  expect_all("VDI", lifecycle::vdi_rules());
  expect_all("SR", lifecycle::sr_rules());
  expect_all("host", lifecycle::host_rules());
}

TEST(DeviceTableFile, ListedOperationsAreValuesOfTheirEnums) {
  const dm::Datamodel& m = *dm::Datamodel::standard();
  auto values_of = [&](const std::string& enum_name) {
    std::set<std::string> out;
    for (const auto& v : m.enumeration(enum_name)->values) out.insert(v);
    return out;
  };
  auto expect_in = [&](const std::string& enum_name, const auto& rules) {
    std::set<std::string> values = values_of(enum_name);
    for (const auto& r : rules) {
      if (r.listed) {
        EXPECT_TRUE(values.count(std::string(r.op))) << enum_name << " has no " << r.op;
      }
    }
  };
  expect_in("vbd_operations", lifecycle::vbd_rules());
  expect_in("vif_operations", lifecycle::vif_rules());
  expect_in("vdi_operations", lifecycle::vdi_rules());
  expect_in("storage_operations", lifecycle::sr_rules());
  expect_in("host_allowed_operations", lifecycle::host_rules());
  std::set<std::string> vm_ops = values_of("vm_operations");
  for (const auto& r : lifecycle::vm_rules()) EXPECT_TRUE(vm_ops.count(std::string(r.op))) << r.op;
}

}  // namespace
}  // namespace xenapi::testing
