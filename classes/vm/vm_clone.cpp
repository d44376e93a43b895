// New VMs from existing ones (xenapi-spec §5.5): clone, copy, snapshot,
// checkpoint, revert, and provision (disks from a template's "disks" XML).
//
// The VM.parent chain is xapi's: a clone or copy is a new top-level VM
// (parent NULL); a snapshot's parent is the VM's parent before it, and the
// VM's parent becomes the new snapshot (after a revert: the snapshot reverted
// to), so parent/children trace the VM's snapshot history.
#include <algorithm>
#include <ctime>
#include <exception>
#include <map>
#include <optional>

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
    // The memory image the new VM keeps: a checkpoint's, or a copy of the
    // image of a suspended source (a checkpoint being cloned or copied).
    std::string image;
    const std::string& src_state = src->at(vc, "power_state").str();
    const std::string& src_image = src->at(vc, "suspend_VDI").str();
    const bool src_has_image = src_state == "Suspended" && src_image != dm::kNullRef &&
                               c.store().read([&](const View& v) { return v.exists(dc, src_image); });
    if (mode != Mode::Snapshot && src_has_image) {
      image = storage::copy_vdi(c, src_image, mode == Mode::Copy ? CopyKind::Copy : CopyKind::Clone,
                                mode == Mode::Copy ? sr : std::string());
      made.push_back(image);
    } else if (mode == Mode::Checkpoint) {
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
      // The name of the template a VM was made from stays with it.
      if (src->at(vc, "is_a_template").boolean() && !src->at(vc, "is_a_snapshot").boolean() &&
          !other.find("base_template_name"))
        other.set_member("base_template_name", src->at(vc, "name_label"));
      set_member(record, "other_config", other);
      if (snap) set_member(record, "is_a_template", Value(true));
      // As xapi: a new object is not blocked, not HA-protected, not ordered.
      set_member(record, "blocked_operations", Value::empty_map());
      set_member(record, "ha_always_run", Value(false));
      for (const char* f : {"start_delay", "shutdown_delay", "order"}) set_member(record, f, Value(int64_t{0}));
      set_member(record, "suspend_SR", Value(std::string(dm::kNullRef)));
      Map fixed;
      fixed.emplace_back(Value("bios_strings"), src->at(vc, "bios_strings"));
      if (snap) {
        fixed.emplace_back(Value("is_a_snapshot"), Value(true));
        fixed.emplace_back(Value("snapshot_of"), Value(src_ref));
        fixed.emplace_back(Value("snapshot_time"), Value(now()));
        fixed.emplace_back(Value("transportable_snapshot_id"), Value(c.store().ids().uuid()));
        fixed.emplace_back(Value("snapshot_info"),
                           Value(Map{{Value("power-state-at-snapshot"), Value(src_state)},
                                     {Value("disk-snapshot-type"), Value("crash_consistent")}}));
        // The snapshot takes the VM's place in its history.
        fixed.emplace_back(Value("parent"), t.must_get(vc, src_ref)->at(vc, "parent"));
      }
      std::string ref = create_object(c, t, vc, record, fixed);
      if (snap) t.set(vc, src_ref, "parent", Value(ref));
      if (!image.empty()) {
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

namespace {

// The VM a snapshot describes, made again from the snapshot when it was
// destroyed (as xapi does): a new VM, no longer a template or a snapshot,
// that the snapshot then belongs to. Its devices come with the revert.
std::string recreate_from_snapshot(Call& c, const Object& snap) {
  const dm::Class& vc = vm_class(c);
  return c.store().write([&](Txn& t) {
    Map record = inherited_record(vc, snap);
    set_member(record, "is_a_template", Value(false));
    Map fixed;
    fixed.emplace_back(Value("bios_strings"), snap.at(vc, "bios_strings"));
    std::string ref = create_object(c, t, vc, record, fixed);
    t.set(vc, snap.ref, "snapshot_of", Value(ref));
    return ref;
  });
}

// A snapshot's disk, the clone that replaces it in the VM, and the VM's
// disk it was a snapshot of (whose place the clone takes).
struct RevertDisk {
  ObjectPtr vbd;                 // the snapshot's VBD
  std::string clone;             // NULL for empty drives; the same media for CDs
  std::string replaces;          // the VM's disk the snapshot was taken of, if any
  std::vector<std::string> snapshots_of_replaced;  // VDI snapshots to re-point at the clone
};

}  // namespace

// The snapshot's VM takes the snapshot's state (xapi's revert): its
// configuration, fresh clones of the snapshot's disks in place of the disks
// they were taken of (disks added since stay, detached), the snapshot's
// VIFs with their MACs, its memory image for a checkpoint, parent = the
// snapshot. The snapshot is held as "revert", the VM as "reverting". A
// failure before the VM is touched leaves it as it was; later, the VM ends
// halted. Either way the error is VM_REVERT_FAILED [vm, snapshot], or the
// cause itself for SR_FULL and cancellation.
XENAPI_HANDLER("VM.revert", [](Call& c, const Ref& snapshot) {
  const dm::Class& vc = vm_class(c);
  const dm::Class& bc = c.cls("VBD");
  const dm::Class& fc = c.cls("VIF");
  const dm::Class& dc = c.cls("VDI");
  vm::Operation snap_op(c, snapshot.ref, "revert");
  ObjectPtr snap = c.store().read([&](const View& v) { return v.must_get(vc, snapshot.ref); });
  std::string target = snap->at(vc, "snapshot_of").str();
  bool recreated = false;
  if (!c.store().read([&](const View& v) { return v.exists(vc, target); })) {
    target = recreate_from_snapshot(c, *snap);
    recreated = true;
  }
  std::vector<std::string> made;
  auto fail = [&](const std::exception_ptr& cause) {
    for (const auto& d : made) {
      try {
        storage::destroy_vdi(c, d);
      } catch (...) {
      }
    }
    if (recreated) {
      try {
        c.store().write([&](Txn& t) {
          if (!t.exists(vc, target)) return;
          for (const char* set : {"VBDs", "VIFs"})
            for (const Value& d : t.must_get(vc, target)->at(vc, set).arr()) {
              const dm::Class& cls = std::string(set) == "VBDs" ? bc : fc;
              if (t.exists(cls, d.str())) t.destroy(cls, d.str());
            }
          const std::string metrics = t.must_get(vc, target)->at(vc, "metrics").str();
          if (t.exists(c.cls("VM_metrics"), metrics)) t.destroy(c.cls("VM_metrics"), metrics);
          t.destroy(vc, target);
        });
      } catch (...) {
      }
    }
    try {
      std::rethrow_exception(cause);
    } catch (const ApiError& e) {
      if (e.code() == "SR_FULL" || e.code() == "TASK_CANCELLED" || e.code() == "OTHER_OPERATION_IN_PROGRESS") throw;
    } catch (...) {
    }
    throw err::VM_REVERT_FAILED(target, snapshot.ref);
  };

  // The VM's own rules (busy, blocked) answer for themselves.
  std::optional<vm::Operation> vm_op;
  try {
    vm_op.emplace(c, target, "reverting");
  } catch (...) {
    if (recreated) fail(std::current_exception());
    throw;
  }
  std::vector<RevertDisk> disks;
  std::string image;
  try {
    // 1. Clones of the snapshot's disks and image (the VM is untouched).
    std::vector<ObjectPtr> vbds = c.store().read([&](const View& v) {
      std::vector<ObjectPtr> out;
      for (const Value& r : snap->at(vc, "VBDs").arr())
        if (ObjectPtr b = v.get(bc, r.str())) out.push_back(b);
      return out;
    });
    size_t done = 0;
    for (const auto& b : vbds) {
      RevertDisk d{b, std::string(dm::kNullRef), "", {}};
      const bool empty = b->at(bc, "empty").boolean();
      const std::string& vdi = b->at(bc, "VDI").str();
      if (!empty && b->at(bc, "type").str() == "CD") {
        d.clone = vdi;
      } else if (!empty) {
        d.clone = storage::copy_vdi(c, vdi, CopyKind::Clone);
        made.push_back(d.clone);
        c.store().read([&](const View& v) {
          ObjectPtr sd = v.must_get(dc, vdi);
          d.replaces = sd->at(dc, "snapshot_of").str();
          if (ObjectPtr old = v.get(dc, d.replaces))
            for (const Value& x : old->at(dc, "snapshots").arr()) d.snapshots_of_replaced.push_back(x.str());
          return 0;
        });
      }
      disks.push_back(std::move(d));
      c.progress(0.6 * static_cast<double>(++done) / static_cast<double>(vbds.size()));
    }
    const std::string& snap_image = snap->at(vc, "suspend_VDI").str();
    if (snap->at(vc, "power_state").str() == "Suspended" && snap_image != dm::kNullRef) {
      image = storage::copy_vdi(c, snap_image, CopyKind::Clone);
      made.push_back(image);
    }
    c.progress(0.7);
  } catch (...) {
    fail(std::current_exception());
  }

  // 2. The VM stops; its devices and the disks the clones replace go.
  ObjectPtr vm = c.store().read([&](const View& v) { return v.must_get(vc, target); });
  std::vector<std::string> old_disks;
  std::string old_image = vm->at(vc, "suspend_VDI").str();
  try {
    const std::string uuid = vm->at(vc, "uuid").str();
    vm::backend_call(target, [&] { c.env().backend.destroy(uuid); });
    const int64_t free = c.env().backend.free_memory();
    c.store().write([&](Txn& t) {
      vm::mark_stopped(t, c.env(), target);
      vm::refresh_host_memory(t, c.env(), free);
      ObjectPtr now = t.must_get(vc, target);
      for (const Value& r : now->at(vc, "VBDs").arr()) {
        ObjectPtr b = t.get(bc, r.str());
        if (!b) continue;
        const std::string& vdi = b->at(bc, "VDI").str();
        for (const auto& d : disks)
          if (!d.replaces.empty() && d.replaces == vdi && !b->at(bc, "empty").boolean()) old_disks.push_back(vdi);
        t.destroy(bc, r.str());
      }
      for (const Value& r : now->at(vc, "VIFs").arr())
        if (t.exists(fc, r.str())) t.destroy(fc, r.str());
      t.set(vc, target, "suspend_VDI", Value(std::string(dm::kNullRef)));
    });
    for (const std::string& d : old_disks) {
      try {
        storage::destroy_vdi(c, d);
      } catch (const ApiError&) {
        // Still used elsewhere (another VM runs on it): it stays.
      }
    }
    if (old_image != dm::kNullRef) {
      try {
        storage::destroy_vdi(c, old_image);
      } catch (const ApiError&) {
      }
    }
    c.progress(0.8);

    // 3. The snapshot's configuration, devices and image.
    c.store().write([&](Txn& t) {
      ObjectPtr s = t.must_get(vc, snapshot.ref);
      t.update(vc, target, [&](Object& o) {
        for (const auto& f : vc.fields) {
          if (!f.in_constructor() || f.name == "name_label" || f.name == "power_state" || f.name == "suspend_VDI" ||
              f.name == "is_a_template" || f.name == "affinity" || f.name == "tags")
            continue;
          o.values[f.index] = s->values[f.index];
        }
        o.values[vc.field("ha_always_run")->index] = Value(false);
        o.values[vc.field("parent")->index] = Value(snapshot.ref);
        if (!image.empty()) {
          o.values[vc.field("power_state")->index] = Value("Suspended");
          o.values[vc.field("suspend_VDI")->index] = Value(image);
        }
      });
      for (const auto& d : disks) {
        std::vector<Value> v = c.store().defaults(bc);
        for (const char* f : {"userdevice", "bootable", "mode", "type", "unpluggable", "other_config",
                              "qos_algorithm_type", "qos_algorithm_params"})
          v[bc.field(f)->index] = d.vbd->at(bc, f);
        v[bc.field("VM")->index] = Value(target);
        v[bc.field("VDI")->index] = Value(d.clone);
        v[bc.field("empty")->index] = Value(d.clone == dm::kNullRef);
        t.create(bc, std::move(v));
        // The disk's other snapshots now describe its clone.
        for (const auto& other : d.snapshots_of_replaced)
          if (t.exists(dc, other)) t.set(dc, other, "snapshot_of", Value(d.clone));
      }
      for (const Value& r : s->at(vc, "VIFs").arr()) {
        ObjectPtr f = t.get(fc, r.str());
        if (!f) continue;
        Map vif;
        for (const char* name : {"device", "network", "MAC", "MTU", "other_config", "qos_algorithm_type",
                                 "qos_algorithm_params", "locking_mode", "ipv4_allowed", "ipv6_allowed"})
          vif.emplace_back(Value(name), f->at(fc, name));
        vif.emplace_back(Value("VM"), Value(target));
        create_object(c, t, fc, vif);
      }
      vm_op->end(t);
      snap_op.end(t);
    });
  } catch (...) {
    try {
      c.store().write([&](Txn& t) {
        if (t.exists(vc, target)) vm::mark_stopped(t, c.env(), target);
      });
    } catch (...) {
    }
    fail(std::current_exception());
  }
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
