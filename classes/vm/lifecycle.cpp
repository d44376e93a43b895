// The operations tables (VM, VBD, VIF, VDI, SR, host) and the checks and
// allowed_operations derived from them.
#include "classes/vm/lifecycle.h"

#include <algorithm>
#include <cctype>

#include "classes/storage/storage.h"

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
      // The VM a snapshot is being reverted into (VM.revert guards both).
      {"reverting", {H, R, P, S}, false, false, false, false, false},
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
  // A preserved crashed domain is only there to be looked at or stopped.
  if (op == "unpause" && flag(c, vm, "crashed")) return err::VM_CRASHED(ref);
  return std::nullopt;
}

Value vm_allowed_operations(const dm::Class& c, const Object& vm) {
  Array ops;
  for (const auto& r : vm_rules())
    if (r.listed && !check_vm(c, vm, r.op, true)) ops.emplace_back(std::string(r.op));
  return Value(std::move(ops));
}

// ---------------------------------------------------------------- other classes

namespace {

// The first operation in progress on `o` that `wanted` may not run beside.
std::optional<ApiError> busy(const dm::Class& c, const Object& o, std::string_view wanted,
                             bool (*overlap)(std::string_view running, std::string_view wanted)) {
  for (const auto& [task, running] : o.at(c, "current_operations").map())
    if (!overlap(running.str(), wanted)) return err::OTHER_OPERATION_IN_PROGRESS(c.name, o.ref, running.str(), task.str());
  return std::nullopt;
}

bool never_overlap(std::string_view, std::string_view) { return false; }

std::string expected_states(const std::vector<unsigned>& states) {
  std::string out;
  for (unsigned s : states) out += std::string(out.empty() ? "" : ", ") + name_of(s);
  return out;
}

// A VM operation during which no device may be plugged or unplugged.
const std::string* vm_busy_with(const dm::Class& vc, const Object& vm) {
  for (const auto& [task, op] : vm.at(vc, "current_operations").map()) {
    const std::string& o = op.str();
    if (o == "clean_shutdown" || o == "hard_shutdown" || o == "suspend" || o == "pause") return &o;
  }
  return nullptr;
}

std::optional<ApiError> check_device(const std::vector<DeviceRule>& rules, const dm::Class& dc, const Object& d,
                                     const dm::Class& vc, const Object* vm, std::string_view op, bool vbd) {
  const DeviceRule* rule = nullptr;
  for (const auto& r : rules)
    if (r.op == op) rule = &r;
  if (!rule) return err::OPERATION_NOT_ALLOWED("unknown " + dc.name + " operation " + std::string(op));
  if (auto e = busy(dc, d, op, never_overlap)) return e;
  if (vbd && rule->unpluggable && !d.at(dc, "unpluggable").boolean()) return err::VBD_NOT_UNPLUGGABLE(d.ref);
  const bool cd = vbd && d.at(dc, "type").str() == "CD";
  if (rule->removable && !cd) return err::VBD_NOT_REMOVABLE_MEDIA(d.ref);
  if (rule->media != Media::Any) {
    const bool empty = d.at(dc, "empty").boolean();
    if (rule->media == Media::Empty && !empty) return err::VBD_NOT_EMPTY(d.ref);
    if (rule->media == Media::Loaded && empty) return err::VBD_IS_EMPTY(d.ref);
  }
  const std::string state = vm ? vm->at(vc, "power_state").str() : std::string("Halted");
  unsigned allowed = 0;
  for (unsigned s : rule->states) allowed |= s;
  if (!(allowed & bit_of(state)))
    return err::VM_BAD_POWER_STATE(vm ? vm->ref : std::string(dm::kNullRef), expected_states(rule->states),
                                   state_name(state));
  const bool attached = d.at(dc, "currently_attached").boolean();
  if (rule->attach == Attach::Detached && attached) return err::DEVICE_ALREADY_ATTACHED(d.ref);
  if (rule->attach == Attach::Attached && !attached) return err::DEVICE_ALREADY_DETACHED(d.ref);
  if (rule->vm_busy && vm)
    if (const std::string* doing = vm_busy_with(vc, *vm))
      return err::OPERATION_NOT_ALLOWED("Current operation on VM:" + vm->ref + " is " + *doing);
  if (rule->no_hvm_cd && cd && vm && !vm->at(vc, "HVM_boot_policy").str().empty())
    return err::OPERATION_NOT_ALLOWED("HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected");
  return std::nullopt;
}

Value device_allowed(const std::vector<DeviceRule>& rules, const dm::Class& dc, const Object& d, const dm::Class& vc,
                     const Object* vm, bool vbd) {
  Array ops;
  for (const auto& r : rules)
    if (r.listed && !check_device(rules, dc, d, vc, vm, r.op, vbd)) ops.emplace_back(std::string(r.op));
  return Value(std::move(ops));
}

}  // namespace

const std::vector<DeviceRule>& vbd_rules() {
  using M = Media;
  using A = Attach;
  // op, unpluggable, removable, media, VM states, attach, VM busy, HVM CD, listed
  static const std::vector<DeviceRule> rules = {
      // Advertised while the VM is halted: its drives are attached at start.
      {"attach", false, false, M::Any, {H}, A::Any, false, false, true},
      {"plug", false, false, M::Any, {R}, A::Detached, true, true, true},
      {"unplug", true, false, M::Any, {R}, A::Attached, true, true, true},
      // As xapi: forcing skips the guest, not the rules of the drive.
      {"unplug_force", true, false, M::Any, {R}, A::Attached, false, true, true},
      {"insert", false, true, M::Empty, {H, R, P}, A::Any, false, false, true},
      {"eject", false, true, M::Loaded, {H, R, P}, A::Any, false, false, true},
  };
  return rules;
}

const std::vector<DeviceRule>& vif_rules() {
  using M = Media;
  using A = Attach;
  static const std::vector<DeviceRule> rules = {
      {"attach", false, false, M::Any, {H}, A::Any, false, false, true},
      {"plug", false, false, M::Any, {R}, A::Detached, true, false, true},
      {"unplug", false, false, M::Any, {R}, A::Attached, true, false, true},
      // Not a vif_operations value: checked, never listed.
      {"unplug_force", false, false, M::Any, {R}, A::Attached, false, false, false},
  };
  return rules;
}

std::optional<ApiError> check_vbd(const dm::Class& bc, const Object& vbd, const dm::Class& vc, const Object* vm,
                                  std::string_view op) {
  return check_device(vbd_rules(), bc, vbd, vc, vm, op, true);
}
Value vbd_allowed_operations(const dm::Class& bc, const Object& vbd, const dm::Class& vc, const Object* vm) {
  return device_allowed(vbd_rules(), bc, vbd, vc, vm, true);
}
std::optional<ApiError> check_vif(const dm::Class& fc, const Object& vif, const dm::Class& vc, const Object* vm,
                                  std::string_view op) {
  return check_device(vif_rules(), fc, vif, vc, vm, op, false);
}
Value vif_allowed_operations(const dm::Class& fc, const Object& vif, const dm::Class& vc, const Object* vm) {
  return device_allowed(vif_rules(), fc, vif, vc, vm, false);
}

// ---------------------------------------------------------------- VDI

const std::vector<VdiRule>& vdi_rules() {
  // op, detached, reading, listed
  static const std::vector<VdiRule> rules = {
      {"snapshot", false, true, true}, {"clone", false, true, true},  {"copy", false, true, true},
      {"resize", true, false, true},   {"destroy", true, false, true}, {"forget", true, false, true},
      {"set_on_boot", true, false, true}, {"update", false, true, true},
  };
  return rules;
}

namespace {

const VdiRule* vdi_rule(std::string_view op) {
  for (const auto& r : vdi_rules())
    if (r.op == op) return &r;
  return nullptr;
}

// Readers (snapshot, clone, copy, update) run side by side; anything that
// changes or removes the disk runs alone.
bool vdi_overlap(std::string_view running, std::string_view wanted) {
  const VdiRule* a = vdi_rule(running);
  const VdiRule* b = vdi_rule(wanted);
  return a && b && a->reading && b->reading;
}

}  // namespace

std::optional<ApiError> check_vdi(const dm::Class& c, const Object& vdi, bool in_use, std::string_view op) {
  const VdiRule* rule = vdi_rule(op);
  if (!rule) return err::OPERATION_NOT_ALLOWED("unknown VDI operation " + std::string(op));
  if (auto e = busy(c, vdi, op, vdi_overlap)) return e;
  if (rule->detached && in_use) return err::VDI_IN_USE(vdi.ref, std::string(op));
  return std::nullopt;
}

Value vdi_allowed_operations(const dm::Class& c, const Object& vdi, bool in_use) {
  Array ops;
  for (const auto& r : vdi_rules())
    if (r.listed && !check_vdi(c, vdi, in_use, r.op)) ops.emplace_back(std::string(r.op));
  return Value(std::move(ops));
}

// ---------------------------------------------------------------- SR

const std::vector<SrRule>& sr_rules() {
  // What a file-based SR supports; destroy, forget, probe and introduce
  // are not implemented and so never offered.
  static const std::vector<SrRule> rules = {
      {"scan", true, true},         {"update", false, true},     {"vdi_create", false, true},
      {"vdi_destroy", false, true}, {"vdi_resize", false, true}, {"vdi_clone", false, true},
      {"vdi_snapshot", false, true}, {"vdi_set_on_boot", false, true},
  };
  return rules;
}

namespace {

const SrRule* sr_rule(std::string_view op) {
  for (const auto& r : sr_rules())
    if (r.op == op) return &r;
  return nullptr;
}

bool sr_overlap(std::string_view running, std::string_view wanted) {
  const SrRule* r = sr_rule(wanted);
  return !(r && r->exclusive && running == wanted);
}

}  // namespace

std::optional<ApiError> check_sr(const dm::Class& c, const Object& sr, std::string_view op) {
  if (!sr_rule(op)) return err::SR_OPERATION_NOT_SUPPORTED(sr.ref);
  if (auto e = busy(c, sr, op, sr_overlap)) return e;
  // Only SRs with a folder of volumes are managed here.
  if (sr.at(c, "content_path").str().empty()) return err::SR_OPERATION_NOT_SUPPORTED(sr.ref);
  return std::nullopt;
}

Value sr_allowed_operations(const dm::Class& c, const Object& sr) {
  Array ops;
  for (const auto& r : sr_rules())
    if (r.listed && !check_sr(c, sr, r.op)) ops.emplace_back(std::string(r.op));
  return Value(std::move(ops));
}

// ---------------------------------------------------------------- host

const std::vector<HostRule>& host_rules() {
  // Evacuate, shutdown, reboot, power_on, migration and updates are not
  // implemented and so never offered.
  static const std::vector<HostRule> rules = {
      {"vm_start", true, true},
      {"vm_resume", true, true},
  };
  return rules;
}

std::optional<ApiError> check_host(const dm::Class& c, const Object& host, std::string_view op) {
  const HostRule* rule = nullptr;
  for (const auto& r : host_rules())
    if (r.op == op) rule = &r;
  if (!rule) return err::OPERATION_NOT_ALLOWED("unknown host operation " + std::string(op));
  if (auto e = busy(c, host, op, [](std::string_view, std::string_view) { return true; })) return e;
  if (rule->enabled && !host.at(c, "enabled").boolean()) return err::HOST_DISABLED(host.ref);
  return std::nullopt;
}

Value host_allowed_operations(const dm::Class& c, const Object& host) {
  Array ops;
  for (const auto& r : host_rules())
    if (r.listed && !check_host(c, host, r.op)) ops.emplace_back(std::string(r.op));
  return Value(std::move(ops));
}

// ---------------------------------------------------------------- by class

std::optional<ApiError> check(const View& v, const dm::Class& c, const Object& o, std::string_view op) {
  if (c.name == "VM") return check_vm(c, o, op, true);
  if (c.name == "VBD" || c.name == "VIF") {
    const dm::Class& vc = *v.model().cls("VM");
    ObjectPtr vm = v.get(vc, o.at(c, "VM").str());
    return c.name == "VBD" ? check_vbd(c, o, vc, vm.get(), op) : check_vif(c, o, vc, vm.get(), op);
  }
  if (c.name == "VDI") return check_vdi(c, o, storage::vdi_in_use(v, o.ref), op);
  if (c.name == "SR") return check_sr(c, o, op);
  if (c.name == "host") return check_host(c, o, op);
  return err::OPERATION_NOT_ALLOWED("no operations table for class " + c.name);
}

}  // namespace xenapi::lifecycle
