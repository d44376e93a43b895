// Fills a state folder with N VMs for bench/run-scale-bench, in process:
// one VM with its devices is made through the real dispatcher (VM.create,
// 2 × VDI.create, 2 × VBD.create, VIF.create), then every object those calls
// created is copied N-1 times through store transactions (refs remapped,
// fresh uuids, names and MACs, one volume file per VDI), 25 VMs per
// transaction, written by the server's own persistence. Through the API the
// same folder takes longer than the benchmark should (see bench/README.md).
//
// usage: bench_scale_populate STATE_DIR PASSWORD_FILE VMS
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "classes/api/handlers.h"
#include "classes/events/event_hub.h"
#include "classes/host/bootstrap.h"
#include "classes/storage/storage.h"
#include "classes/store/persist.h"
#include "classes/vif/vif.h"
#include "classes/vm/vm_events.h"
#include "hypervisor-backend/backend.h"
#include "xenapi-server/auth.h"
#include "xenapi-server/dispatcher.h"
#include "xenapi-server/sessions.h"

using namespace xenapi;

namespace {

constexpr int kPerTransaction = 25;

Value ok(Dispatcher& d, const std::string& method, std::vector<Value> params) {
  Request r;
  r.method = method;
  r.params = std::move(params);
  Response a = d.call(std::move(r));
  if (a.kind == Response::Kind::Failure) {
    std::string why;
    for (const auto& s : a.error) why += s + " ";
    throw std::runtime_error(method + " failed: " + why);
  }
  return a.result.to_value();
}

Value record(std::vector<std::pair<std::string, Value>> kv) {
  Map m;
  for (auto& [k, v] : kv) m.emplace_back(Value(k), std::move(v));
  return Value(std::move(m));
}

std::string vm_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "scale-vm-%05d", i);
  return buf;
}

// The six calls of one VM, as bench/run-scale-bench makes them over XML-RPC.
void make_seed(Dispatcher& d, const std::string& s, const std::string& sr, const std::string& net, int i) {
  std::string name = vm_name(i);
  Value vm = ok(d, "VM.create", {Value(s), record({
      {"name_label", Value(name)}, {"name_description", Value("scale benchmark VM")},
      {"user_version", Value(int64_t{1})}, {"is_a_template", Value(false)}, {"affinity", Value("OpaqueRef:NULL")},
      {"memory_static_max", Value(int64_t{1073741824})}, {"memory_dynamic_max", Value(int64_t{1073741824})},
      {"memory_dynamic_min", Value(int64_t{536870912})}, {"memory_static_min", Value(int64_t{268435456})},
      {"VCPUs_params", Value::empty_map()}, {"VCPUs_max", Value(int64_t{2})}, {"VCPUs_at_startup", Value(int64_t{1})},
      {"actions_after_shutdown", Value("destroy")}, {"actions_after_reboot", Value("restart")},
      {"actions_after_crash", Value("restart")}, {"PV_bootloader", Value("")}, {"PV_kernel", Value("")},
      {"PV_ramdisk", Value("")}, {"PV_args", Value("")}, {"PV_bootloader_args", Value("")},
      {"PV_legacy_args", Value("")}, {"HVM_boot_policy", Value("BIOS order")},
      {"HVM_boot_params", record({{"order", Value("dc")}})},
      {"platform", record({{"acpi", Value("1")}, {"apic", Value("true")}, {"pae", Value("true")},
                           {"viridian", Value("true")}})},
      {"PCI_bus", Value("")},
      {"other_config", record({{"folder", Value("/scale")}, {"created-by", Value("run-scale-bench")}})},
      {"recommendations", Value("")}})});
  for (int dsk = 0; dsk < 2; ++dsk) {
    Value vdi = ok(d, "VDI.create", {Value(s), record({
        {"name_label", Value(name + " disk " + std::to_string(dsk))}, {"name_description", Value("")},
        {"SR", Value(sr)}, {"virtual_size", Value(int64_t{10} << 30)}, {"type", Value(dsk == 0 ? "system" : "user")},
        {"sharable", Value(false)}, {"read_only", Value(false)}, {"other_config", Value::empty_map()}})});
    ok(d, "VBD.create", {Value(s), record({
        {"VM", vm}, {"VDI", vdi}, {"userdevice", Value(std::to_string(dsk))}, {"bootable", Value(dsk == 0)},
        {"mode", Value("RW")}, {"type", Value("Disk")}, {"empty", Value(false)}, {"other_config", Value::empty_map()},
        {"qos_algorithm_type", Value("")}, {"qos_algorithm_params", Value::empty_map()}})});
  }
  ok(d, "VIF.create", {Value(s), record({
      {"device", Value("0")}, {"network", Value(net)}, {"VM", vm}, {"MAC", Value("")}, {"MTU", Value(int64_t{1500})},
      {"other_config", Value::empty_map()}, {"qos_algorithm_type", Value("")},
      {"qos_algorithm_params", Value::empty_map()}})});
}

size_t count_vms(Store& store) {
  const dm::Class& vc = store.cls("VM");
  return store.read([&](const View& v) {
    size_t n = 0;
    for (const auto& o : v.all(vc))
      if (!o->at(vc, "is_a_template").boolean() && !o->at(vc, "is_control_domain").boolean()) ++n;
    return n;
  });
}

int populate(const std::string& state, const std::string& password_file, int want) {
  auto t0 = std::chrono::steady_clock::now();
  auto model = dm::Datamodel::standard();
  auto backend = hv::make_backend("sim", hv::BackendOptions{"", state, ""});
  Auth auth(AuthConfig{state, password_file, "", 0});
  Store store(model);
  install_derivations(store);
  Events events(store);
  Persistence persist(store, state + "/xapi.db");
  size_t loaded = persist.load();
  events.log.set_epoch(persist.epoch());
  persist.start();
  Env env{store, *backend, ProductInfo{}, "", "127.0.0.1", nullptr, nullptr, &events};
  env.this_host = bootstrap_host(env);
  vm::install_backend_events(env);
  Sessions sessions(env, auth, SessionOptions{});
  env.sessions = &sessions;
  Dispatcher dispatcher(env, sessions);

  std::string password;
  {
    std::FILE* f = std::fopen(password_file.c_str(), "r");
    if (!f) throw std::runtime_error("cannot read " + password_file);
    char buf[256] = {};
    if (std::fgets(buf, sizeof buf, f)) password = buf;
    std::fclose(f);
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  }
  std::string s = ok(dispatcher, "session.login_with_password", {Value("root"), Value(password)}).str();
  std::string pool = ok(dispatcher, "pool.get_all", {Value(s)}).arr().at(0).str();
  std::string sr = ok(dispatcher, "pool.get_default_SR", {Value(s), Value(pool)}).str();
  std::string net = ok(dispatcher, "network.get_all", {Value(s)}).arr().at(0).str();

  int have = static_cast<int>(count_vms(store));
  std::printf("  %zu objects loaded, %d VMs present\n", loaded, have);
  if (have >= want) return 0;
  const int first = have;

  // The seed, through the API; every object its calls create is recorded.
  std::vector<std::pair<const dm::Class*, std::string>> created;
  bool recording = true;
  store.add_observer([&](const Commit& c) {
    if (!recording) return;
    for (const auto& ch : c.changes)
      if (ch.kind == ChangeKind::Add) created.emplace_back(ch.cls, ch.ref);
  });
  make_seed(dispatcher, s, sr, net, have);
  recording = false;
  ++have;
  std::vector<std::pair<const dm::Class*, ObjectPtr>> seed;
  std::map<std::string, int> per_class;
  store.read([&](const View& v) {
    for (const auto& [c, ref] : created)
      if (ObjectPtr o = v.get(*c, ref)) {
        seed.emplace_back(c, o);
        ++per_class[c->name];
      }
  });
  std::printf("  seed VM through the dispatcher:");
  for (const auto& [c, n] : per_class) std::printf(" %s %d", c.c_str(), n);
  std::printf("\n");

  const dm::Class& vm_c = store.cls("VM");
  const dm::Class& vdi_c = store.cls("VDI");
  const dm::Class& vif_c = store.cls("VIF");
  const dm::Class& sr_c = store.cls("SR");
  std::string sr_dir = store.read([&](const View& v) { return v.must_get(sr_c, sr)->at(sr_c, "content_path").str(); });
  std::set<std::string> macs = store.read([&](const View& v) {
    std::set<std::string> out;
    for (const auto& o : v.all(vif_c)) out.insert(o->at(vif_c, "MAC").str());
    return out;
  });
  auto field = [](const dm::Class& c, const char* name) { return c.field(name)->index; };

  auto t1 = std::chrono::steady_clock::now();
  while (have < want) {
    int n = std::min(kPerTransaction, want - have);
    // Volume files first, outside the store's lock, as VDI.create does.
    std::vector<std::pair<std::string, hv::VolumeInfo>> volumes;
    for (int i = 0; i < n; ++i)
      for (const auto& [c, o] : seed)
        if (c == &vdi_c) {
          std::string uuid = store.ids().uuid();
          volumes.emplace_back(uuid, backend->create_volume(sr_dir, uuid + ".img", o->at(vdi_c, "virtual_size").integer()));
        }
    store.write([&](Txn& t) {
      size_t next_volume = 0;
      for (int i = 0; i < n; ++i) {
        std::string name = vm_name(have + i);
        std::unordered_map<std::string, std::string> remap;
        int disk = 0;
        for (const auto& [c, o] : seed) {
          std::vector<Value> v = o->values;
          if (c->uuid) v[c->uuid->index] = Value("");
          for (const auto& f : c->fields)
            if (f.type.kind == dm::Type::Kind::Ref && v[f.index].is_string()) {
              auto it = remap.find(v[f.index].str());
              if (it != remap.end()) v[f.index] = Value(it->second);
            }
          if (c == &vm_c) {
            v[field(vm_c, "name_label")] = Value(name);
          } else if (c == &vdi_c) {
            const auto& [uuid, vol] = volumes[next_volume++];
            v[field(vdi_c, "name_label")] = Value(name + " disk " + std::to_string(disk++));
            v[vdi_c.uuid->index] = Value(uuid);
            v[field(vdi_c, "location")] = Value(uuid);
            v[field(vdi_c, "path")] = Value(vol.path);
            v[field(vdi_c, "physical_utilisation")] = Value(vol.physical_utilisation);
          } else if (c == &vif_c) {
            std::string mac;
            do mac = vif::random_mac();
            while (!macs.insert(mac).second);
            v[field(vif_c, "MAC")] = Value(mac);
          }
          remap[o->ref] = t.create(*c, std::move(v));
        }
      }
      storage::update_sr_usage(t, sr);
    });
    have += n;
    if (have % 1000 < kPerTransaction)
      std::printf("  %6d VMs, %5.1f s\n", have,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
    std::fflush(stdout);
  }
  dispatcher.stop();
  events.hub.stop();
  persist.stop();
  std::printf("  created %d VMs in %.1f s (%d VMs present)\n", want - first,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), have);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bench_scale_populate STATE_DIR PASSWORD_FILE VMS\n";
    return 2;
  }
  try {
    return populate(argv[1], argv[2], std::atoi(argv[3]));
  } catch (const std::exception& e) {
    std::cerr << "bench_scale_populate: " << e.what() << "\n";
    return 1;
  }
}
