// Domain configurations, state transitions and backend error mapping.
#include "classes/vm/runtime.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "classes/storage/storage.h"
#include "classes/vm/lifecycle.h"

namespace xenapi::vm {

namespace {

using Code = hv::Error::Code;

DateTime now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const dm::Class& cls(const View& v, const char* name) { return *v.model().cls(name); }

std::string str_of(const dm::Class& c, const Object& o, const char* f) { return o.at(c, f).str(); }

}  // namespace

ApiError backend_error(const hv::Error& e, const std::string& ref, const std::string& device_class) {
  const bool device = device_class != "VM";
  switch (e.code) {
    case Code::NotSupported: return err::OPERATION_NOT_ALLOWED(e.what());
    case Code::NoMemory: return err::HOST_NOT_ENOUGH_FREE_MEMORY(e.needed, e.available);
    case Code::TooManyVcpus: return err::HOST_NOT_ENOUGH_PCPUS(e.needed, e.available);
    case Code::GuestRefused:
      return device ? err::DEVICE_DETACH_REJECTED(device_class, ref, e.what()) : err::VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT(ref);
    case Code::Timeout: return device ? err::DEVICE_DETACH_TIMEOUT(device_class, ref) : err::VM_SHUTDOWN_TIMEOUT(ref, "60");
    case Code::NoSuchDevice: return err::DEVICE_ALREADY_DETACHED(ref);
    case Code::DeviceBusy: return err::DEVICE_ALREADY_ATTACHED(ref);
    case Code::StorageFull: return err::SR_FULL(e.needed, e.available);
    case Code::NoSuchDomain:
    case Code::BadState:
    case Code::Failed: break;
  }
  return err::INTERNAL_ERROR(std::string("hypervisor: ") + e.what());
}

std::string guest_device(const std::string& userdevice) {
  if (!all_digits(userdevice) || userdevice.size() > 3) return userdevice;
  int n = std::stoi(userdevice);
  std::string suffix;
  // xvda .. xvdz, xvdaa ..: bijective base 26.
  for (++n; n > 0; n = (n - 1) / 26) suffix.insert(suffix.begin(), static_cast<char>('a' + (n - 1) % 26));
  return "xvd" + suffix;
}

void assert_attachable(const View& v, const std::string& vbd) {
  const dm::Class& bc = cls(v, "VBD");
  const dm::Class& dc = cls(v, "VDI");
  ObjectPtr b = v.must_get(bc, vbd);
  if (b->at(bc, "empty").boolean()) return;
  const std::string& vdi = str_of(bc, *b, "VDI");
  ObjectPtr disk = v.get(dc, vdi);
  if (!disk) throw err::HANDLE_INVALID("VDI", vdi);
  if (disk->at(dc, "missing").boolean()) throw err::VDI_MISSING(str_of(dc, *disk, "SR"), vdi);
  if (str_of(bc, *b, "mode") != "RW" || disk->at(dc, "sharable").boolean()) return;
  for (const Value& other : disk->at(dc, "VBDs").arr()) {
    if (other.str() == vbd) continue;
    ObjectPtr o = v.get(bc, other.str());
    if (o && o->at(bc, "currently_attached").boolean()) throw err::VDI_IN_USE(vdi, "attach");
  }
}

hv::DomainConfig domain_config(const View& v, const std::string& ref) {
  const dm::Class& vc = cls(v, "VM");
  const dm::Class& vbdc = cls(v, "VBD");
  const dm::Class& vdic = cls(v, "VDI");
  const dm::Class& vifc = cls(v, "VIF");
  const dm::Class& netc = cls(v, "network");
  ObjectPtr o = v.must_get(vc, ref);
  hv::DomainConfig cfg;
  cfg.uuid = str_of(vc, *o, "uuid");
  cfg.name = str_of(vc, *o, "name_label");
  cfg.vcpus_max = o->at(vc, "VCPUs_max").integer();
  cfg.vcpus_at_startup = o->at(vc, "VCPUs_at_startup").integer();
  cfg.memory_static_max = o->at(vc, "memory_static_max").integer();
  cfg.memory_dynamic_max = o->at(vc, "memory_dynamic_max").integer();
  cfg.memory_dynamic_min = o->at(vc, "memory_dynamic_min").integer();
  cfg.memory_static_min = o->at(vc, "memory_static_min").integer();
  cfg.hvm = !str_of(vc, *o, "HVM_boot_policy").empty();
  const Value& boot = o->at(vc, "HVM_boot_params");
  const Value* firmware = boot.find("firmware");
  const Value* order = boot.find("order");
  cfg.firmware = firmware ? firmware->str() : "bios";
  cfg.boot_order = order ? order->str() : "cdn";
  cfg.pv_kernel = str_of(vc, *o, "PV_kernel");
  cfg.pv_ramdisk = str_of(vc, *o, "PV_ramdisk");
  cfg.pv_args = str_of(vc, *o, "PV_args");
  cfg.pv_bootloader = str_of(vc, *o, "PV_bootloader");
  for (const auto& [k, x] : o->at(vc, "platform").map()) cfg.platform[k.str()] = x.str();
  for (const auto& [k, x] : o->at(vc, "other_config").map())
    if (k.str().rfind("sim_", 0) == 0) cfg.hints[k.str()] = x.str();

  std::map<std::string, std::string> devices;  // guest device -> VBD
  std::vector<ObjectPtr> vbds;
  for (const Value& r : o->at(vc, "VBDs").arr())
    if (ObjectPtr b = v.get(vbdc, r.str())) vbds.push_back(b);
  std::sort(vbds.begin(), vbds.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    return str_of(vbdc, *a, "userdevice") < str_of(vbdc, *b, "userdevice");
  });
  for (const auto& b : vbds) {
    hv::DiskConfig d;
    d.userdevice = str_of(vbdc, *b, "userdevice");
    d.device = guest_device(d.userdevice);
    if (!devices.emplace(d.device, b->ref).second) throw err::VM_DUPLICATE_VBD_DEVICE(ref, b->ref, d.userdevice);
    d.cdrom = str_of(vbdc, *b, "type") == "CD";
    d.read_only = str_of(vbdc, *b, "mode") == "RO";
    d.bootable = b->at(vbdc, "bootable").boolean();
    if (!b->at(vbdc, "empty").boolean()) {
      assert_attachable(v, b->ref);
      ObjectPtr disk = v.must_get(vdic, str_of(vbdc, *b, "VDI"));
      d.path = str_of(vdic, *disk, "path");
      d.vdi_uuid = str_of(vdic, *disk, "uuid");
    }
    cfg.disks.push_back(std::move(d));
  }
  for (const Value& r : o->at(vc, "VIFs").arr()) {
    ObjectPtr f = v.get(vifc, r.str());
    if (!f) continue;
    hv::NicConfig n;
    n.device = str_of(vifc, *f, "device");
    n.mac = str_of(vifc, *f, "MAC");
    n.mtu = f->at(vifc, "MTU").integer();
    if (ObjectPtr net = v.get(netc, str_of(vifc, *f, "network"))) n.bridge = str_of(netc, *net, "bridge");
    cfg.nics.push_back(std::move(n));
  }
  std::sort(cfg.nics.begin(), cfg.nics.end(), [](const auto& a, const auto& b) { return a.device < b.device; });
  return cfg;
}

void refresh_host_memory(Txn& t, Env& env, int64_t free_memory) {
  const dm::Class& hc = cls(t, "host");
  const dm::Class& hm = cls(t, "host_metrics");
  ObjectPtr host = t.get(hc, env.this_host);
  if (!host) return;
  // Also at start-up (reconciliation): a store written before the host's and
  // the SRs' allowed_operations were derived gets them now.
  derive_host(t, env.this_host);
  for (const auto& sr : t.all(cls(t, "SR"))) derive_sr(t, sr->ref);
  const std::string& metrics = str_of(hc, *host, "metrics");
  if (!t.exists(hm, metrics)) return;
  t.update(hm, metrics, [&](Object& o) {
    o.values[hm.field("memory_free")->index] = Value(free_memory);
    o.values[hm.field("last_updated")->index] = Value(now());
  });
}

void mark_running(Txn& t, Env& env, const std::string& ref, const hv::DomainInfo& info) {
  const dm::Class& vc = cls(t, "VM");
  const dm::Class& mc = cls(t, "VM_metrics");
  const dm::Class& vbdc = cls(t, "VBD");
  const dm::Class& vifc = cls(t, "VIF");
  ObjectPtr vm = t.must_get(vc, ref);
  const bool hvm = !str_of(vc, *vm, "HVM_boot_policy").empty();
  t.update(vc, ref, [&](Object& o) {
    o.values[vc.field("power_state")->index] = Value(info.state == hv::PowerState::Paused ? "Paused" : "Running");
    o.values[vc.field("domid")->index] = Value(info.domid);
    o.values[vc.field("resident_on")->index] = Value(env.this_host);
    o.values[vc.field("scheduled_to_be_resident_on")->index] = Value(std::string(dm::kNullRef));
    o.values[vc.field("domarch")->index] = Value("x64");
    o.values[vc.field("crashed")->index] = Value(false);
  });
  const std::string& metrics = str_of(vc, *vm, "metrics");
  if (t.exists(mc, metrics)) {
    t.update(mc, metrics, [&](Object& o) {
      Map cpus;
      for (int64_t i = 0; i < info.vcpus; ++i) cpus.emplace_back(Value(i), Value(i));
      const int64_t started = std::chrono::duration_cast<std::chrono::seconds>(info.started.time_since_epoch()).count();
      o.values[mc.field("memory_actual")->index] = Value(info.memory_actual);
      o.values[mc.field("VCPUs_number")->index] = Value(info.vcpus);
      o.values[mc.field("VCPUs_CPU")->index] = Value(std::move(cpus));
      o.values[mc.field("VCPUs_params")->index] = vm->at(vc, "VCPUs_params");
      o.values[mc.field("state")->index] = Value::array({Value(info.state == hv::PowerState::Paused ? "paused" : "running")});
      o.values[mc.field("start_time")->index] = Value(DateTime{started});
      if (o.values[mc.field("install_time")->index].datetime().seconds == 0)
        o.values[mc.field("install_time")->index] = Value(DateTime{started});
      o.values[mc.field("last_updated")->index] = Value(now());
      o.values[mc.field("hvm")->index] = Value(hvm);
      o.values[mc.field("current_domain_type")->index] = Value(hvm ? "hvm" : "pv");
    });
  }
  for (const Value& r : vm->at(vc, "VBDs").arr()) {
    if (!t.exists(vbdc, r.str())) continue;
    t.update(vbdc, r.str(), [&](Object& o) {
      o.values[vbdc.field("currently_attached")->index] = Value(true);
      o.values[vbdc.field("device")->index] = Value(guest_device(o.at(vbdc, "userdevice").str()));
    });
  }
  for (const Value& r : vm->at(vc, "VIFs").arr())
    if (t.exists(vifc, r.str())) t.set(vifc, r.str(), "currently_attached", Value(true));
}

void mark_stopped(Txn& t, Env& env, const std::string& ref, const std::string& power_state) {
  const dm::Class& vc = cls(t, "VM");
  const dm::Class& mc = cls(t, "VM_metrics");
  const dm::Class& vbdc = cls(t, "VBD");
  const dm::Class& vifc = cls(t, "VIF");
  ObjectPtr vm = t.must_get(vc, ref);
  t.update(vc, ref, [&](Object& o) {
    o.values[vc.field("power_state")->index] = Value(power_state);
    o.values[vc.field("domid")->index] = Value(int64_t{-1});
    o.values[vc.field("resident_on")->index] = Value(std::string(dm::kNullRef));
    o.values[vc.field("scheduled_to_be_resident_on")->index] = Value(std::string(dm::kNullRef));
    o.values[vc.field("crashed")->index] = Value(false);
  });
  const std::string& metrics = str_of(vc, *vm, "metrics");
  if (t.exists(mc, metrics)) {
    t.update(mc, metrics, [&](Object& o) {
      o.values[mc.field("memory_actual")->index] = Value(int64_t{0});
      o.values[mc.field("VCPUs_number")->index] = Value(int64_t{0});
      o.values[mc.field("VCPUs_CPU")->index] = Value::empty_map();
      o.values[mc.field("state")->index] = Value::empty_array();
      o.values[mc.field("last_updated")->index] = Value(now());
    });
  }
  for (const Value& r : vm->at(vc, "VBDs").arr())
    if (t.exists(vbdc, r.str())) t.set(vbdc, r.str(), "currently_attached", Value(false));
  for (const Value& r : vm->at(vc, "VIFs").arr())
    if (t.exists(vifc, r.str())) t.set(vifc, r.str(), "currently_attached", Value(false));
}

void mark_crashed(Txn& t, Env& env, const std::string& ref) {
  const dm::Class& vc = cls(t, "VM");
  const dm::Class& mc = cls(t, "VM_metrics");
  ObjectPtr vm = t.get(vc, ref);
  if (!vm) return;
  t.update(vc, ref, [&](Object& o) {
    o.values[vc.field("power_state")->index] = Value("Paused");
    o.values[vc.field("crashed")->index] = Value(true);
  });
  const std::string& metrics = str_of(vc, *vm, "metrics");
  if (t.exists(mc, metrics)) t.set(mc, metrics, "state", Value::array({Value("paused")}));
}

// ---------------------------------------------------------------- guard

Operation::Operation(Call& call, const std::string& vm, const std::string& op) : Operation(call, "VM", vm, op) {}

Operation::Operation(Call& call, const char* cls, const std::string& ref, const std::string& op)
    : call_(call), cls_(call.cls(cls)), ref_(ref), key_(call.operation_key()) {
  call.store().write([&](Txn& t) {
    ObjectPtr o = t.must_get(cls_, ref);
    if (auto e = lifecycle::check(t, cls_, *o, op)) throw *e;
    t.update(cls_, ref, [&](Object& x) { x.values[cls_.field("current_operations")->index].set_member(key_, Value(op)); });
  });
}

void Operation::end(Txn& t) {
  if (ended_) return;
  ended_ = true;
  if (!t.exists(cls_, ref_)) return;
  t.update(cls_, ref_, [&](Object& x) {
    Map& ops = x.values[cls_.field("current_operations")->index].map();
    ops.erase(std::remove_if(ops.begin(), ops.end(), [&](const auto& kv) { return kv.first.str() == key_; }),
              ops.end());
  });
}

Operation::~Operation() {
  if (ended_) return;
  try {
    call_.store().write([&](Txn& t) { end(t); });
  } catch (...) {
    // The object may be gone; nothing to release then.
  }
}

// ---------------------------------------------------------------- derived fields

namespace {

void set_if_changed(Txn& t, const dm::Class& c, const std::string& ref, const char* field, Value v) {
  ObjectPtr o = t.get(c, ref);
  if (o && o->at(c, field) != v) t.set(c, ref, field, std::move(v));
}

}  // namespace

void derive_vm(Txn& t, const std::string& ref) {
  const dm::Class& vc = cls(t, "VM");
  const dm::Class& vbdc = cls(t, "VBD");
  const dm::Class& vifc = cls(t, "VIF");
  ObjectPtr vm = t.get(vc, ref);
  if (!vm) return;
  set_if_changed(t, vc, ref, "allowed_operations", lifecycle::vm_allowed_operations(vc, *vm));
  for (const Value& r : vm->at(vc, "VBDs").arr())
    if (ObjectPtr b = t.get(vbdc, r.str()))
      set_if_changed(t, vbdc, r.str(), "allowed_operations", lifecycle::vbd_allowed_operations(vbdc, *b, vc, vm.get()));
  for (const Value& r : vm->at(vc, "VIFs").arr())
    if (ObjectPtr f = t.get(vifc, r.str()))
      set_if_changed(t, vifc, r.str(), "allowed_operations", lifecycle::vif_allowed_operations(vifc, *f, vc, vm.get()));
}

void derive_vbd(Txn& t, const std::string& ref) {
  const dm::Class& bc = cls(t, "VBD");
  const dm::Class& vc = cls(t, "VM");
  ObjectPtr b = t.get(bc, ref);
  if (!b) return;
  ObjectPtr vm = t.get(vc, b->at(bc, "VM").str());
  set_if_changed(t, bc, ref, "allowed_operations", lifecycle::vbd_allowed_operations(bc, *b, vc, vm.get()));
  // Whether its disk is in use depends on the VBD being attached.
  const std::string& vdi = b->at(bc, "VDI").str();
  if (vdi != dm::kNullRef) storage::derive_vdi(t, vdi);
}

void derive_vif(Txn& t, const std::string& ref) {
  const dm::Class& fc = cls(t, "VIF");
  const dm::Class& vc = cls(t, "VM");
  ObjectPtr f = t.get(fc, ref);
  if (!f) return;
  ObjectPtr vm = t.get(vc, f->at(fc, "VM").str());
  set_if_changed(t, fc, ref, "allowed_operations", lifecycle::vif_allowed_operations(fc, *f, vc, vm.get()));
}

void derive_sr(Txn& t, const std::string& ref) {
  const dm::Class& sc = cls(t, "SR");
  if (ObjectPtr o = t.get(sc, ref)) set_if_changed(t, sc, ref, "allowed_operations", lifecycle::sr_allowed_operations(sc, *o));
}

void derive_host(Txn& t, const std::string& ref) {
  const dm::Class& hc = cls(t, "host");
  if (ObjectPtr o = t.get(hc, ref))
    set_if_changed(t, hc, ref, "allowed_operations", lifecycle::host_allowed_operations(hc, *o));
}

}  // namespace xenapi::vm
