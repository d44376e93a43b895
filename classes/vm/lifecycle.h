// VM lifecycle rules as one table (operation x power state x flags), used
// both to check a call and to compute VM.allowed_operations, the way xapi's
// xapi_vm_lifecycle does. The order of checks is xapi's: blocked operations,
// power state, concurrent operations, templates, snapshots, provision/revert,
// control domain.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classes/errors.h"
#include "classes/store/store.h"

namespace xenapi::lifecycle {

enum PowerBit : unsigned {
  kHalted = 1u << 0,
  kPaused = 1u << 1,
  kRunning = 1u << 2,
  kSuspended = 1u << 3,
  kAny = kHalted | kPaused | kRunning | kSuspended,
};

struct VmRule {
  std::string_view op;           // vm_operations value
  std::vector<unsigned> states;  // allowed power states, in the order errors list them
  bool templates = false;        // allowed on (non-snapshot) templates
  bool default_templates = false;  // also on default templates
  bool snapshots = false;        // allowed on snapshots
  bool control_domain = false;   // allowed on the control domain
  bool listed = true;            // appears in allowed_operations
};

// The whole table.
const std::vector<VmRule>& vm_rules();
const VmRule* vm_rule(std::string_view op);

// Why `op` may not run on this VM now, or nullopt if it may. `strict` also
// applies the rules that depend on other operations in progress.
std::optional<ApiError> check_vm(const dm::Class& vm_cls, const Object& vm, std::string_view op, bool strict = true);
// Every listed operation check_vm allows, in table order.
Value vm_allowed_operations(const dm::Class& vm_cls, const Object& vm);

// Whether two operations may run on one VM at the same time (xapi's rules:
// clone/copy overlap, snapshot/checkpoint overlap, hard_shutdown goes with
// anything but itself, hard_reboot unless a hard stop runs, clean
// shutdown/reboot alongside migrate_send).
bool may_overlap(std::string_view running, std::string_view wanted);

// Lower-case state name as used in VM_BAD_POWER_STATE: "halted".
std::string state_name(const std::string& power_state);

// Generic guard for other classes: VBD/VIF/VDI/SR/host operations.
struct DeviceRule {
  std::string_view op;
  unsigned vm_states;  // power states of the owning VM that allow it (VBD/VIF)
};

}  // namespace xenapi::lifecycle
