// Backend selection by name.
#include "hypervisor-backend/backend.h"

#include <stdexcept>

#include "hypervisor-backend/simulator/sim_backend.h"

namespace xenapi::hv {

std::unique_ptr<HypervisorBackend> make_backend(const std::string& name, const BackendOptions& opts) {
  if (name == "sim" || name == "simulator") {
    SimConfig cfg;
    cfg.hostname = opts.hostname;
    cfg.storage_dir = opts.state_dir.empty() ? std::string() : opts.state_dir + "/sr-local";
    cfg.state_file = opts.state_dir.empty() ? std::string() : opts.state_dir + "/sim-domains.json";
    return std::make_unique<SimBackend>(cfg);
  }
  throw std::invalid_argument("unknown backend \"" + name + "\" (available: sim)");
}

}  // namespace xenapi::hv
