// After a restart: make the loaded records agree with the hypervisor (a VM
// whose domain still runs stays Running with its domid; one whose domain is
// gone becomes Halted with its devices detached), end the tasks that were
// running when the server stopped, and forget operations that died with it.
#pragma once

#include "classes/api/call.h"

namespace xenapi::vm {

struct ReconcileReport {
  size_t still_running = 0;
  size_t now_halted = 0;
  size_t now_running = 0;
  size_t tasks_failed = 0;
};

ReconcileReport reconcile(Env& env);

}  // namespace xenapi::vm
