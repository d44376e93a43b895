// Changes the hypervisor reports on its own (a guest that powered itself
// off, rebooted or crashed), applied to the records with the VM's
// actions_after_shutdown / _reboot / _crash.
#pragma once

#include "classes/api/call.h"

namespace xenapi::vm {

// Routes the backend's domain events to the store. Call once at start-up.
void install_backend_events(Env& env);

// Applies one event (also used directly by tests).
void apply_domain_event(Env& env, const hv::DomainEvent& e);

}  // namespace xenapi::vm
