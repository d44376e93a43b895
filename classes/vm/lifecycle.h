// VM lifecycle rules as one table (operation x power state x flags), used
// both to check a call and to compute VM.allowed_operations, the way xapi's
// xapi_vm_lifecycle does. The order of checks is xapi's: blocked operations,
// power state, concurrent operations, templates, snapshots, provision/revert,
// control domain. The same pattern for VBD, VIF, VDI, SR and host below.
#pragma once

#include <cstdint>
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
// applies the rules that depend on other operations in progress. A domain
// that crashed and was kept (actions_after_crash "preserve") shows as
// Paused but cannot run again: unpause answers VM_CRASHED [vm].
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

// ---------------------------------------------------------------- other classes
//
// VBD, VIF, VDI, SR and host operations, one table per class in the same
// form: each row is an operation and the conditions it needs. check_<cls>
// returns the first unmet condition as the error the call answers (nullopt:
// allowed); <cls>_allowed_operations lists, in table order, the listed rows
// that pass. Handlers and the derived allowed_operations both use them.
// Every check starts with current_operations: an operation in progress on
// the object refuses a conflicting one with OTHER_OPERATION_IN_PROGRESS
// [class, ref, running op, task].

enum class Attach : uint8_t { Any, Attached, Detached };
enum class Media : uint8_t { Any, Empty, Loaded };

// VBD and VIF rows; conditions are checked in the order of the fields
// (xapi's order: the device itself, then the VM).
struct DeviceRule {
  std::string_view op;
  bool unpluggable = false;       // needs unpluggable=true: VBD_NOT_UNPLUGGABLE [vbd]
  bool removable = false;         // CD drives only: VBD_NOT_REMOVABLE_MEDIA [vbd]
  Media media = Media::Any;       // VBD_IS_EMPTY / VBD_NOT_EMPTY [vbd]
  std::vector<unsigned> states;   // the VM's power states: VM_BAD_POWER_STATE [vm, expected, actual]
  Attach attach = Attach::Any;    // DEVICE_ALREADY_ATTACHED / DEVICE_ALREADY_DETACHED [device]
  bool vm_busy = false;           // not while the VM shuts down, suspends or pauses: OPERATION_NOT_ALLOWED
  bool no_hvm_cd = false;         // an HVM guest's CD drive is never hot-plugged (only insert/eject):
                                  // OPERATION_NOT_ALLOWED
  bool listed = true;             // appears in allowed_operations (vbd_/vif_operations)
};
const std::vector<DeviceRule>& vbd_rules();
const std::vector<DeviceRule>& vif_rules();

// VDI rows.
struct VdiRule {
  std::string_view op;
  bool detached = false;  // no VBD of the disk attached: VDI_IN_USE [vdi, op]
  bool reading = false;   // reads the disk: may run beside other reading operations
  bool listed = true;
};
const std::vector<VdiRule>& vdi_rules();

// SR rows (storage_operations) of the file-based SRs this server manages.
struct SrRule {
  std::string_view op;
  bool exclusive = false;  // not beside another operation of the same kind (two scans)
  bool listed = true;
};
const std::vector<SrRule>& sr_rules();

// host rows.
struct HostRule {
  std::string_view op;
  bool enabled = false;  // the host accepts new VMs: HOST_DISABLED [host]
  bool listed = true;
};
const std::vector<HostRule>& host_rules();

// `vm` is the device's VM (nullptr: none, as for a dangling reference).
std::optional<ApiError> check_vbd(const dm::Class& vbd_cls, const Object& vbd, const dm::Class& vm_cls,
                                  const Object* vm, std::string_view op);
Value vbd_allowed_operations(const dm::Class& vbd_cls, const Object& vbd, const dm::Class& vm_cls, const Object* vm);
std::optional<ApiError> check_vif(const dm::Class& vif_cls, const Object& vif, const dm::Class& vm_cls,
                                  const Object* vm, std::string_view op);
Value vif_allowed_operations(const dm::Class& vif_cls, const Object& vif, const dm::Class& vm_cls, const Object* vm);
// `in_use`: a VBD of the disk is attached (storage::vdi_in_use).
std::optional<ApiError> check_vdi(const dm::Class& vdi_cls, const Object& vdi, bool in_use, std::string_view op);
Value vdi_allowed_operations(const dm::Class& vdi_cls, const Object& vdi, bool in_use);
std::optional<ApiError> check_sr(const dm::Class& sr_cls, const Object& sr, std::string_view op);
Value sr_allowed_operations(const dm::Class& sr_cls, const Object& sr);
std::optional<ApiError> check_host(const dm::Class& host_cls, const Object& host, std::string_view op);
Value host_allowed_operations(const dm::Class& host_cls, const Object& host);

// Any of the above by class name ("VM", "VBD", "VIF", "VDI", "SR", "host"),
// looking up what the check needs (the device's VM, the disk's VBDs) in `v`.
std::optional<ApiError> check(const View& v, const dm::Class& cls, const Object& o, std::string_view op);

}  // namespace xenapi::lifecycle
