// HypervisorBackend: what the server needs from a hypervisor, as an abstract
// class (one implementation per hypervisor, like a libvirt driver table).
// Nothing here knows about XenAPI records; classes/ translates. Optional
// capabilities throw hv::Error{Code::NotSupported} by default.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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
  std::string path;          // folder holding its volumes (file-based storage)
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

// ---------------------------------------------------------------- domains

struct DiskConfig {
  std::string device;     // guest device name: "xvda", "hdd"
  std::string userdevice; // slot: "0", "3"
  std::string path;       // backing file; empty for an empty CD drive
  std::string vdi_uuid;
  bool cdrom = false;
  bool read_only = false;
  bool bootable = false;
};

struct NicConfig {
  std::string device;  // slot: "0", "1"
  std::string mac;
  std::string bridge;  // host bridge of the network
  int64_t mtu = 1500;
};

struct DomainConfig {
  std::string uuid;  // the VM's uuid: the domain's identity
  std::string name;
  int64_t vcpus_max = 1;
  int64_t vcpus_at_startup = 1;
  int64_t memory_static_max = 0;   // bytes
  int64_t memory_dynamic_max = 0;
  int64_t memory_dynamic_min = 0;
  int64_t memory_static_min = 0;
  bool hvm = true;
  std::string firmware;            // "bios" or "uefi"
  std::string boot_order;          // "cdn"
  std::string pv_kernel, pv_ramdisk, pv_args, pv_bootloader;
  std::map<std::string, std::string> platform;
  // Backend-specific hints (the simulator's "sim_*" keys of other_config).
  std::map<std::string, std::string> hints;
  std::vector<DiskConfig> disks;
  std::vector<NicConfig> nics;
};

// Crashed: the guest crashed and its domain was kept (not running, still
// holding its memory) until it is destroyed or rebooted hard.
enum class PowerState : uint8_t { Halted, Running, Paused, Suspended, Crashed };
const char* to_string(PowerState s);

// I/O counters of one attached disk / NIC since the domain started.
struct DiskStats {
  int64_t read_bytes = 0, write_bytes = 0;
  int64_t read_ops = 0, write_ops = 0;
};
struct NicStats {
  int64_t rx_bytes = 0, tx_bytes = 0;
  int64_t rx_packets = 0, tx_packets = 0;
};

// A domain's state and live metrics.
struct DomainInfo {
  PowerState state = PowerState::Halted;
  int64_t domid = -1;
  int64_t memory_actual = 0;  // bytes the domain holds now
  int64_t memory_target = 0;  // bytes the balloon aims at
  int64_t vcpus = 0;
  std::vector<double> vcpu_seconds;  // CPU time used per vCPU
  std::chrono::system_clock::time_point started{};
  // Totals over the devices below.
  int64_t disk_read_bytes = 0, disk_write_bytes = 0;
  int64_t net_rx_bytes = 0, net_tx_bytes = 0;
  std::map<std::string, DiskStats> disk_stats;  // by guest device name
  std::map<std::string, NicStats> nic_stats;    // by slot
  std::vector<std::string> attached_disks;  // guest device names
  std::vector<std::string> attached_nics;   // slots
};

// A change the backend reports that nobody asked for: a guest that powered
// itself off, rebooted, crashed.
struct DomainEvent {
  enum class Kind : uint8_t { Halted, Rebooted, Crashed, Suspended, Resumed };
  std::string uuid;
  Kind kind;
};

// Failures of backend calls; classes/ maps each code to a XenAPI error.
class Error : public std::runtime_error {
 public:
  enum class Code : uint8_t {
    NotSupported,   // capability missing
    NoSuchDomain,   // unknown uuid
    BadState,       // wrong state for the request (message says which)
    NoMemory,       // not enough free host memory
    TooManyVcpus,   // more vCPUs (VCPUs_max) than the host has pCPUs
    GuestRefused,   // the guest did not cooperate (clean shutdown/reboot, unplug)
    Timeout,        // the guest did not answer in time
    NoSuchDevice,   // attach/detach of an unknown device
    DeviceBusy,     // device already attached
    StorageFull,    // not enough space for a volume
    Failed,         // anything else
  };
  Error(Code c, const std::string& what, int64_t needed = 0, int64_t available = 0)
      : std::runtime_error(what), code(c), needed(needed), available(available) {}
  Code code;
  int64_t needed;     // NoMemory / StorageFull / TooManyVcpus
  int64_t available;
};

enum class ShutdownMode : uint8_t { Clean, Hard };

struct VolumeInfo {
  std::string path;
  int64_t virtual_size = 0;
  int64_t physical_utilisation = 0;
};

// Every call may throw Error; classes/vm/runtime.cpp (backend_error) is the
// one place that says what each code means to a XenAPI client.
class HypervisorBackend {
 public:
  virtual ~HypervisorBackend() = default;
  // "sim", "libvirt", ...
  virtual std::string name() const = 0;
  // Describes the physical host; called at start-up and when refreshing.
  virtual HostInfo host_info() = 0;
  // Free host memory for guests right now (bytes).
  virtual int64_t free_memory() = 0;

  // Domains, identified by the VM's uuid. define() is idempotent: it
  // replaces the configuration of a halted domain.
  virtual void define(const DomainConfig& cfg) = 0;
  virtual void undefine(const std::string& uuid) = 0;
  // Boots a halted domain (paused: before its first instruction). NoMemory,
  // TooManyVcpus when the host cannot hold it.
  virtual DomainInfo start(const std::string& uuid, bool paused) = 0;
  virtual void pause(const std::string& uuid) = 0;
  virtual void unpause(const std::string& uuid) = 0;
  // Clean: asks the guest (GuestRefused, Timeout); hard: stops it.
  virtual void shutdown(const std::string& uuid, ShutdownMode mode) = 0;
  // Clean: asks the guest; hard: also from Paused and Crashed. A new domain.
  virtual DomainInfo reboot(const std::string& uuid, ShutdownMode mode) = 0;
  // Saves the memory of a running domain to `image_path` and stops it.
  virtual void suspend(const std::string& uuid, const std::string& image_path) = 0;
  virtual DomainInfo resume(const std::string& uuid, const std::string& image_path, bool paused) = 0;
  // Hard stop of whatever state (no-op for an unknown or halted domain).
  virtual void destroy(const std::string& uuid) = 0;
  // State and live metrics (NoSuchDomain for an unknown uuid).
  virtual DomainInfo info(const std::string& uuid) = 0;
  // Every domain the backend knows with its state (reconciliation).
  virtual std::map<std::string, DomainInfo> list() = 0;

  // Hot-plug on a running domain.
  virtual void attach_disk(const std::string& uuid, const DiskConfig& d) {
    throw Error(Error::Code::NotSupported, "disk hot-plug is not supported by this backend");
  }
  virtual void detach_disk(const std::string& uuid, const std::string& device, bool force) {
    throw Error(Error::Code::NotSupported, "disk hot-unplug is not supported by this backend");
  }
  virtual void change_media(const std::string& uuid, const std::string& device, const std::string& path) {
    throw Error(Error::Code::NotSupported, "changing removable media is not supported by this backend");
  }
  virtual void attach_nic(const std::string& uuid, const NicConfig& n) {
    throw Error(Error::Code::NotSupported, "NIC hot-plug is not supported by this backend");
  }
  virtual void detach_nic(const std::string& uuid, const std::string& device, bool force) {
    throw Error(Error::Code::NotSupported, "NIC hot-unplug is not supported by this backend");
  }
  virtual void send_sysrq(const std::string& uuid, const std::string& key) {
    throw Error(Error::Code::NotSupported, "sysrq is not supported by this backend");
  }
  virtual void send_trigger(const std::string& uuid, const std::string& trigger) {
    throw Error(Error::Code::NotSupported, "triggers are not supported by this backend");
  }
  virtual void set_vcpus(const std::string& uuid, int64_t n) {
    throw Error(Error::Code::NotSupported, "changing vCPUs live is not supported by this backend");
  }
  virtual void set_memory_target(const std::string& uuid, int64_t bytes) {
    throw Error(Error::Code::NotSupported, "ballooning is not supported by this backend");
  }

  // File-based volumes in a storage folder (StorageInfo::path).
  virtual VolumeInfo create_volume(const std::string& dir, const std::string& name, int64_t size) = 0;
  virtual void delete_volume(const std::string& path) = 0;
  virtual VolumeInfo resize_volume(const std::string& path, int64_t size) = 0;
  // A new volume with the contents of `src` (full copy, sparse where possible).
  virtual VolumeInfo copy_volume(const std::string& src, const std::string& dir, const std::string& name) = 0;
  virtual VolumeInfo volume_info(const std::string& path) = 0;
  // Volumes present in a storage folder (SR.scan).
  virtual std::vector<VolumeInfo> list_volumes(const std::string& dir) = 0;

  // Reports changes the backend did not cause. Set once before any domain runs.
  void set_event_sink(std::function<void(const DomainEvent&)> sink) { sink_ = std::move(sink); }

 protected:
  void emit(const DomainEvent& e) {
    if (sink_) sink_(e);
  }

 private:
  std::function<void(const DomainEvent&)> sink_;
};

struct BackendOptions {
  std::string uri;        // backend connection URI (libvirt)
  std::string state_dir;  // where file-based storage lives
  std::string hostname;   // override the reported host name
};

// Creates a backend by name ("sim"). Throws std::invalid_argument for an
// unknown name.
std::unique_ptr<HypervisorBackend> make_backend(const std::string& name, const BackendOptions& opts);

}  // namespace xenapi::hv
