// Backend selection by name.
#include "hypervisor-backend/backend.h"

#include <stdexcept>

#include "hypervisor-backend/simulator/sim_backend.h"

namespace xenapi::hv {

std::unique_ptr<HypervisorBackend> make_backend(const std::string& name, const std::string& uri) {
  if (name == "sim" || name == "simulator") return std::make_unique<SimBackend>();
  throw std::invalid_argument("unknown backend \"" + name + "\" (available: sim)");
}

}  // namespace xenapi::hv
