// The VM operations table and the checks derived from it.
#include "classes/vm/lifecycle.h"

#include <algorithm>
#include <cctype>

namespace xenapi::lifecycle {

namespace {

constexpr unsigned H = kHalted, P = kPaused, R = kRunning, S = kSuspended;

unsigned bit_of(const std::string& state) {
  if (state == "Halted") return H;
  if (state == "Paused") return P;
  if (state == "Running") return R;
  if (state == "Suspended") return S;
  return 0;
}

const char* name_of(unsigned bit) {
  switch (bit) {
    case H: return "halted";
    case P: return "paused";
    case R: return "running";
    case S: return "suspended";
  }
  return "?";
}

bool flag(const dm::Class& c, const Object& o, const char* f) { return o.at(c, f).boolean(); }

}  // namespace

const std::vector<VmRule>& vm_rules() {
  // op, states, templates, default templates, snapshots, control domain, listed
  static const std::vector<VmRule> rules = {
      {"snapshot", {H, R, P, S}, false, false, false, false, true},
      {"clone", {H, S}, true, true, true, false, true},
      {"copy", {H, S}, true, true, true, false, true},
      {"revert", {H, R, P, S}, false, false, true, false, true},
      {"checkpoint", {R, P, S}, false, false, false, false, true},
      {"provision", {H}, true, true, false, false, true},
      {"start", {H}, false, false, false, false, true},
      {"start_on", {H}, false, false, false, false, true},
      {"pause", {R}, false, false, false, false, true},
      {"unpause", {P}, false, false, false, false, true},
      {"clean_shutdown", {R}, false, false, false, false, true},
      {"clean_reboot", {R}, false, false, false, false, true},
      {"hard_shutdown", {R, P, S}, false, false, true, false, true},
      {"power_state_reset", {H, R, P, S}, false, false, true, false, false},
      {"hard_reboot", {R, P}, false, false, false, false, true},
      {"suspend", {R}, false, false, false, false, true},
      {"resume", {S}, false, false, false, false, true},
      {"resume_on", {S}, false, false, false, false, true},
      {"send_sysrq", {R}, false, false, false, false, false},
      {"send_trigger", {R}, false, false, false, false, false},
      {"shutdown", {R, P, S}, false, false, false, false, false},
      {"changing_dynamic_range", {H, R}, true, true, false, true, true},
      {"changing_static_range", {H}, true, true, false, false, true},
      {"changing_memory_limits", {H}, true, true, false, false, false},
      {"changing_shadow_memory", {H}, true, true, false, false, true},
      {"changing_VCPUs", {H}, true, true, false, false, false},
      {"changing_VCPUs_live", {R}, false, false, false, true, true},
      {"changing_NVRAM", {H}, true, true, false, false, true},
      {"make_into_template", {H}, false, false, false, false, true},
      {"destroy", {H, S}, true, false, true, false, true},
      {"get_boot_record", {R, P, S}, false, false, false, true, false},
      {"assert_operation_valid", {H, R, P, S}, true, true, true, true, false},
      {"update_allowed_operations", {H, R, P, S}, true, true, true, true, false},
      {"data_source_op", {R, P}, false, false, false, true, false},
  };
  return rules;
}

const VmRule* vm_rule(std::string_view op) {
  for (const auto& r : vm_rules())
    if (r.op == op) return &r;
  return nullptr;
}

std::string state_name(const std::string& power_state) {
  std::string s = power_state;
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool may_overlap(std::string_view running, std::string_view wanted) {
  auto in = [](std::string_view x, std::initializer_list<std::string_view> set) {
    return std::find(set.begin(), set.end(), x) != set.end();
  };
  if (wanted == "hard_shutdown") return running != "hard_shutdown";
  if (running == "hard_shutdown") return false;
  if (wanted == "hard_reboot") return !in(running, {"hard_shutdown", "hard_reboot"});
  if (in(running, {"clone", "copy", "export"}) && in(wanted, {"clone", "copy", "export"})) return true;
  if (in(running, {"snapshot", "checkpoint"}) && in(wanted, {"snapshot", "checkpoint"})) return true;
  if (running == "migrate_send" && in(wanted, {"clean_shutdown", "clean_reboot", "metadata_export"})) return true;
  if (in(running, {"update_allowed_operations", "assert_operation_valid", "data_source_op"})) return true;
  if (in(wanted, {"update_allowed_operations", "assert_operation_valid", "data_source_op", "get_boot_record"}))
    return true;
  return false;
}

std::optional<ApiError> check_vm(const dm::Class& c, const Object& vm, std::string_view op, bool strict) {
  const VmRule* rule = vm_rule(op);
  if (!rule) return err::OPERATION_NOT_ALLOWED("unknown VM operation " + std::string(op));
  const std::string& ref = vm.ref;

  if (const Value* reason = vm.at(c, "blocked_operations").find(op))
    return err::OPERATION_BLOCKED(ref, reason->str());

  const std::string& state = vm.at(c, "power_state").str();
  const bool snapshot = flag(c, vm, "is_a_snapshot");
  unsigned allowed = 0;
  for (unsigned s : rule->states) allowed |= s;
  // A suspended VM can only be cloned or copied when it is a snapshot.
  if ((op == "clone" || op == "copy") && !snapshot) allowed &= ~S;
  if (!(allowed & bit_of(state))) {
    std::string expected;
    for (unsigned s : rule->states) {
      if (!(allowed & s)) continue;
      expected += std::string(expected.empty() ? "" : ", ") + name_of(s);
    }
    return err::VM_BAD_POWER_STATE(ref, expected, state_name(state));
  }

  if (strict) {
    for (const auto& [task, running] : vm.at(c, "current_operations").map())
      if (!may_overlap(running.str(), op)) return err::OTHER_OPERATION_IN_PROGRESS("VM", ref, running.str(), task.str());
  }

  const bool tmpl = flag(c, vm, "is_a_template");
  if (tmpl && !snapshot) {
    const bool is_default = flag(c, vm, "is_default_template");
    if (!rule->templates || (is_default && !rule->default_templates)) return err::VM_IS_TEMPLATE(ref, op);
  }
  if (snapshot && !rule->snapshots) return err::VM_IS_SNAPSHOT(ref, op);
  if (op == "provision" && !tmpl) return err::PROVISION_ONLY_ALLOWED_ON_TEMPLATE();
  if (op == "revert" && !snapshot) return err::REVERT_ONLY_ALLOWED_ON_SNAPSHOT();
  if (flag(c, vm, "is_control_domain") && !rule->control_domain)
    return err::OPERATION_NOT_ALLOWED("This operation (" + std::string(op) + ") is not allowed on the control domain");
  return std::nullopt;
}

Value vm_allowed_operations(const dm::Class& c, const Object& vm) {
  Array ops;
  for (const auto& r : vm_rules())
    if (r.listed && !check_vm(c, vm, r.op, true)) ops.emplace_back(std::string(r.op));
  return Value(std::move(ops));
}

}  // namespace xenapi::lifecycle
