// The simulator backend: a deterministic, in-process hypervisor with the
// same state rules a real one has (memory and vCPU limits, device slots), a
// model of guest behaviour, plausible live metrics, real file-based volumes,
// and fault injection. The default for tests and for the quick start.
//
// Guest behaviour is steered per VM through hints (the VM's other_config keys
// starting with "sim_"):
//   sim_guest = cooperative (default) | unresponsive (ignores clean shutdown
//               and reboot requests: Timeout) | refuse (GuestRefused)
//   sim_fail  = comma-separated operations that fail (start, pause, unpause,
//               shutdown, reboot, suspend, resume, attach, detach)
// and at run time with sysrq keys, as on a real guest: "o" powers the guest
// off, "b" reboots it, "c" crashes it (reported through the event sink).
//
// Limits as on a real host: a domain starts only if the host has a pCPU for
// each of its VCPUs_max and memory_dynamic_max of free memory (after the
// control domain's share); live vCPU and balloon changes are held to the
// same limits. Metrics: CPU time per vCPU and I/O counters per disk and NIC
// grow while the guest runs and stand still while it is paused.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "hypervisor-backend/backend.h"

namespace xenapi::hv {

struct SimConfig {
  std::string hostname;                // empty: the machine's host name
  std::string storage_dir;             // folder for the local SR's volumes
  // Where the domains are kept across restarts of the server, as a real
  // hypervisor's guests outlive its management daemon (empty: not kept).
  std::string state_file;
  int64_t cpus = 8;
  int64_t memory_bytes = 64LL << 30;
  int64_t local_storage_bytes = 512LL << 30;
};

class SimBackend : public HypervisorBackend {
 public:
  explicit SimBackend(SimConfig cfg = {});
  ~SimBackend() override;

  std::string name() const override { return "sim"; }
  HostInfo host_info() override;
  int64_t free_memory() override;

  void define(const DomainConfig& cfg) override;
  void undefine(const std::string& uuid) override;
  DomainInfo start(const std::string& uuid, bool paused) override;
  void pause(const std::string& uuid) override;
  void unpause(const std::string& uuid) override;
  void shutdown(const std::string& uuid, ShutdownMode mode) override;
  DomainInfo reboot(const std::string& uuid, ShutdownMode mode) override;
  void suspend(const std::string& uuid, const std::string& image_path) override;
  DomainInfo resume(const std::string& uuid, const std::string& image_path, bool paused) override;
  void destroy(const std::string& uuid) override;
  DomainInfo info(const std::string& uuid) override;
  std::map<std::string, DomainInfo> list() override;

  void attach_disk(const std::string& uuid, const DiskConfig& d) override;
  void detach_disk(const std::string& uuid, const std::string& device, bool force) override;
  void change_media(const std::string& uuid, const std::string& device, const std::string& path) override;
  void attach_nic(const std::string& uuid, const NicConfig& n) override;
  void detach_nic(const std::string& uuid, const std::string& device, bool force) override;
  void send_sysrq(const std::string& uuid, const std::string& key) override;
  void send_trigger(const std::string& uuid, const std::string& trigger) override;
  void set_vcpus(const std::string& uuid, int64_t n) override;
  void set_memory_target(const std::string& uuid, int64_t bytes) override;

  VolumeInfo create_volume(const std::string& dir, const std::string& name, int64_t size) override;
  void delete_volume(const std::string& path) override;
  VolumeInfo resize_volume(const std::string& path, int64_t size) override;
  VolumeInfo copy_volume(const std::string& src, const std::string& dir, const std::string& name) override;
  VolumeInfo volume_info(const std::string& path) override;
  std::vector<VolumeInfo> list_volumes(const std::string& dir) override;

  // Fault injection for tests: the next `count` calls of `op` (start,
  // suspend, attach, ...) fail, for any domain.
  void fail_next(const std::string& op, int count = 1);
  // Waits until every reported event has been delivered to the sink.
  void drain_events();

 private:
  struct Domain {
    DomainConfig cfg;
    PowerState state = PowerState::Halted;
    int64_t domid = -1;
    int64_t vcpus = 0;
    int64_t memory = 0;  // reserved while running or paused
    std::chrono::system_clock::time_point started{};
    std::chrono::steady_clock::time_point started_steady{};
    // Seconds of running time: while running, the time since started_steady
    // less stopped_seconds; otherwise frozen in ran_seconds.
    double ran_seconds = 0, stopped_seconds = 0;
    std::set<std::string> disks;  // attached guest devices
    std::set<std::string> nics;   // attached slots
  };

  Domain& get(const std::string& uuid);
  void attach_slot(const std::string& uuid, std::set<std::string> Domain::*slots, const std::string& what,
                   const std::string& device);
  void detach_slot(const std::string& uuid, std::set<std::string> Domain::*slots, const std::string& what,
                   const std::string& device, bool force);
  void check_fault(const Domain& d, const std::string& op);
  DomainInfo describe(const Domain& d) const;
  // The guest stops / starts accumulating CPU time and I/O.
  static void freeze(Domain& d);
  static void thaw(Domain& d);
  int64_t free_memory_locked() const;
  void boot(Domain& d, bool paused);
  void stop(Domain& d);
  void save();  // under mu_
  // Saves the domains when a mutating call leaves (still under mu_).
  struct SaveOnExit {
    SimBackend& b;
    ~SaveOnExit() { b.save(); }
  };
  void restore_state();
  void post(DomainEvent e);
  void deliver();

  SimConfig cfg_;
  mutable std::mutex mu_;
  std::map<std::string, Domain> domains_;
  std::map<std::string, int> faults_;
  int64_t next_domid_ = 1;
  int64_t dom0_memory_;

  // Events go out on their own thread, never under the caller's locks.
  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  std::deque<DomainEvent> pending_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  std::thread ev_thread_;
};

}  // namespace xenapi::hv
