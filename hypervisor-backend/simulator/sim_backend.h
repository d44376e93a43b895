// The simulator backend: a deterministic, in-process hypervisor. The default
// for tests and for the quick start; it runs anywhere.
#pragma once

#include <string>

#include "hypervisor-backend/backend.h"

namespace xenapi::hv {

struct SimConfig {
  std::string hostname;           // empty: the machine's host name
  int64_t cpus = 8;
  int64_t memory_bytes = 64LL << 30;
  int64_t local_storage_bytes = 512LL << 30;
};

class SimBackend : public HypervisorBackend {
 public:
  explicit SimBackend(SimConfig cfg = {});
  std::string name() const override { return "sim"; }
  HostInfo host_info() override;

 private:
  SimConfig cfg_;
};

}  // namespace xenapi::hv
