// The simulated host: a fixed, plausible x86-64 server.
#include "hypervisor-backend/simulator/sim_backend.h"

#include <unistd.h>

namespace xenapi::hv {

SimBackend::SimBackend(SimConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.hostname.empty()) {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) == 0 && buf[0]) cfg_.hostname = buf;
    else cfg_.hostname = "localhost";
  }
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
  h.control_domain_memory = 4LL << 30;
  h.control_domain_vcpus = cfg_.cpus < 4 ? cfg_.cpus : 4;
  h.memory_free = h.memory_total - h.control_domain_memory;
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
  sr.physical_size = cfg_.local_storage_bytes;
  sr.physical_utilisation = 0;
  h.storage.push_back(sr);

  h.bios_strings = {{"bios-vendor", "Simulated"},
                    {"bios-version", "1.0"},
                    {"system-manufacturer", "xenapi-server"},
                    {"system-product-name", "Simulated Host"},
                    {"system-version", "1.0"},
                    {"system-serial-number", "SIM-0001"}};
  return h;
}

}  // namespace xenapi::hv
