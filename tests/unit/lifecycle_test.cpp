// The VM lifecycle rules table (data/vm_lifecycle.txt) run against the
// checks and against allowed_operations, which come from the same table.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
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

}  // namespace
}  // namespace xenapi::testing
