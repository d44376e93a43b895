// New VMs from existing ones (xenapi-spec §5.5): clone, copy, snapshot,
// checkpoint, revert, and provision (disks from a template's "disks" XML).
#include <algorithm>
#include <ctime>
#include <map>

#include "classes/api/handlers.h"
#include "classes/storage/storage.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

using storage::CopyKind;

enum class Mode : uint8_t { Clone, Copy, Snapshot, Checkpoint };

DateTime now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

const dm::Class& vm_class(Call& c) { return c.cls("VM"); }

// Fields a new VM takes over: the constructor fields, minus identity and state.
Map inherited_record(const dm::Class& vc, const Object& src) {
  Map m;
  for (const auto& f : vc.fields) {
    if (!f.in_constructor()) continue;
    if (f.name == "power_state" || f.name == "suspend_VDI") continue;
    m.emplace_back(Value(f.name), src.values[f.index]);
  }
  return m;
}

void set_member(Map& m, const std::string& key, Value v) {
  for (auto& [k, x] : m)
    if (k.str() == key) {
      x = std::move(v);
      return;
    }
  m.emplace_back(Value(key), std::move(v));
}

struct DeviceCopy {
  ObjectPtr vbd;
  std::string new_vdi;  // NULL for empty drives; the same VDI for CDs
};

std::string make_vm(Call& c, const std::string& src_ref, const std::string& name, Mode mode, const std::string& sr,
                    const std::vector<std::string>& ignore_vdis) {
  const dm::Class& vc = vm_class(c);
  const dm::Class& bc = c.cls("VBD");
  const dm::Class& fc = c.cls("VIF");
  const dm::Class& dc = c.cls("VDI");
  const char* op = mode == Mode::Clone ? "clone" : mode == Mode::Copy ? "copy" : mode == Mode::Snapshot ? "snapshot" : "checkpoint";
  vm::Operation guard(c, src_ref, op);
  ObjectPtr src = c.store().read([&](const View& v) { return v.must_get(vc, src_ref); });

  // Disks first (slow, outside any lock); remember what to attach.
  std::vector<DeviceCopy> disks;
  std::vector<std::string> made;
  auto cleanup = [&] {
    for (const auto& d : made) {
      try {
        storage::destroy_vdi(c, d);
      } catch (...) {
      }
    }
  };
  try {
    std::vector<ObjectPtr> vbds = c.store().read([&](const View& v) {
      std::vector<ObjectPtr> out;
      for (const Value& r : src->at(vc, "VBDs").arr())
        if (ObjectPtr b = v.get(bc, r.str())) out.push_back(b);
      return out;
    });
    size_t done = 0;
    for (const auto& b : vbds) {
      DeviceCopy d{b, std::string(dm::kNullRef)};
      const std::string& vdi = b->at(bc, "VDI").str();
      bool has_disk = !b->at(bc, "empty").boolean() && c.store().read([&](const View& v) { return v.exists(dc, vdi); });
      if (has_disk) {
        bool cd = b->at(bc, "type").str() == "CD";
        if (cd || std::find(ignore_vdis.begin(), ignore_vdis.end(), vdi) != ignore_vdis.end()) {
          if (cd) d.new_vdi = vdi;  // the same media; ignored disks are left out
          else continue;
        } else {
          CopyKind kind = mode == Mode::Clone ? CopyKind::Clone : mode == Mode::Copy ? CopyKind::Copy : CopyKind::Snapshot;
          d.new_vdi = storage::copy_vdi(c, vdi, kind, mode == Mode::Copy ? sr : std::string());
          made.push_back(d.new_vdi);
        }
      }
      disks.push_back(std::move(d));
      c.progress(0.1 + 0.8 * static_cast<double>(++done) / static_cast<double>(vbds.size()));
      c.check_cancelled();
    }
    std::string image;
    if (mode == Mode::Checkpoint) {
      // The memory image of the running guest, kept with the snapshot.
      std::string image_sr = c.store().read([&](const View& v) { return storage::default_sr(v); });
      image = storage::create_vdi(c, image_sr, "Suspend image for " + name,
                                  src->at(vc, "memory_static_max").integer(), "suspend");
      made.push_back(image);
    }

    return c.store().write([&](Txn& t) {
      Map record = inherited_record(vc, *src);
      set_member(record, "name_label", Value(name));
      const bool snap = mode == Mode::Snapshot || mode == Mode::Checkpoint;
      Value other = src->at(vc, "other_config");
      // A new VM gets its own MAC seed; a snapshot describes the same VM.
      if (!snap) other.set_member("mac_seed", Value(c.store().ids().uuid()));
      Map& om = other.map();
      om.erase(std::remove_if(om.begin(), om.end(), [](const auto& kv) { return kv.first.str() == "default_template"; }),
               om.end());
      set_member(record, "other_config", other);
      if (snap) set_member(record, "is_a_template", Value(true));
      Map fixed;
      fixed.emplace_back(Value("bios_strings"), src->at(vc, "bios_strings"));
      fixed.emplace_back(Value("parent"), Value(src_ref));
      if (snap) {
        fixed.emplace_back(Value("is_a_snapshot"), Value(true));
        fixed.emplace_back(Value("snapshot_of"), Value(src_ref));
        fixed.emplace_back(Value("snapshot_time"), Value(now()));
        fixed.emplace_back(Value("transportable_snapshot_id"), Value(c.store().ids().uuid()));
      }
      std::string ref = create_object(c, t, vc, record, fixed);
      if (mode == Mode::Checkpoint) {
        t.set(vc, ref, "power_state", Value("Suspended"));
        t.set(vc, ref, "suspend_VDI", Value(image));
      }
      for (const auto& d : disks) {
        const Object& b = *d.vbd;
        std::vector<Value> v = c.store().defaults(bc);
        for (const char* f : {"userdevice", "bootable", "mode", "type", "unpluggable", "other_config",
                              "qos_algorithm_type", "qos_algorithm_params"})
          v[bc.field(f)->index] = b.at(bc, f);
        v[bc.field("VM")->index] = Value(ref);
        v[bc.field("VDI")->index] = Value(d.new_vdi);
        v[bc.field("empty")->index] = Value(d.new_vdi == dm::kNullRef);
        t.create(bc, std::move(v));
      }
      for (const Value& r : src->at(vc, "VIFs").arr()) {
        ObjectPtr f = t.get(fc, r.str());
        if (!f) continue;
        Map vif;
        for (const char* name : {"device", "network", "MTU", "other_config", "qos_algorithm_type", "qos_algorithm_params",
                                 "locking_mode", "ipv4_allowed", "ipv6_allowed"})
          vif.emplace_back(Value(name), f->at(fc, name));
        vif.emplace_back(Value("VM"), Value(ref));
        // Snapshots keep the MACs they describe; new VMs get their own.
        vif.emplace_back(Value("MAC"), snap ? f->at(fc, "MAC") : Value(""));
        create_object(c, t, fc, vif);
      }
      guard.end(t);
      return ref;
    });
  } catch (...) {
    cleanup();
    throw;
  }
}

}  // namespace

XENAPI_HANDLER("VM.clone", [](Call& c, const Ref& vm, const std::string& new_name) -> Ref {
  return Ref(make_vm(c, vm.ref, new_name, Mode::Clone, "", {}));
});

XENAPI_HANDLER("VM.copy", [](Call& c, const Ref& vm, const std::string& new_name, const Ref& sr) -> Ref {
  return Ref(make_vm(c, vm.ref, new_name, Mode::Copy, sr.ref, {}));
});

XENAPI_HANDLER("VM.snapshot", [](Call& c, const Ref& vm, const std::string& new_name, const std::vector<Ref>& ignore) -> Ref {
  std::vector<std::string> skip;
  for (const auto& r : ignore) skip.push_back(r.ref);
  return Ref(make_vm(c, vm.ref, new_name, Mode::Snapshot, "", skip));
});

XENAPI_HANDLER("VM.checkpoint", [](Call& c, const Ref& vm, const std::string& new_name) -> Ref {
  return Ref(make_vm(c, vm.ref, new_name, Mode::Checkpoint, "", {}));
});

// The snapshot's source VM takes the snapshot's state: its configuration,
// fresh clones of the snapshot's disks, and (for a checkpoint) its memory.
XENAPI_HANDLER("VM.revert", [](Call& c, const Ref& snapshot) {
  const dm::Class& vc = vm_class(c);
  const dm::Class& bc = c.cls("VBD");
  ObjectPtr snap = c.store().read([&](const View& v) { return v.must_get(vc, snapshot.ref); });
  if (auto e = lifecycle::check_vm(vc, *snap, "revert", true)) throw *e;
  std::string target = snap->at(vc, "snapshot_of").str();
  ObjectPtr vm = c.store().read([&](const View& v) { return v.get(vc, target); });
  if (!vm) throw err::VM_REVERT_FAILED(target, snapshot.ref);

  // Stop the VM and drop the disks that the snapshot's copies replace.
  const std::string uuid = vm->at(vc, "uuid").str();
  vm::backend_call(target, [&] { c.env().backend.destroy(uuid); });
  std::vector<std::string> old_disks;
  std::string old_image = vm->at(vc, "suspend_VDI").str();
  const int64_t free = c.env().backend.free_memory();
  c.store().write([&](Txn& t) {
    vm::mark_stopped(t, c.env(), target);
    vm::refresh_host_memory(t, c.env(), free);
    for (const Value& r : vm->at(vc, "VBDs").arr()) {
      ObjectPtr b = t.get(bc, r.str());
      if (!b) continue;
      if (!b->at(bc, "empty").boolean() && b->at(bc, "type").str() != "CD") old_disks.push_back(b->at(bc, "VDI").str());
      t.destroy(bc, r.str());
    }
    t.set(vc, target, "suspend_VDI", Value(std::string(dm::kNullRef)));
  });
  for (const auto& d : old_disks) {
    try {
      storage::destroy_vdi(c, d);
    } catch (const ApiError&) {
      // Still used by another VM: leave it.
    }
  }
  if (old_image != dm::kNullRef) {
    try {
      storage::destroy_vdi(c, old_image);
    } catch (const ApiError&) {
    }
  }

  std::vector<std::pair<ObjectPtr, std::string>> attach;
  for (const Value& r : snap->at(vc, "VBDs").arr()) {
    ObjectPtr b = c.store().read([&](const View& v) { return v.get(bc, r.str()); });
    if (!b) continue;
    std::string vdi = b->at(bc, "VDI").str();
    if (!b->at(bc, "empty").boolean() && b->at(bc, "type").str() != "CD") vdi = storage::copy_vdi(c, vdi, CopyKind::Clone);
    attach.emplace_back(b, b->at(bc, "empty").boolean() ? std::string(dm::kNullRef) : vdi);
  }
  std::string image;
  if (snap->at(vc, "power_state").str() == "Suspended" && snap->at(vc, "suspend_VDI").str() != dm::kNullRef)
    image = storage::copy_vdi(c, snap->at(vc, "suspend_VDI").str(), CopyKind::Clone);

  c.store().write([&](Txn& t) {
    t.update(vc, target, [&](Object& o) {
      for (const auto& f : vc.fields) {
        if (!f.in_constructor() || f.name == "name_label" || f.name == "name_description" || f.name == "power_state" ||
            f.name == "suspend_VDI" || f.name == "is_a_template")
          continue;
        o.values[f.index] = snap->values[f.index];
      }
      if (!image.empty()) {
        o.values[vc.field("power_state")->index] = Value("Suspended");
        o.values[vc.field("suspend_VDI")->index] = Value(image);
      }
    });
    for (const auto& [b, vdi] : attach) {
      std::vector<Value> v = c.store().defaults(bc);
      for (const char* f : {"userdevice", "bootable", "mode", "type", "unpluggable", "other_config", "qos_algorithm_type",
                            "qos_algorithm_params"})
        v[bc.field(f)->index] = b->at(bc, f);
      v[bc.field("VM")->index] = Value(target);
      v[bc.field("VDI")->index] = Value(vdi);
      v[bc.field("empty")->index] = Value(vdi == dm::kNullRef);
      t.create(bc, std::move(v));
    }
  });
});

namespace {

// Attributes of each <disk .../> element of a provision document.
std::vector<std::map<std::string, std::string>> parse_disks(const std::string& xml) {
  std::vector<std::map<std::string, std::string>> disks;
  size_t pos = 0;
  while ((pos = xml.find("<disk", pos)) != std::string::npos) {
    size_t end = xml.find('>', pos);
    if (end == std::string::npos) throw err::INVALID_VALUE("other_config:disks", xml);
    std::string tag = xml.substr(pos + 5, end - pos - 5);
    std::map<std::string, std::string> attrs;
    size_t i = 0;
    while (i < tag.size()) {
      size_t eq = tag.find('=', i);
      if (eq == std::string::npos) break;
      size_t name_start = tag.find_first_not_of(" \t\r\n/", i);
      std::string name = tag.substr(name_start, eq - name_start);
      while (!name.empty() && name.back() == ' ') name.pop_back();
      char quote = eq + 1 < tag.size() ? tag[eq + 1] : '"';
      size_t close = tag.find(quote, eq + 2);
      if (close == std::string::npos) throw err::INVALID_VALUE("other_config:disks", xml);
      attrs[name] = tag.substr(eq + 2, close - eq - 2);
      i = close + 1;
    }
    disks.push_back(std::move(attrs));
    pos = end;
  }
  return disks;
}

}  // namespace

// Creates the disks a template's other_config["disks"] describes.
XENAPI_HANDLER("VM.provision", [](Call& c, const Ref& vm) {
  const dm::Class& vc = vm_class(c);
  const dm::Class& bc = c.cls("VBD");
  const dm::Class& sc = c.cls("SR");
  vm::Operation guard(c, vm.ref, "provision");
  ObjectPtr o = c.store().read([&](const View& v) { return v.must_get(vc, vm.ref); });
  const Value* xml = o->at(vc, "other_config").find("disks");
  if (!xml) {
    c.store().write([&](Txn& t) { guard.end(t); });
    return;
  }
  auto disks = parse_disks(xml->str());
  std::vector<std::pair<std::map<std::string, std::string>, std::string>> made;
  try {
    for (const auto& d : disks) {
      std::string sr = c.store().read([&](const View& v) {
        auto it = d.find("sr");
        if (it != d.end() && !it->second.empty()) {
          ObjectPtr s = v.by_uuid(sc, it->second);
          if (!s) throw err::UUID_INVALID("SR", it->second);
          return s->ref;
        }
        std::string def = storage::default_sr(v);
        if (def == dm::kNullRef || !v.exists(sc, def)) throw err::DEFAULT_SR_NOT_FOUND(def);
        return def;
      });
      int64_t size = 0;
      try {
        size = std::stoll(d.count("size") ? d.at("size") : "0");
      } catch (...) {
        throw err::INVALID_VALUE("other_config:disks", xml->str());
      }
      std::string type = d.count("type") ? d.at("type") : "system";
      if (type != "system" && type != "user" && type != "ephemeral") type = "system";
      std::string name = o->at(vc, "name_label").str() + " " + (d.count("device") ? d.at("device") : "0");
      made.emplace_back(d, storage::create_vdi(c, sr, name, size, type, "Created by template provisioner"));
      c.progress(0.9 * static_cast<double>(made.size()) / static_cast<double>(disks.size()));
    }
    c.store().write([&](Txn& t) {
      for (const auto& [d, vdi] : made) {
        Map vbd;
        vbd.emplace_back(Value("VM"), Value(vm.ref));
        vbd.emplace_back(Value("VDI"), Value(vdi));
        vbd.emplace_back(Value("userdevice"), Value(d.count("device") ? d.at("device") : std::string("autodetect")));
        vbd.emplace_back(Value("bootable"), Value(d.count("bootable") && d.at("bootable") == "true"));
        vbd.emplace_back(Value("mode"), Value("RW"));
        vbd.emplace_back(Value("type"), Value("Disk"));
        vbd.emplace_back(Value("empty"), Value(false));
        vbd.emplace_back(Value("other_config"), Value(Map{{Value("owner"), Value("true")}}));
        vbd.emplace_back(Value("qos_algorithm_type"), Value(""));
        vbd.emplace_back(Value("qos_algorithm_params"), Value::empty_map());
        create_object(c, t, bc, vbd);
      }
      // Provisioned once: the description is consumed.
      t.update(vc, vm.ref, [&](Object& x) {
        Map& m = x.values[vc.field("other_config")->index].map();
        m.erase(std::remove_if(m.begin(), m.end(), [](const auto& kv) { return kv.first.str() == "disks"; }), m.end());
      });
      guard.end(t);
    });
  } catch (...) {
    for (const auto& [d, vdi] : made) {
      try {
        storage::destroy_vdi(c, vdi);
      } catch (...) {
      }
    }
    throw;
  }
});

}  // namespace xenapi
