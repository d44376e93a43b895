// VDI and SR messages over file-based volumes.
#include "classes/storage/storage.h"

#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "classes/api/handlers.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi::storage {

namespace {

DateTime now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

const dm::Class& vdi_class(const View& v) { return *v.model().cls("VDI"); }
const dm::Class& sr_class(const View& v) { return *v.model().cls("SR"); }

std::string sr_dir(const View& v, const std::string& sr) {
  ObjectPtr o = v.get(sr_class(v), sr);
  if (!o) throw err::HANDLE_INVALID("SR", sr);
  std::string dir = o->at(sr_class(v), "content_path").str();
  if (dir.empty()) throw err::SR_OPERATION_NOT_SUPPORTED(sr);
  return dir;
}

struct Source {
  std::string sr, path, name, description, type;
  int64_t virtual_size = 0;
  bool read_only = false, sharable = false, snapshot = false;
  Value other_config;
};

Source read_source(const View& v, const std::string& vdi) {
  const dm::Class& vc = vdi_class(v);
  ObjectPtr o = v.must_get(vc, vdi);
  Source s;
  s.sr = o->at(vc, "SR").str();
  s.path = o->at(vc, "path").str();
  s.name = o->at(vc, "name_label").str();
  s.description = o->at(vc, "name_description").str();
  s.type = o->at(vc, "type").str();
  s.virtual_size = o->at(vc, "virtual_size").integer();
  s.read_only = o->at(vc, "read_only").boolean();
  s.sharable = o->at(vc, "sharable").boolean();
  s.snapshot = o->at(vc, "is_a_snapshot").boolean();
  s.other_config = o->at(vc, "other_config");
  return s;
}

hv::HypervisorBackend& backend(Call& c) { return c.env().backend; }

// The VDI and SR operations tables (lifecycle::vdi_rules, sr_rules).
void check_vdi(const View& v, const std::string& vdi, std::string_view op) {
  const dm::Class& vc = vdi_class(v);
  ObjectPtr o = v.must_get(vc, vdi);
  if (auto e = lifecycle::check_vdi(vc, *o, vdi_in_use(v, vdi), op)) throw *e;
}

void check_sr(const View& v, const std::string& sr, std::string_view op) {
  ObjectPtr o = v.get(sr_class(v), sr);
  if (!o) throw err::HANDLE_INVALID("SR", sr);
  if (auto e = lifecycle::check_sr(sr_class(v), *o, op)) throw *e;
}

// Stores a VDI record for a volume that exists already; deletes the volume
// if the record cannot be stored.
std::string store_vdi(Call& c, const std::string& sr, const std::string& uuid, const hv::VolumeInfo& vol,
                      const Map& record, Map fixed) {
  fixed.emplace_back(Value("uuid"), Value(uuid));
  fixed.emplace_back(Value("location"), Value(uuid));
  fixed.emplace_back(Value("path"), Value(vol.path));
  fixed.emplace_back(Value("physical_utilisation"), Value(vol.physical_utilisation));
  fixed.emplace_back(Value("managed"), Value(true));
  try {
    return c.store().write([&](Txn& t) {
      std::string ref = create_object(c, t, vdi_class(t), record, fixed);
      update_sr_usage(t, sr);
      return ref;
    });
  } catch (...) {
    try {
      backend(c).delete_volume(vol.path);
    } catch (...) {
    }
    throw;
  }
}

}  // namespace

std::string default_sr(const View& v) {
  const dm::Class& pc = *v.model().cls("pool");
  auto pools = v.all(pc);
  if (pools.empty()) return std::string(dm::kNullRef);
  return pools.front()->at(pc, "default_SR").str();
}

bool vdi_in_use(const View& v, const std::string& vdi) {
  const dm::Class& vc = vdi_class(v);
  const dm::Class& bc = *v.model().cls("VBD");
  ObjectPtr o = v.get(vc, vdi);
  if (!o) return false;
  for (const Value& r : o->at(vc, "VBDs").arr())
    if (ObjectPtr b = v.get(bc, r.str()); b && b->at(bc, "currently_attached").boolean()) return true;
  return false;
}

void update_sr_usage(Txn& t, const std::string& sr) {
  const dm::Class& sc = sr_class(t);
  const dm::Class& vc = vdi_class(t);
  ObjectPtr o = t.get(sc, sr);
  if (!o) return;
  int64_t virt = 0, phys = 0;
  for (const Value& r : o->at(sc, "VDIs").arr()) {
    if (ObjectPtr d = t.get(vc, r.str())) {
      virt += d->at(vc, "virtual_size").integer();
      phys += d->at(vc, "physical_utilisation").integer();
    }
  }
  t.update(sc, sr, [&](Object& x) {
    x.values[sc.field("virtual_allocation")->index] = Value(virt);
    x.values[sc.field("physical_utilisation")->index] = Value(phys);
  });
}

std::string create_vdi(Call& c, const Map& record) {
  std::string sr, uuid = c.store().ids().uuid();
  int64_t size = 0;
  for (const auto& [k, v] : record) {
    if (k.str() == "SR") sr = v.str();
    if (k.str() == "virtual_size") size = v.integer();
  }
  if (sr.empty()) throw err::INVALID_VALUE("SR", "missing: required by VDI.create");
  if (size < 0) throw err::INVALID_VALUE("virtual_size", std::to_string(size));
  std::string dir = c.store().read([&](const View& v) {
    check_sr(v, sr, "vdi_create");
    return sr_dir(v, sr);
  });
  hv::VolumeInfo vol = vm::backend_call(sr, [&] { return backend(c).create_volume(dir, uuid + ".img", size); }, "SR");
  return store_vdi(c, sr, uuid, vol, record, {});
}

std::string create_vdi(Call& c, const std::string& sr, const std::string& name, int64_t size, const std::string& type,
                       const std::string& description) {
  Map record;
  record.emplace_back(Value("name_label"), Value(name));
  record.emplace_back(Value("name_description"), Value(description));
  record.emplace_back(Value("SR"), Value(sr));
  record.emplace_back(Value("virtual_size"), Value(size));
  record.emplace_back(Value("type"), Value(type));
  record.emplace_back(Value("sharable"), Value(false));
  record.emplace_back(Value("read_only"), Value(false));
  record.emplace_back(Value("other_config"), Value::empty_map());
  return create_vdi(c, record);
}

void destroy_vdi(Call& c, const std::string& vdi) {
  ObjectPtr gone = c.store().write([&](Txn& t) {
    const dm::Class& vc = vdi_class(t);
    ObjectPtr o = t.must_get(vc, vdi);
    check_vdi(t, vdi, "destroy");
    std::string sr = o->at(vc, "SR").str();
    if (t.exists(sr_class(t), sr)) check_sr(t, sr, "vdi_destroy");
    // As xapi: the (detached) VBDs of the disk go with it, rather than
    // leaving drives that point nowhere.
    const dm::Class& bc = *t.model().cls("VBD");
    for (const Value& vbd : o->at(vc, "VBDs").arr())
      if (t.exists(bc, vbd.str())) t.destroy(bc, vbd.str());
    t.destroy(vc, vdi);
    update_sr_usage(t, sr);
    return o;
  });
  const std::string& path = gone->at(c.cls("VDI"), "path").str();
  if (!path.empty()) {
    try {
      backend(c).delete_volume(path);
    } catch (const hv::Error&) {
      // The record is gone; a stray file is found again by SR.scan.
    }
  }
}

std::string copy_vdi(Call& c, const std::string& vdi, CopyKind kind, const std::string& target_sr,
                     const std::string& name) {
  const char* op = kind == CopyKind::Clone ? "clone" : kind == CopyKind::Snapshot ? "snapshot" : "copy";
  vm::Operation guard(c, "VDI", vdi, op);
  Source s = c.store().read([&](const View& v) { return read_source(v, vdi); });
  std::string sr = kind == CopyKind::Copy && !target_sr.empty() && target_sr != dm::kNullRef ? target_sr : s.sr;
  std::string dir = c.store().read([&](const View& v) {
    check_sr(v, sr, kind == CopyKind::Clone ? "vdi_clone" : kind == CopyKind::Snapshot ? "vdi_snapshot" : "vdi_create");
    return sr_dir(v, sr);
  });
  std::string uuid = c.store().ids().uuid();
  c.check_cancelled();
  hv::VolumeInfo vol = vm::backend_call(vdi, [&] { return backend(c).copy_volume(s.path, dir, uuid + ".img"); }, "VDI");
  Map record;
  record.emplace_back(Value("name_label"), Value(name.empty() ? s.name : name));
  record.emplace_back(Value("name_description"), Value(s.description));
  record.emplace_back(Value("SR"), Value(sr));
  record.emplace_back(Value("virtual_size"), Value(s.virtual_size));
  record.emplace_back(Value("type"), Value(s.type));
  record.emplace_back(Value("sharable"), Value(s.sharable));
  record.emplace_back(Value("read_only"), Value(kind == CopyKind::Snapshot ? true : (s.snapshot ? false : s.read_only)));
  record.emplace_back(Value("other_config"), s.other_config);
  Map fixed;
  if (kind == CopyKind::Snapshot) {
    fixed.emplace_back(Value("is_a_snapshot"), Value(true));
    fixed.emplace_back(Value("snapshot_of"), Value(vdi));
    fixed.emplace_back(Value("snapshot_time"), Value(now()));
  }
  return store_vdi(c, sr, uuid, vol, record, std::move(fixed));
}

void derive_vdi(Txn& t, const std::string& vdi) {
  const dm::Class& vc = vdi_class(t);
  ObjectPtr o = t.get(vc, vdi);
  if (!o) return;
  Value v = lifecycle::vdi_allowed_operations(vc, *o, vdi_in_use(t, vdi));
  if (o->at(vc, "allowed_operations") != v) t.set(vc, vdi, "allowed_operations", std::move(v));
}

// ---------------------------------------------------------------- VDI messages

XENAPI_HANDLER("VDI.create", [](Call& c, const Value& record) -> Ref { return Ref(create_vdi(c, record.map())); });

XENAPI_HANDLER("VDI.destroy", [](Call& c, const Ref& self) { destroy_vdi(c, self.ref); });

XENAPI_HANDLER("VDI.forget", [](Call& c, const Ref& vdi) {
  c.store().write([&](Txn& t) {
    const dm::Class& vc = vdi_class(t);
    ObjectPtr o = t.must_get(vc, vdi.ref);
    check_vdi(t, vdi.ref, "forget");
    std::string sr = o->at(vc, "SR").str();
    t.destroy(vc, vdi.ref);
    update_sr_usage(t, sr);
  });
});

namespace {

// Records what the backend reports of a VDI's volume, and its SR's usage.
void store_volume_sizes(Call& c, const std::string& vdi, const std::string& sr, const hv::VolumeInfo& vol) {
  c.store().write([&](Txn& t) {
    const dm::Class& vc = vdi_class(t);
    if (!t.exists(vc, vdi)) return;
    t.update(vc, vdi, [&](Object& o) {
      o.values[vc.field("virtual_size")->index] = Value(vol.virtual_size);
      o.values[vc.field("physical_utilisation")->index] = Value(vol.physical_utilisation);
    });
    update_sr_usage(t, sr);
  });
}

}  // namespace

XENAPI_HANDLER("VDI.resize", [](Call& c, const Ref& vdi, int64_t size) {
  vm::Operation guard(c, "VDI", vdi.ref, "resize");
  Source s = c.store().read([&](const View& v) {
    Source x = read_source(v, vdi.ref);
    check_sr(v, x.sr, "vdi_resize");
    return x;
  });
  if (size < s.virtual_size) throw err::INVALID_VALUE("size", std::to_string(size));
  hv::VolumeInfo vol = vm::backend_call(vdi.ref, [&] { return c.env().backend.resize_volume(s.path, size); }, "VDI");
  store_volume_sizes(c, vdi.ref, s.sr, vol);
});

XENAPI_HANDLER("VDI.clone", [](Call& c, const Ref& vdi, const StringMap& driver_params) -> Ref {
  return Ref(copy_vdi(c, vdi.ref, CopyKind::Clone));
});

XENAPI_HANDLER("VDI.snapshot", [](Call& c, const Ref& vdi, const StringMap& driver_params) -> Ref {
  return Ref(copy_vdi(c, vdi.ref, CopyKind::Snapshot));
});

XENAPI_HANDLER("VDI.copy", [](Call& c, const Ref& vdi, const Ref& sr, const Ref& base_vdi, const Ref& into_vdi) -> Ref {
  if (into_vdi.is_null()) return Ref(copy_vdi(c, vdi.ref, CopyKind::Copy, sr.ref));
  // Into an existing disk: its contents are replaced, its record stays.
  auto [src, dst] = c.store().read([&](const View& v) { return std::pair{read_source(v, vdi.ref), read_source(v, into_vdi.ref)}; });
  if (dst.virtual_size < src.virtual_size) throw err::VDI_TOO_SMALL(into_vdi.ref, src.virtual_size);
  if (dst.read_only) throw err::VDI_READONLY(into_vdi.ref);
  if (c.store().read([&](const View& v) { return vdi_in_use(v, into_vdi.ref); })) throw err::VDI_IN_USE(into_vdi.ref, "copy");
  vm::Operation reading(c, "VDI", vdi.ref, "copy");
  // The target's contents are replaced: nothing else may use it meanwhile
  // (held as a resize, the operation that rewrites a disk alone).
  vm::Operation writing(c, "VDI", into_vdi.ref, "resize");
  std::string dir = dst.path.substr(0, dst.path.rfind('/'));
  std::string tmp = c.store().ids().uuid() + ".img";
  hv::VolumeInfo vol = vm::backend_call(vdi.ref, [&] {
    hv::VolumeInfo copy = c.env().backend.copy_volume(src.path, dir, tmp);
    if (std::rename(copy.path.c_str(), dst.path.c_str()) != 0) {
      c.env().backend.delete_volume(copy.path);
      throw hv::Error(hv::Error::Code::Failed, "cannot replace " + dst.path);
    }
    return c.env().backend.resize_volume(dst.path, dst.virtual_size);
  }, "VDI");
  c.store().write([&](Txn& t) {
    if (!t.exists(vdi_class(t), into_vdi.ref)) return;
    t.set(vdi_class(t), into_vdi.ref, "physical_utilisation", Value(vol.physical_utilisation));
    update_sr_usage(t, dst.sr);
  });
  return into_vdi;
});

namespace {

void set_vdi(Call& c, const std::string& vdi, const char* field, Value v) {
  c.store().write([&](Txn& t) { t.set(vdi_class(t), vdi, field, std::move(v)); });
}

}  // namespace

XENAPI_HANDLER("VDI.set_name_label", [](Call& c, const Ref& self, const std::string& v) { set_vdi(c, self.ref, "name_label", Value(v)); });
XENAPI_HANDLER("VDI.set_name_description",
               [](Call& c, const Ref& self, const std::string& v) { set_vdi(c, self.ref, "name_description", Value(v)); });
XENAPI_HANDLER("VDI.set_read_only", [](Call& c, const Ref& self, bool v) { set_vdi(c, self.ref, "read_only", Value(v)); });
XENAPI_HANDLER("VDI.set_sharable", [](Call& c, const Ref& self, bool v) { set_vdi(c, self.ref, "sharable", Value(v)); });
XENAPI_HANDLER("VDI.set_on_boot", [](Call& c, const Ref& self, const std::string& value) {
  c.store().write([&](Txn& t) {
    check_vdi(t, self.ref, "set_on_boot");
    t.set(vdi_class(t), self.ref, "on_boot", Value(value));
  });
});
XENAPI_HANDLER("VDI.set_allow_caching", [](Call& c, const Ref& self, bool v) { set_vdi(c, self.ref, "allow_caching", Value(v)); });

XENAPI_HANDLER("VDI.update", [](Call& c, const Ref& vdi) {
  Source s = c.store().read([&](const View& v) {
    check_vdi(v, vdi.ref, "update");
    return read_source(v, vdi.ref);
  });
  hv::VolumeInfo vol = vm::backend_call(vdi.ref, [&] { return c.env().backend.volume_info(s.path); }, "VDI");
  store_volume_sizes(c, vdi.ref, s.sr, vol);
});

// ---------------------------------------------------------------- SR messages

XENAPI_HANDLER("SR.get_supported_types", [](Call& c) -> std::vector<std::string> { return {"ext", "file"}; });

XENAPI_HANDLER("SR.set_name_label", [](Call& c, const Ref& sr, const std::string& v) {
  c.store().write([&](Txn& t) { t.set(sr_class(t), sr.ref, "name_label", Value(v)); });
});
XENAPI_HANDLER("SR.set_name_description", [](Call& c, const Ref& sr, const std::string& v) {
  c.store().write([&](Txn& t) { t.set(sr_class(t), sr.ref, "name_description", Value(v)); });
});
XENAPI_HANDLER("SR.set_physical_size", [](Call& c, const Ref& sr, int64_t v) {
  if (v < 0) throw err::INVALID_VALUE("value", std::to_string(v));
  c.store().write([&](Txn& t) { t.set(sr_class(t), sr.ref, "physical_size", Value(v)); });
});

// Brings the records in line with the folder: sizes refreshed, vanished
// volumes marked missing, unknown volumes introduced as new VDIs.
XENAPI_HANDLER("SR.scan", [](Call& c, const Ref& sr) {
  vm::Operation guard(c, "SR", sr.ref, "scan");
  std::string dir = c.store().read([&](const View& v) { return sr_dir(v, sr.ref); });
  std::vector<hv::VolumeInfo> vols = vm::backend_call(sr.ref, [&] { return c.env().backend.list_volumes(dir); }, "SR");
  c.store().write([&](Txn& t) {
    const dm::Class& sc = sr_class(t);
    const dm::Class& vc = vdi_class(t);
    std::map<std::string, const hv::VolumeInfo*> by_path;
    for (const auto& vol : vols) by_path[vol.path] = &vol;
    std::set<std::string> known;
    for (const Value& r : t.must_get(sc, sr.ref)->at(sc, "VDIs").arr()) {
      ObjectPtr d = t.get(vc, r.str());
      if (!d) continue;
      const std::string& path = d->at(vc, "path").str();
      known.insert(path);
      auto it = by_path.find(path);
      t.update(vc, r.str(), [&](Object& o) {
        o.values[vc.field("missing")->index] = Value(it == by_path.end());
        if (it != by_path.end()) {
          o.values[vc.field("virtual_size")->index] = Value(it->second->virtual_size);
          o.values[vc.field("physical_utilisation")->index] = Value(it->second->physical_utilisation);
        }
      });
    }
    for (const auto& vol : vols) {
      if (known.count(vol.path)) continue;
      std::string file = vol.path.substr(vol.path.rfind('/') + 1);
      std::string uuid = file.substr(0, file.size() - 4);  // without ".img"
      if (t.by_uuid(vc, uuid)) uuid = c.store().ids().uuid();
      std::vector<Value> v = c.store().defaults(vc);
      auto set = [&](const char* f, Value x) { v[vc.field(f)->index] = std::move(x); };
      set("uuid", uuid);
      set("SR", sr.ref);
      set("location", uuid);
      set("path", vol.path);
      set("virtual_size", vol.virtual_size);
      set("physical_utilisation", vol.physical_utilisation);
      set("type", "user");
      set("managed", true);
      t.create(vc, std::move(v));
    }
    update_sr_usage(t, sr.ref);
  });
});

XENAPI_HANDLER("SR.update", [](Call& c, const Ref& sr) {
  c.store().write([&](Txn& t) {
    check_sr(t, sr.ref, "update");
    update_sr_usage(t, sr.ref);
  });
});

XENAPI_CLASS_HOOKS("VDI", ClassHooks{.derive = [](Txn& t, const std::string& ref) { derive_vdi(t, ref); }});
XENAPI_CLASS_HOOKS("SR", ClassHooks{.derive = [](Txn& t, const std::string& ref) { vm::derive_sr(t, ref); }});

}  // namespace xenapi::storage
