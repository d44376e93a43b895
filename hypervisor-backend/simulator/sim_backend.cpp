// The simulated host, its domains, its guests and its file-based volumes.
#include "hypervisor-backend/simulator/sim_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace xenapi::hv {

namespace {

using Code = Error::Code;

std::string hint_of(const DomainConfig& cfg, const std::string& key) {
  auto it = cfg.hints.find(key);
  return it == cfg.hints.end() ? std::string() : it->second;
}

bool listed(const std::string& csv, const std::string& item) {
  size_t start = 0;
  while (start <= csv.size()) {
    size_t end = csv.find(',', start);
    if (end == std::string::npos) end = csv.size();
    if (csv.compare(start, end - start, item) == 0) return true;
    start = end + 1;
  }
  return false;
}

[[noreturn]] void bad_state(const std::string& uuid, const char* want, PowerState have) {
  throw Error(Code::BadState, std::string("domain ") + uuid + " is " + to_string(have) + ", expected " + want);
}

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  int e = errno;
  throw Error(e == ENOSPC ? Code::StorageFull : Code::Failed, what + " " + path + ": " + std::strerror(e));
}

VolumeInfo stat_volume(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) io_error("cannot stat", path);
  return VolumeInfo{path, static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_blocks) * 512};
}

}  // namespace

const char* to_string(PowerState s) {
  switch (s) {
    case PowerState::Halted: return "halted";
    case PowerState::Running: return "running";
    case PowerState::Paused: return "paused";
    case PowerState::Suspended: return "suspended";
    case PowerState::Crashed: return "crashed";
  }
  return "?";
}

SimBackend::SimBackend(SimConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.hostname.empty()) {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) == 0 && buf[0]) cfg_.hostname = buf;
    else cfg_.hostname = "localhost";
  }
  dom0_memory_ = std::min<int64_t>(4LL << 30, cfg_.memory_bytes / 4);
  restore_state();
  ev_thread_ = std::thread([this] { deliver(); });
}

SimBackend::~SimBackend() {
  {
    std::lock_guard lock(ev_mu_);
    stopping_ = true;
  }
  ev_cv_.notify_all();
  if (ev_thread_.joinable()) ev_thread_.join();
}

HostInfo SimBackend::host_info() {
  HostInfo h;
  h.hostname = cfg_.hostname;
  h.hypervisor = "simulator";
  h.hypervisor_version = "4.17.0";
  h.kernel_version = "6.1.0-sim";
  h.cpu_count = cfg_.cpus;
  h.sockets = 1;
  h.cpu.vendor = "GenuineIntel";
  h.cpu.model_name = "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz";
  h.cpu.family = 6;
  h.cpu.model = 106;
  h.cpu.stepping = "6";
  h.cpu.speed_mhz = 2400;
  h.cpu.flags =
      "fpu de tsc msr pae mce cx8 apic sep mca cmov pat clflush acpi mmx fxsr sse sse2 ht syscall nx lm "
      "constant_tsc rep_good nopl nonstop_tsc cpuid pni pclmulqdq monitor est ssse3 fma cx16 sse4_1 sse4_2 "
      "movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch fsgsbase bmi1 avx2 bmi2 "
      "erms rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1";
  h.cpu.features = "7ffefbff-bfebfbff-00000121-2c100800";
  h.memory_total = cfg_.memory_bytes;
  h.control_domain_memory = dom0_memory_;
  h.control_domain_vcpus = cfg_.cpus < 4 ? cfg_.cpus : 4;
  h.memory_free = free_memory();
  h.capabilities = {"xen-3.0-x86_64", "hvm-3.0-x86_32", "hvm-3.0-x86_32p", "hvm-3.0-x86_64"};
  h.sched_policy = "credit";

  NicInfo nic;
  nic.device = "eth0";
  nic.mac = "52:54:00:12:34:56";
  nic.mtu = 1500;
  nic.speed_mbit = 10000;
  nic.vendor_name = "Intel Corporation";
  nic.device_name = "Ethernet Controller X710 for 10GbE SFP+";
  nic.vendor_id = "8086";
  nic.device_id = "1572";
  nic.pci_bus_path = "0000:01:00.0";
  nic.ip = "192.0.2.10";
  nic.netmask = "255.255.255.0";
  nic.gateway = "192.0.2.1";
  nic.dns = "192.0.2.1";
  h.nics.push_back(nic);

  StorageInfo sr;
  sr.name = "Local storage";
  sr.type = "ext";
  sr.content_type = "user";
  sr.device = "/dev/sda3";
  sr.path = cfg_.storage_dir;
  sr.physical_size = cfg_.local_storage_bytes;
  h.storage.push_back(sr);

  h.bios_strings = {{"bios-vendor", "Simulated"},
                    {"bios-version", "1.0"},
                    {"system-manufacturer", "xenapi-server"},
                    {"system-product-name", "Simulated Host"},
                    {"system-version", "1.0"},
                    {"system-serial-number", "SIM-0001"}};
  return h;
}

int64_t SimBackend::free_memory_locked() const {
  int64_t used = dom0_memory_;
  for (const auto& [uuid, d] : domains_) used += d.memory;
  return cfg_.memory_bytes - used;
}

int64_t SimBackend::free_memory() {
  std::lock_guard lock(mu_);
  return free_memory_locked();
}

SimBackend::Domain& SimBackend::get(const std::string& uuid) {
  auto it = domains_.find(uuid);
  if (it == domains_.end()) throw Error(Code::NoSuchDomain, "no domain " + uuid);
  return it->second;
}

void SimBackend::check_fault(const Domain& d, const std::string& op) {
  if (listed(hint_of(d.cfg, "sim_fail"), op))
    throw Error(Code::Failed, "simulated failure of " + op + " (sim_fail)");
  auto it = faults_.find(op);
  if (it != faults_.end() && it->second > 0) {
    --it->second;
    throw Error(Code::Failed, "simulated failure of " + op + " (injected)");
  }
}

void SimBackend::fail_next(const std::string& op, int count) {
  std::lock_guard lock(mu_);
  faults_[op] += count;
}

DomainInfo SimBackend::describe(const Domain& d) const {
  DomainInfo i;
  i.state = d.state;
  i.domid = d.domid;
  i.memory_actual = d.memory;
  i.memory_target = d.memory;
  i.vcpus = d.vcpus;
  i.started = d.started;
  if (d.state == PowerState::Running || d.state == PowerState::Paused || d.state == PowerState::Crashed) {
    // A lightly loaded guest: vCPU 0 busier than the others, a steady
    // trickle of I/O on every device. Time only counts while it runs.
    const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - d.started_steady).count();
    const double ran = d.state == PowerState::Running ? up - d.stopped_seconds : d.ran_seconds;
    for (int64_t v = 0; v < d.vcpus; ++v) i.vcpu_seconds.push_back(ran * (v == 0 ? 0.03 : 0.01));
    for (const auto& dev : d.disks) {
      DiskStats s;
      s.read_ops = static_cast<int64_t>(ran * 16);
      s.write_ops = static_cast<int64_t>(ran * 8);
      s.read_bytes = s.read_ops * 4096;
      s.write_bytes = s.write_ops * 4096;
      i.disk_read_bytes += s.read_bytes;
      i.disk_write_bytes += s.write_bytes;
      i.disk_stats[dev] = s;
    }
    for (const auto& nic : d.nics) {
      NicStats s;
      s.rx_packets = static_cast<int64_t>(ran * 10);
      s.tx_packets = static_cast<int64_t>(ran * 6);
      s.rx_bytes = s.rx_packets * 1500;
      s.tx_bytes = s.tx_packets * 1500;
      i.net_rx_bytes += s.rx_bytes;
      i.net_tx_bytes += s.tx_bytes;
      i.nic_stats[nic] = s;
    }
  }
  i.attached_disks.assign(d.disks.begin(), d.disks.end());
  i.attached_nics.assign(d.nics.begin(), d.nics.end());
  return i;
}

void SimBackend::freeze(Domain& d) {
  if (d.state != PowerState::Running) return;
  const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - d.started_steady).count();
  d.ran_seconds = up - d.stopped_seconds;
}

void SimBackend::thaw(Domain& d) {
  const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - d.started_steady).count();
  d.stopped_seconds = up - d.ran_seconds;
}

void SimBackend::define(const DomainConfig& cfg) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  auto it = domains_.find(cfg.uuid);
  if (it == domains_.end()) {
    domains_[cfg.uuid].cfg = cfg;
    return;
  }
  if (it->second.state != PowerState::Halted && it->second.state != PowerState::Suspended)
    bad_state(cfg.uuid, "halted or suspended", it->second.state);
  it->second.cfg = cfg;
}

void SimBackend::undefine(const std::string& uuid) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  auto it = domains_.find(uuid);
  if (it == domains_.end()) return;
  if (it->second.state == PowerState::Running || it->second.state == PowerState::Paused)
    bad_state(uuid, "halted", it->second.state);
  domains_.erase(it);
}

void SimBackend::boot(Domain& d, bool paused) {
  // Every vCPU the guest may bring online needs a pCPU, as on Xen without
  // "vcpu-unrestricted".
  const int64_t vcpus = std::max(d.cfg.vcpus_max, d.cfg.vcpus_at_startup);
  if (vcpus > cfg_.cpus)
    throw Error(Code::TooManyVcpus, "the domain wants more vCPUs than the host has", vcpus, cfg_.cpus);
  if (d.cfg.vcpus_at_startup < 1) throw Error(Code::Failed, "a domain needs at least one vCPU");
  int64_t need = d.cfg.memory_dynamic_max > 0 ? d.cfg.memory_dynamic_max : d.cfg.memory_static_max;
  int64_t have = free_memory_locked();
  if (need > have) throw Error(Code::NoMemory, "not enough free host memory", need, have);
  d.memory = need;
  d.vcpus = d.cfg.vcpus_at_startup;
  d.domid = next_domid_++;
  d.state = paused ? PowerState::Paused : PowerState::Running;
  d.started = std::chrono::system_clock::now();
  d.started_steady = std::chrono::steady_clock::now();
  d.ran_seconds = d.stopped_seconds = 0;
  if (paused) freeze(d);
  d.disks.clear();
  d.nics.clear();
  for (const auto& disk : d.cfg.disks) d.disks.insert(disk.device);
  for (const auto& nic : d.cfg.nics) d.nics.insert(nic.device);
}

void SimBackend::stop(Domain& d) {
  d.state = PowerState::Halted;
  d.domid = -1;
  d.memory = 0;
  d.vcpus = 0;
  d.disks.clear();
  d.nics.clear();
}

DomainInfo SimBackend::start(const std::string& uuid, bool paused) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Halted) bad_state(uuid, "halted", d.state);
  check_fault(d, "start");
  boot(d, paused);
  return describe(d);
}

void SimBackend::pause(const std::string& uuid) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
  check_fault(d, "pause");
  freeze(d);
  d.state = PowerState::Paused;
}

void SimBackend::unpause(const std::string& uuid) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  // A crashed domain never runs again (the caller sees BadState).
  if (d.state != PowerState::Paused) bad_state(uuid, "paused", d.state);
  check_fault(d, "unpause");
  thaw(d);
  d.state = PowerState::Running;
}

void SimBackend::shutdown(const std::string& uuid, ShutdownMode mode) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (mode == ShutdownMode::Clean) {
    if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
    std::string guest = hint_of(d.cfg, "sim_guest");
    if (guest == "unresponsive") throw Error(Code::Timeout, "the guest did not shut down in time");
    if (guest == "refuse") throw Error(Code::GuestRefused, "the guest refused to shut down");
  } else if (d.state == PowerState::Halted) {
    bad_state(uuid, "running, paused or suspended", d.state);
  }
  check_fault(d, "shutdown");
  stop(d);
}

DomainInfo SimBackend::reboot(const std::string& uuid, ShutdownMode mode) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (mode == ShutdownMode::Clean) {
    if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
    std::string guest = hint_of(d.cfg, "sim_guest");
    if (guest == "unresponsive") throw Error(Code::Timeout, "the guest did not reboot in time");
    if (guest == "refuse") throw Error(Code::GuestRefused, "the guest refused to reboot");
  } else if (d.state != PowerState::Running && d.state != PowerState::Paused && d.state != PowerState::Crashed) {
    bad_state(uuid, "running, paused or crashed", d.state);
  }
  check_fault(d, "reboot");
  stop(d);
  boot(d, false);
  return describe(d);
}

void SimBackend::suspend(const std::string& uuid, const std::string& image_path) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
  check_fault(d, "suspend");
  stop(d);
  d.state = PowerState::Suspended;
}

DomainInfo SimBackend::resume(const std::string& uuid, const std::string& image_path, bool paused) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  // A halted domain is restored from a saved image as well (a reverted
  // checkpoint), as real hypervisors restore from the image file.
  const PowerState before = d.state;
  if (before != PowerState::Suspended && !(before == PowerState::Halted && !image_path.empty()))
    bad_state(uuid, "suspended", d.state);
  check_fault(d, "resume");
  d.state = PowerState::Halted;
  try {
    boot(d, paused);
  } catch (...) {
    d.state = before;
    throw;
  }
  return describe(d);
}

void SimBackend::destroy(const std::string& uuid) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  auto it = domains_.find(uuid);
  if (it != domains_.end()) stop(it->second);
}

DomainInfo SimBackend::info(const std::string& uuid) {
  std::lock_guard lock(mu_);
  return describe(get(uuid));
}

std::map<std::string, DomainInfo> SimBackend::list() {
  std::lock_guard lock(mu_);
  std::map<std::string, DomainInfo> out;
  for (const auto& [uuid, d] : domains_) out[uuid] = describe(d);
  return out;
}

// Disks and NICs come and go the same way: a running domain, a fault
// check, a guest that may refuse to release one unless forced.
void SimBackend::attach_slot(const std::string& uuid, std::set<std::string> Domain::*slots, const std::string& what,
                             const std::string& device) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
  check_fault(d, "attach");
  if ((d.*slots).count(device)) throw Error(Code::DeviceBusy, what + " " + device + " is attached already");
  (d.*slots).insert(device);
}

void SimBackend::detach_slot(const std::string& uuid, std::set<std::string> Domain::*slots, const std::string& what,
                             const std::string& device, bool force) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
  if (!(d.*slots).count(device)) throw Error(Code::NoSuchDevice, what + " " + device + " is not attached");
  if (!force) {
    check_fault(d, "detach");
    if (hint_of(d.cfg, "sim_guest") == "refuse")
      throw Error(Code::GuestRefused, "the guest refused to release " + what + " " + device);
  }
  (d.*slots).erase(device);
}

void SimBackend::attach_disk(const std::string& uuid, const DiskConfig& disk) {
  attach_slot(uuid, &Domain::disks, "device", disk.device);
}

void SimBackend::detach_disk(const std::string& uuid, const std::string& device, bool force) {
  detach_slot(uuid, &Domain::disks, "device", device, force);
}

void SimBackend::change_media(const std::string& uuid, const std::string& device, const std::string& path) {
  std::lock_guard lock(mu_);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running && d.state != PowerState::Paused) bad_state(uuid, "running or paused", d.state);
}

void SimBackend::attach_nic(const std::string& uuid, const NicConfig& nic) {
  attach_slot(uuid, &Domain::nics, "NIC", nic.device);
}

void SimBackend::detach_nic(const std::string& uuid, const std::string& device, bool force) {
  detach_slot(uuid, &Domain::nics, "NIC", device, force);
}

void SimBackend::send_sysrq(const std::string& uuid, const std::string& key) {
  DomainEvent ev{uuid, DomainEvent::Kind::Halted};
  {
    std::lock_guard lock(mu_);
    SaveOnExit saving(*this);
    Domain& d = get(uuid);
    if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
    if (key == "o") {
      stop(d);
      ev.kind = DomainEvent::Kind::Halted;
    } else if (key == "b") {
      stop(d);
      boot(d, false);
      ev.kind = DomainEvent::Kind::Rebooted;
    } else if (key == "c") {
      freeze(d);
      d.state = PowerState::Crashed;
      ev.kind = DomainEvent::Kind::Crashed;
    } else {
      return;  // other keys do nothing visible
    }
  }
  post(ev);
}

void SimBackend::send_trigger(const std::string& uuid, const std::string& trigger) {
  std::lock_guard lock(mu_);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
  if (trigger != "nmi" && trigger != "init" && trigger != "reset" && trigger != "power" && trigger != "sleep")
    throw Error(Code::Failed, "unknown trigger " + trigger);
}

void SimBackend::set_vcpus(const std::string& uuid, int64_t n) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running) bad_state(uuid, "running", d.state);
  if (n > cfg_.cpus) throw Error(Code::TooManyVcpus, "more vCPUs than the host has", n, cfg_.cpus);
  if (n < 1 || n > d.cfg.vcpus_max) throw Error(Code::Failed, "vCPU count out of range");
  d.vcpus = n;
}

void SimBackend::set_memory_target(const std::string& uuid, int64_t bytes) {
  std::lock_guard lock(mu_);
  SaveOnExit saving(*this);
  Domain& d = get(uuid);
  if (d.state != PowerState::Running && d.state != PowerState::Paused) bad_state(uuid, "running", d.state);
  int64_t have = free_memory_locked() + d.memory;
  if (bytes > have) throw Error(Code::NoMemory, "not enough free host memory", bytes, have);
  d.memory = bytes;
}

// ---------------------------------------------------------------- events

void SimBackend::post(DomainEvent e) {
  {
    std::lock_guard lock(ev_mu_);
    pending_.push_back(std::move(e));
  }
  ev_cv_.notify_all();
}

void SimBackend::deliver() {
  std::unique_lock lock(ev_mu_);
  for (;;) {
    ev_cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    DomainEvent e = std::move(pending_.front());
    pending_.pop_front();
    ++in_flight_;
    lock.unlock();
    emit(e);
    lock.lock();
    --in_flight_;
    ev_cv_.notify_all();
  }
}

void SimBackend::drain_events() {
  std::unique_lock lock(ev_mu_);
  ev_cv_.wait(lock, [&] { return stopping_ || (pending_.empty() && in_flight_ == 0); });
}

// ---------------------------------------------------------------- volumes

VolumeInfo SimBackend::create_volume(const std::string& dir, const std::string& name, int64_t size) {
  if (size < 0) throw Error(Code::Failed, "negative volume size");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) io_error("cannot create", path);
  if (::ftruncate(fd, size) != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    io_error("cannot size", path);
  }
  ::close(fd);
  return stat_volume(path);
}

void SimBackend::delete_volume(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) io_error("cannot delete", path);
}

VolumeInfo SimBackend::resize_volume(const std::string& path, int64_t size) {
  if (::truncate(path.c_str(), size) != 0) io_error("cannot resize", path);
  return stat_volume(path);
}

VolumeInfo SimBackend::copy_volume(const std::string& src, const std::string& dir, const std::string& name) {
  std::string dst = dir + "/" + name;
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) io_error("cannot open", src);
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    ::close(in);
    io_error("cannot create", dst);
  }
  struct stat st;
  ::fstat(in, &st);
  bool ok = ::ftruncate(out, st.st_size) == 0;
  // Copy only the data regions: the copy stays as sparse as the original.
  off_t pos = 0;
  while (ok && pos < st.st_size) {
    off_t data = ::lseek(in, pos, SEEK_DATA);
    if (data < 0) break;  // no more data
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    off_t off_in = data, off_out = data;
    size_t len = static_cast<size_t>(hole - data);
    while (len > 0) {
      ssize_t n = ::copy_file_range(in, &off_in, out, &off_out, len, 0);
      if (n <= 0) {
        ok = false;
        break;
      }
      len -= static_cast<size_t>(n);
    }
    pos = hole;
  }
  ::close(in);
  if (::close(out) != 0) ok = false;
  if (!ok) {
    int e = errno;
    ::unlink(dst.c_str());
    errno = e;
    io_error("cannot copy to", dst);
  }
  return stat_volume(dst);
}

VolumeInfo SimBackend::volume_info(const std::string& path) { return stat_volume(path); }

std::vector<VolumeInfo> SimBackend::list_volumes(const std::string& dir) {
  std::vector<VolumeInfo> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".img") out.push_back(stat_volume(e.path().string()));
  std::sort(out.begin(), out.end(), [](const VolumeInfo& a, const VolumeInfo& b) { return a.path < b.path; });
  return out;
}

}  // namespace xenapi::hv

// ---------------------------------------------------------------- state file

namespace xenapi::hv {

namespace {

using json = nlohmann::json;

json disk_json(const DiskConfig& d) {
  return {{"device", d.device}, {"userdevice", d.userdevice}, {"path", d.path}, {"vdi_uuid", d.vdi_uuid},
          {"cdrom", d.cdrom}, {"read_only", d.read_only}, {"bootable", d.bootable}};
}

DiskConfig disk_from(const json& j) {
  DiskConfig d;
  d.device = j.value("device", "");
  d.userdevice = j.value("userdevice", "");
  d.path = j.value("path", "");
  d.vdi_uuid = j.value("vdi_uuid", "");
  d.cdrom = j.value("cdrom", false);
  d.read_only = j.value("read_only", false);
  d.bootable = j.value("bootable", false);
  return d;
}

json config_json(const DomainConfig& c) {
  json disks = json::array(), nics = json::array();
  for (const auto& d : c.disks) disks.push_back(disk_json(d));
  for (const auto& n : c.nics) nics.push_back({{"device", n.device}, {"mac", n.mac}, {"bridge", n.bridge}, {"mtu", n.mtu}});
  return {{"uuid", c.uuid}, {"name", c.name}, {"vcpus_max", c.vcpus_max}, {"vcpus_at_startup", c.vcpus_at_startup},
          {"memory_static_max", c.memory_static_max}, {"memory_dynamic_max", c.memory_dynamic_max},
          {"memory_dynamic_min", c.memory_dynamic_min}, {"memory_static_min", c.memory_static_min}, {"hvm", c.hvm},
          {"firmware", c.firmware}, {"boot_order", c.boot_order}, {"pv_kernel", c.pv_kernel}, {"pv_ramdisk", c.pv_ramdisk},
          {"pv_args", c.pv_args}, {"pv_bootloader", c.pv_bootloader}, {"platform", c.platform}, {"hints", c.hints},
          {"disks", disks}, {"nics", nics}};
}

DomainConfig config_from(const json& j) {
  DomainConfig c;
  c.uuid = j.value("uuid", "");
  c.name = j.value("name", "");
  c.vcpus_max = j.value("vcpus_max", int64_t{1});
  c.vcpus_at_startup = j.value("vcpus_at_startup", int64_t{1});
  c.memory_static_max = j.value("memory_static_max", int64_t{0});
  c.memory_dynamic_max = j.value("memory_dynamic_max", int64_t{0});
  c.memory_dynamic_min = j.value("memory_dynamic_min", int64_t{0});
  c.memory_static_min = j.value("memory_static_min", int64_t{0});
  c.hvm = j.value("hvm", true);
  c.firmware = j.value("firmware", "bios");
  c.boot_order = j.value("boot_order", "cdn");
  c.pv_kernel = j.value("pv_kernel", "");
  c.pv_ramdisk = j.value("pv_ramdisk", "");
  c.pv_args = j.value("pv_args", "");
  c.pv_bootloader = j.value("pv_bootloader", "");
  c.platform = j.value("platform", std::map<std::string, std::string>{});
  c.hints = j.value("hints", std::map<std::string, std::string>{});
  for (const auto& d : j.value("disks", json::array())) c.disks.push_back(disk_from(d));
  for (const auto& n : j.value("nics", json::array()))
    c.nics.push_back(NicConfig{n.value("device", ""), n.value("mac", ""), n.value("bridge", ""), n.value("mtu", int64_t{1500})});
  return c;
}

}  // namespace

void SimBackend::save() {
  if (cfg_.state_file.empty()) return;
  json doms = json::object();
  for (const auto& [uuid, d] : domains_) {
    doms[uuid] = {{"config", config_json(d.cfg)},
                  {"state", static_cast<int>(d.state)},
                  {"domid", d.domid},
                  {"vcpus", d.vcpus},
                  {"memory", d.memory},
                  {"started", std::chrono::duration_cast<std::chrono::seconds>(d.started.time_since_epoch()).count()},
                  {"disks", std::vector<std::string>(d.disks.begin(), d.disks.end())},
                  {"nics", std::vector<std::string>(d.nics.begin(), d.nics.end())}};
  }
  json all = {{"next_domid", next_domid_}, {"domains", doms}};
  std::string tmp = cfg_.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << all.dump();
    out.flush();
    if (!out) return;  // best effort: the simulated guests are not the system of record
  }
  std::rename(tmp.c_str(), cfg_.state_file.c_str());
}

void SimBackend::restore_state() {
  if (cfg_.state_file.empty()) return;
  std::ifstream in(cfg_.state_file);
  if (!in) return;
  try {
    json all = json::parse(in);
    next_domid_ = all.value("next_domid", int64_t{1});
    json domains = all.value("domains", json::object());
    for (const auto& [uuid, j] : domains.items()) {
      Domain d;
      d.cfg = config_from(j.at("config"));
      d.state = static_cast<PowerState>(j.value("state", 0));
      d.domid = j.value("domid", int64_t{-1});
      d.vcpus = j.value("vcpus", int64_t{0});
      d.memory = j.value("memory", int64_t{0});
      d.started = std::chrono::system_clock::time_point(std::chrono::seconds(j.value("started", int64_t{0})));
      d.started_steady = std::chrono::steady_clock::now();
      for (const auto& x : j.value("disks", std::vector<std::string>{})) d.disks.insert(x);
      for (const auto& x : j.value("nics", std::vector<std::string>{})) d.nics.insert(x);
      domains_[uuid] = std::move(d);
    }
  } catch (const std::exception&) {
    domains_.clear();  // an unreadable file: the host rebooted, in effect
  }
}

}  // namespace xenapi::hv
