// This host: the objects of a freshly installed host built from HostInfo,
// and the host messages (free memory, enable/disable) with the host
// operations table behind its allowed_operations.
#include "classes/host/bootstrap.h"

#include <ctime>
#include <initializer_list>

#include "classes/api/handlers.h"
#include "classes/errors.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

using Fields = std::initializer_list<std::pair<const char*, Value>>;

Value smap(std::initializer_list<std::pair<std::string, std::string>> kv) {
  Map m;
  for (const auto& [k, v] : kv) m.emplace_back(Value(k), Value(v));
  return Value(std::move(m));
}

Value strings(const std::vector<std::string>& xs) {
  Array a;
  for (const auto& x : xs) a.emplace_back(x);
  return Value(std::move(a));
}

DateTime now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

class Builder {
 public:
  Builder(Store& s, Txn& t) : s_(s), t_(t) {}

  std::string make(const char* cls, Fields fields) {
    const dm::Class& c = s_.cls(cls);
    std::vector<Value> v = s_.defaults(c);
    for (const auto& [name, value] : fields) {
      const dm::Field* f = c.field(name);
      if (!f) throw std::logic_error(std::string("bootstrap: no field ") + name + " in " + cls);
      v[f->index] = value;
    }
    return t_.create(c, std::move(v));
  }
  void set(const char* cls, const std::string& ref, const char* field, Value v) {
    t_.set(s_.cls(cls), ref, field, std::move(v));
  }

 private:
  Store& s_;
  Txn& t_;
};

struct TemplateSpec {
  const char* name;
  const char* reference_label;
  const char* description;
  int64_t min_memory_mib;
  int64_t disk_gib;  // 0: no disk to provision
  bool linux_guest;
  bool uefi;
  const char* install_methods;
  const char* viridian;
  int64_t max_vcpus;
};

constexpr TemplateSpec kTemplates[] = {
    {"Other install media", "other-install-media",
     "Template which allows VM installation from install media", 128, 0, false, false, "cdrom", "true", 32},
    {"Debian Bookworm 12", "debian-12",
     "To use this template from the CLI, install your VM using vm-install, then set "
     "other-config-install-repository to the path to your network repository, e.g. http://<server>/<path> or "
     "nfs:server:/<path>",
     1024, 10, true, true, "cdrom,nfs,http,ftp", "false", 32},
    {"Ubuntu Jammy Jellyfish 22.04", "ubuntu-22.04",
     "To use this template from the CLI, install your VM using vm-install, then set "
     "other-config-install-repository to the path to your network repository, e.g. http://<server>/<path> or "
     "nfs:server:/<path>",
     1024, 10, true, false, "cdrom,nfs,http,ftp", "false", 32},
    {"Rocky Linux 9", "rocky-9", "Template that allows VM installation from Rocky Linux 9 install media", 1024, 10,
     true, true, "cdrom,nfs,http,ftp", "false", 32},
    {"Alpine Linux 3.19", "alpine-3.19", "Template that allows VM installation from Alpine Linux install media", 256,
     4, true, false, "cdrom", "false", 16},
    {"Windows 10 (64-bit)", "windows-10-64",
     "Clones of this template will automatically provision their storage when first booted and then reconfigure "
     "themselves with the optimal settings for Windows 10 (64-bit).",
     2048, 32, false, true, "cdrom", "true", 16},
    {"Windows Server 2022 (64-bit)", "windows-server-2022-64",
     "Clones of this template will automatically provision their storage when first booted and then reconfigure "
     "themselves with the optimal settings for Windows Server 2022 (64-bit).",
     2048, 32, false, true, "cdrom", "true", 64},
};

std::string recommendations(const TemplateSpec& t) {
  std::string r = "<restrictions><restriction field=\"memory-static-max\" max=\"137438953472\"/>";
  r += "<restriction field=\"vcpus-max\" max=\"" + std::to_string(t.max_vcpus) + "\"/>";
  r += "<restriction field=\"has-vendor-device\" value=\"false\"/>";
  if (t.uefi) r += "<restriction field=\"supports-uefi\" value=\"yes\"/>";
  r += "<restriction property=\"number-of-vbds\" max=\"255\"/>";
  r += "<restriction property=\"number-of-vifs\" max=\"7\"/></restrictions>";
  return r;
}

void make_template(Builder& b, IdSource& ids, const TemplateSpec& t) {
  const int64_t min = t.min_memory_mib << 20;
  Map other;
  other.emplace_back(Value("default_template"), Value("true"));
  other.emplace_back(Value("install-methods"), Value(t.install_methods));
  other.emplace_back(Value("mac_seed"), Value(ids.uuid()));
  if (t.linux_guest) other.emplace_back(Value("linux_template"), Value("true"));
  if (t.disk_gib > 0) {
    other.emplace_back(Value("disks"), Value("<provision><disk size=\"" + std::to_string(t.disk_gib << 30) +
                                             "\" sr=\"\" bootable=\"true\" type=\"system\" device=\"0\"/></provision>"));
  }
  Value boot = t.uefi ? smap({{"firmware", "uefi"}, {"order", "cdn"}})
                      : smap({{"order", t.disk_gib > 0 ? "cdn" : "dc"}});
  Value platform = smap({{"nx", "true"},
                         {"acpi", "1"},
                         {"apic", "true"},
                         {"pae", "true"},
                         {"hpet", "true"},
                         {"viridian", t.viridian},
                         {"vga", "std"},
                         {"videoram", "8"},
                         {"device_id", "0001"},
                         {"secureboot", t.uefi ? "auto" : "false"}});
  std::string metrics = b.make("VM_metrics", {{"memory_actual", int64_t{0}}, {"VCPUs_number", int64_t{0}}});
  b.make("VM", {{"name_label", t.name},
                {"name_description", t.description},
                {"power_state", "Halted"},
                {"user_version", int64_t{1}},
                {"is_a_template", true},
                {"is_default_template", true},
                {"memory_static_min", min},
                {"memory_static_max", 2 * min},
                {"memory_dynamic_min", 2 * min},
                {"memory_dynamic_max", 2 * min},
                {"VCPUs_max", int64_t{1}},
                {"VCPUs_at_startup", int64_t{1}},
                {"VCPUs_params", Value::empty_map()},
                {"actions_after_shutdown", "destroy"},
                {"actions_after_reboot", "restart"},
                {"actions_after_crash", "restart"},
                {"HVM_boot_policy", "BIOS order"},
                {"HVM_boot_params", boot},
                {"platform", platform},
                {"other_config", Value(std::move(other))},
                {"recommendations", recommendations(t)},
                {"reference_label", t.reference_label},
                {"domain_type", "hvm"},
                {"domid", int64_t{-1}},
                {"metrics", metrics}});
}

}  // namespace

std::string bootstrap_host(Env& env) {
  Store& store = env.store;
  const dm::Class& host_cls = store.cls("host");
  std::string existing = store.read([&](const View& v) {
    auto hosts = v.all(host_cls);
    return hosts.empty() ? std::string() : hosts.front()->ref;
  });
  if (!existing.empty()) return existing;

  hv::HostInfo info = env.backend.host_info();
  const ProductInfo& p = env.product;
  const std::string api = std::to_string(p.api_major) + "." + std::to_string(p.api_minor);
  const std::string address = !env.address.empty() ? env.address
                              : !info.nics.empty() ? info.nics.front().ip
                                                   : std::string("127.0.0.1");

  return store.write([&](Txn& t) {
    Builder b(store, t);
    const DateTime started = now();

    std::string metrics = b.make("host_metrics", {{"memory_total", info.memory_total},
                                                  {"memory_free", info.memory_free},
                                                  {"live", true},
                                                  {"last_updated", started}});
    Map bios;
    for (const auto& [k, v] : info.bios_strings) bios.emplace_back(Value(k), Value(v));
    std::string host = b.make(
        "host",
        {{"name_label", info.hostname},
         {"name_description", "Default install"},
         {"hostname", info.hostname},
         {"address", address},
         {"API_version_major", p.api_major},
         {"API_version_minor", p.api_minor},
         {"API_version_vendor", "XenSource"},
         {"API_version_vendor_implementation", Value::empty_map()},
         {"enabled", true},
         {"software_version", smap({{"product_version", p.product_version},
                                    {"product_version_text", p.product_version},
                                    {"product_version_text_short", p.product_version},
                                    {"platform_name", p.platform_name},
                                    {"platform_version", p.platform_version},
                                    {"product_brand", p.brand},
                                    {"build_number", p.build_number},
                                    {"git_id", "0"},
                                    {"hostname", "localhost"},
                                    {"date", "2026-11-28"},
                                    {"xapi", "24.16"},
                                    {"xapi_build", "24.16.0"},
                                    {"xen", info.hypervisor_version},
                                    {"linux", info.kernel_version},
                                    {"xencenter_min", api},
                                    {"xencenter_max", api},
                                    {"network_backend", "bridge"},
                                    {"db_schema", "5.780"},
                                    {"xenapi_server", p.version},
                                    {"hypervisor_backend", env.backend.name()}})},
         {"capabilities", strings(info.capabilities)},
         {"sched_policy", info.sched_policy},
         {"supported_bootloaders", strings({"pygrub", "eliloader"})},
         {"cpu_info", smap({{"cpu_count", std::to_string(info.cpu_count)},
                            {"socket_count", std::to_string(info.sockets)},
                            {"vendor", info.cpu.vendor},
                            {"speed", std::to_string(info.cpu.speed_mhz) + ".000"},
                            {"modelname", info.cpu.model_name},
                            {"family", std::to_string(info.cpu.family)},
                            {"model", std::to_string(info.cpu.model)},
                            {"stepping", info.cpu.stepping},
                            {"flags", info.cpu.flags},
                            {"features", info.cpu.features}})},
         {"metrics", metrics},
         {"license_params", smap({{"sku_type", "free"}, {"restrict_hotfix_apply", "false"}})},
         {"edition", "free"},
         {"editions", strings({"free"})},
         {"bios_strings", Value(std::move(bios))},
         {"chipset_info", smap({{"iommu", "false"}})},
         {"virtual_hardware_platform_versions", Value::array({Value(int64_t{0}), Value(int64_t{1}), Value(int64_t{2})})},
         {"iscsi_iqn", "iqn.2026-11.local.xenapi-server:" + info.hostname},
         {"ssl_legacy", false},
         {"display", "enabled"},
         {"memory_overhead", int64_t{0}}});

    for (int64_t i = 0; i < info.cpu_count; ++i) {
      b.make("host_cpu", {{"host", host},
                          {"number", i},
                          {"vendor", info.cpu.vendor},
                          {"speed", info.cpu.speed_mhz},
                          {"modelname", info.cpu.model_name},
                          {"family", info.cpu.family},
                          {"model", info.cpu.model},
                          {"stepping", info.cpu.stepping},
                          {"flags", info.cpu.flags},
                          {"features", info.cpu.features},
                          {"utilisation", 0.0}});
    }

    // Control domain.
    Map vcpu_cpu;
    for (int64_t i = 0; i < info.control_domain_vcpus; ++i) vcpu_cpu.emplace_back(Value(i), Value(i));
    std::string dom0_metrics = b.make("VM_metrics", {{"memory_actual", info.control_domain_memory},
                                                     {"VCPUs_number", info.control_domain_vcpus},
                                                     {"VCPUs_CPU", Value(std::move(vcpu_cpu))},
                                                     {"state", Value::empty_array()},
                                                     {"start_time", started},
                                                     {"install_time", started},
                                                     {"last_updated", started},
                                                     {"current_domain_type", "pv"}});
    std::string dom0 = b.make(
        "VM", {{"name_label", "Control domain on host: " + info.hostname},
               {"name_description", "The domain which manages physical devices and manages other domains"},
               {"power_state", "Running"},
               {"user_version", int64_t{1}},
               {"is_control_domain", true},
               {"resident_on", host},
               {"affinity", host},
               {"memory_static_min", info.control_domain_memory},
               {"memory_static_max", info.control_domain_memory},
               {"memory_dynamic_min", info.control_domain_memory},
               {"memory_dynamic_max", info.control_domain_memory},
               {"memory_target", info.control_domain_memory},
               {"VCPUs_max", info.control_domain_vcpus},
               {"VCPUs_at_startup", info.control_domain_vcpus},
               {"actions_after_shutdown", "destroy"},
               {"actions_after_reboot", "destroy"},
               {"actions_after_crash", "destroy"},
               {"domid", int64_t{0}},
               {"domarch", "x64"},
               {"domain_type", "pv"},
               {"generation_id", ""},
               {"metrics", dom0_metrics}});
    b.set("host", host, "control_domain", dom0);
    for (auto [proto, port] : {std::pair{"rfb", "5900"}, std::pair{"vt100", "9500"}}) {
      b.make("console", {{"protocol", proto},
                         {"location", "https://" + address + "/console?ref=" + dom0},
                         {"VM", dom0},
                         {"other_config", Value::empty_map()}});
    }

    // Storage: one SR per backend storage pool, plugged on this host.
    std::string default_sr = std::string(dm::kNullRef);
    for (const auto& s : info.storage) {
      std::string sr = b.make("SR", {{"name_label", s.name},
                                     {"name_description", ""},
                                     {"physical_size", s.physical_size},
                                     {"physical_utilisation", s.physical_utilisation},
                                     {"virtual_allocation", int64_t{0}},
                                     {"type", s.type},
                                     {"content_type", s.content_type},
                                     {"shared", false},
                                     {"other_config", smap({{"i18n-key", "local-storage"},
                                                            {"i18n-original-value-name_label", s.name}})},
                                     {"sm_config", smap({{"devserial", "sim-" + s.device}})},
                                     {"content_path", s.path}});
      b.make("PBD", {{"host", host},
                     {"SR", sr},
                     {"device_config", smap({{"device", s.device}})},
                     {"currently_attached", true}});
      if (default_sr == dm::kNullRef) default_sr = sr;
    }

    // Networking: a pool-wide network and a PIF per physical NIC.
    bool management = true;
    for (size_t i = 0; i < info.nics.size(); ++i) {
      const auto& n = info.nics[i];
      std::string net = b.make("network", {{"name_label", "Pool-wide network associated with " + n.device},
                                           {"name_description", ""},
                                           {"bridge", "xenbr" + std::to_string(i)},
                                           {"MTU", n.mtu},
                                           {"other_config", Value::empty_map()},
                                           {"managed", true}});
      std::string pif_metrics = b.make("PIF_metrics", {{"carrier", true},
                                                       {"vendor_id", n.vendor_id},
                                                       {"vendor_name", n.vendor_name},
                                                       {"device_id", n.device_id},
                                                       {"device_name", n.device_name},
                                                       {"speed", n.speed_mbit},
                                                       {"duplex", true},
                                                       {"pci_bus_path", n.pci_bus_path},
                                                       {"last_updated", started}});
      b.make("PIF", {{"device", n.device},
                     {"network", net},
                     {"host", host},
                     {"MAC", n.mac},
                     {"MTU", n.mtu},
                     {"VLAN", int64_t{-1}},
                     {"metrics", pif_metrics},
                     {"physical", true},
                     {"currently_attached", true},
                     {"ip_configuration_mode", n.ip.empty() ? "None" : "Static"},
                     {"IP", n.ip},
                     {"netmask", n.netmask},
                     {"gateway", n.gateway},
                     {"DNS", n.dns},
                     {"management", management},
                     {"ipv6_configuration_mode", "None"},
                     {"primary_address_type", "IPv4"},
                     {"managed", true},
                     {"properties", smap({{"gro", "on"}})},
                     {"igmp_snooping_status", "disabled"}});
      management = false;
    }

    b.make("pool", {{"name_label", ""},
                    {"name_description", ""},
                    {"master", host},
                    {"default_SR", default_sr},
                    {"suspend_image_SR", default_sr},
                    {"crash_dump_SR", default_sr},
                    {"cpu_info", smap({{"cpu_count", std::to_string(info.cpu_count)},
                                       {"socket_count", std::to_string(info.sockets)},
                                       {"vendor", info.cpu.vendor},
                                       {"features_hvm", info.cpu.features},
                                       {"features_pv", info.cpu.features}})},
                    {"ha_cluster_stack", "xhad"},
                    {"telemetry_frequency", "weekly"},
                    {"update_sync_frequency", "weekly"},
                    {"last_update_sync", DateTime{0}},
                    {"telemetry_next_collection", DateTime{0}}});

    for (const auto& spec : kTemplates) make_template(b, store.ids(), spec);
    return host;
  });
}

// ---------------------------------------------------------------- host messages

// What a VM could still get here: the backend's free memory, less what VMs
// being started or resumed on this host (scheduled, not yet running) will take.
XENAPI_HANDLER("host.compute_free_memory", [](Call& c, const Ref& host) -> int64_t {
  const int64_t free = c.env().backend.free_memory();
  return c.store().read([&](const View& v) {
    const dm::Class& hc = c.cls("host");
    const dm::Class& vc = c.cls("VM");
    v.must_get(hc, host.ref);
    if (host.ref != c.env().this_host) return int64_t{0};  // no other host's memory is known here
    int64_t reserved = 0;
    for (const auto& vm : v.all(vc)) {
      if (vm->at(vc, "scheduled_to_be_resident_on").str() != host.ref) continue;
      const std::string& state = vm->at(vc, "power_state").str();
      if (state == "Halted" || state == "Suspended") reserved += vm->at(vc, "memory_dynamic_max").integer();
    }
    return free - reserved < 0 ? int64_t{0} : free - reserved;
  });
});

// No new VMs start or resume here until host.enable; running ones stay.
XENAPI_HANDLER("host.disable", [](Call& c, const Ref& host, bool auto_enable) {
  c.store().write([&](Txn& t) { t.set(c.cls("host"), host.ref, "enabled", Value(false)); });
});

XENAPI_HANDLER("host.enable", [](Call& c, const Ref& host) {
  c.store().write([&](Txn& t) { t.set(c.cls("host"), host.ref, "enabled", Value(true)); });
});

XENAPI_CLASS_HOOKS("host", ClassHooks{.derive = [](Txn& t, const std::string& ref) { vm::derive_host(t, ref); }});

}  // namespace xenapi
