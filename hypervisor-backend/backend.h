// HypervisorBackend: what the server needs from a hypervisor, as an abstract
// class (one implementation per hypervisor, like a libvirt driver table).
// Nothing here knows about XenAPI records; classes/ translates.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace xenapi::hv {

struct CpuInfo {
  std::string vendor;      // "GenuineIntel"
  std::string model_name;  // "Intel(R) Xeon(R) ..."
  int64_t family = 0;
  int64_t model = 0;
  std::string stepping;
  int64_t speed_mhz = 0;
  std::string flags;       // space-separated feature names
  std::string features;    // hex feature words, "1fc9cbf5-f6f83203-..."
};

struct NicInfo {
  std::string device;  // "eth0"
  std::string mac;
  int64_t mtu = 1500;
  int64_t speed_mbit = 0;
  std::string vendor_name, device_name, vendor_id, device_id, pci_bus_path;
  std::string ip, netmask, gateway, dns;  // management configuration, if any
};

struct StorageInfo {
  std::string name;          // "Local storage"
  std::string type;          // SR type, e.g. "ext"
  std::string content_type;  // "user"
  std::string device;        // backing device or path
  int64_t physical_size = 0;
  int64_t physical_utilisation = 0;
};

struct HostInfo {
  std::string hostname;
  std::string uuid;                   // stable host identity, if the backend has one
  std::string hypervisor;             // "simulator", "qemu", "xen"
  std::string hypervisor_version;     // "4.17.0"
  std::string kernel_version;         // control domain kernel
  int64_t cpu_count = 0;
  int64_t sockets = 1;
  CpuInfo cpu;
  int64_t memory_total = 0;           // bytes
  int64_t memory_free = 0;            // bytes
  int64_t control_domain_memory = 0;  // bytes
  int64_t control_domain_vcpus = 0;
  std::vector<std::string> capabilities;  // "hvm-3.0-x86_64", ...
  std::string sched_policy;               // "credit"
  std::vector<NicInfo> nics;
  std::vector<StorageInfo> storage;
  std::vector<std::pair<std::string, std::string>> bios_strings;
};

// Thrown for a capability the backend does not have.
class NotSupported : public std::runtime_error {
 public:
  explicit NotSupported(const std::string& what) : std::runtime_error(what) {}
};

class HypervisorBackend {
 public:
  virtual ~HypervisorBackend() = default;
  // "sim", "libvirt", ...
  virtual std::string name() const = 0;
  // Describes the physical host; called at start-up and when refreshing.
  virtual HostInfo host_info() = 0;
};

// Creates a backend by name ("sim"). Throws std::invalid_argument for an
// unknown name.
std::unique_ptr<HypervisorBackend> make_backend(const std::string& name, const std::string& uri);

}  // namespace xenapi::hv
