// The bridge between VM records and backend domains: the domain a VM
// describes, the record changes when a domain starts or stops, the mapping of
// backend failures to XenAPI errors (one place), and the guard that puts an
// operation in current_operations for as long as it runs.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "classes/api/call.h"
#include "hypervisor-backend/backend.h"

namespace xenapi::vm {

// What a backend failure means to a XenAPI client, for an operation on `ref`
// (a VM, or the device `device_class` `ref`).
ApiError backend_error(const hv::Error& e, const std::string& ref, const std::string& device_class = "VM");

// Runs f, translating backend failures.
template <typename F>
auto backend_call(const std::string& ref, F&& f, const std::string& device_class = "VM") {
  try {
    return f();
  } catch (const hv::Error& e) {
    throw backend_error(e, ref, device_class);
  }
}

// The guest device name of a VBD slot: "0" -> "xvda", "3" -> "xvdd".
std::string guest_device(const std::string& userdevice);

// Whether a VBD's disk can be attached now: HANDLE_INVALID for a dangling
// VDI, VDI_MISSING [sr, vdi] for a vanished volume, VDI_IN_USE [vdi,
// "attach"] for a writable unsharable disk attached through another VBD.
void assert_attachable(const View& v, const std::string& vbd);

// The domain configuration of a VM (its VBDs, VDIs, VIFs and networks).
// Throws VM_DUPLICATE_VBD_DEVICE, or assert_attachable's errors.
hv::DomainConfig domain_config(const View& v, const std::string& vm);

// Record changes after a domain started/resumed/rebooted: power state,
// domid, resident_on, metrics, devices attached.
void mark_running(Txn& t, Env& env, const std::string& vm, const hv::DomainInfo& info);
// After the domain stopped: Halted (or Suspended), devices detached, metrics.
void mark_stopped(Txn& t, Env& env, const std::string& vm, const std::string& power_state = "Halted");
// Refreshes host_metrics (free memory) from the backend's numbers.
void refresh_host_memory(Txn& t, Env& env, int64_t free_memory);

// Puts {key: op} in an object's current_operations after checking the
// class's operations table (lifecycle::check), and takes it out again when
// destroyed: conflicting calls meanwhile get OTHER_OPERATION_IN_PROGRESS
// [class, ref, op, key] and allowed_operations reflects the operation.
// The key is the call's task ref (or a fresh id for a synchronous call).
class Operation {
 public:
  // On a VM.
  Operation(Call& call, const std::string& vm, const std::string& op);
  // On an object of `cls` ("VM", "VBD", "VIF", "VDI", "SR", "host").
  Operation(Call& call, const char* cls, const std::string& ref, const std::string& op);
  ~Operation();
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;
  // Ends the operation now, inside the caller's transaction.
  void end(Txn& t);

 private:
  Call& call_;
  const dm::Class& cls_;
  std::string ref_;
  std::string key_;
  bool ended_ = false;
};

// Recomputes allowed_operations of a VM and its VBDs and VIFs.
void derive_vm(Txn& t, const std::string& vm);
// ... of one VBD / VIF (from its own state and its VM's).
void derive_vbd(Txn& t, const std::string& vbd);
void derive_vif(Txn& t, const std::string& vif);
// ... of an SR / a host.
void derive_sr(Txn& t, const std::string& sr);
void derive_host(Txn& t, const std::string& host);

// After a domain crashed and was kept (actions_after_crash "preserve"): the
// VM shows as Paused, holds its memory, and cannot run again.
void mark_crashed(Txn& t, Env& env, const std::string& vm);

}  // namespace xenapi::vm
