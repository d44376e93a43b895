// First-start population: the pool, this host and everything a fresh XenAPI
// host has (metrics, CPUs, control domain, local SR, network, templates),
// described from the hypervisor backend's host information.
#pragma once

#include <string>

#include "classes/api/call.h"

namespace xenapi {

// Creates the world if the store has no host yet; returns the host's ref
// either way. Idempotent.
std::string bootstrap_host(Env& env);

}  // namespace xenapi
