// VBD operations: hot-plug, removable media, mode (xenapi-spec §5.4).
#include <algorithm>

#include "classes/api/handlers.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

struct VbdView {
  ObjectPtr vbd, vm;
  std::string vm_uuid, state;
};

VbdView look(Call& c, const std::string& ref) {
  return c.store().read([&](const View& v) {
    const dm::Class& bc = c.cls("VBD");
    const dm::Class& vc = c.cls("VM");
    VbdView x;
    x.vbd = v.must_get(bc, ref);
    x.vm = v.must_get(vc, x.vbd->at(bc, "VM").str());
    x.vm_uuid = x.vm->at(vc, "uuid").str();
    x.state = x.vm->at(vc, "power_state").str();
    return x;
  });
}

hv::DiskConfig disk_of(Call& c, const Object& vbd) {
  const dm::Class& bc = c.cls("VBD");
  const dm::Class& dc = c.cls("VDI");
  hv::DiskConfig d;
  d.userdevice = vbd.at(bc, "userdevice").str();
  d.device = vm::guest_device(d.userdevice);
  d.cdrom = vbd.at(bc, "type").str() == "CD";
  d.read_only = vbd.at(bc, "mode").str() == "RO";
  if (!vbd.at(bc, "empty").boolean()) {
    std::string vdi = vbd.at(bc, "VDI").str();
    c.store().read([&](const View& v) {
      ObjectPtr disk = v.get(dc, vdi);
      if (!disk) throw err::HANDLE_INVALID("VDI", vdi);
      d.path = disk->at(dc, "path").str();
      d.vdi_uuid = disk->at(dc, "uuid").str();
      return 0;
    });
  }
  return d;
}

// Ends `op` and records the device's new state in one transaction.
void set_attached(Call& c, vm::Operation& op, const std::string& vbd, bool attached) {
  const dm::Class& bc = c.cls("VBD");
  c.store().write([&](Txn& t) {
    op.end(t);
    if (!t.exists(bc, vbd)) return;
    t.update(bc, vbd, [&](Object& o) {
      o.values[bc.field("currently_attached")->index] = Value(attached);
      if (attached) o.values[bc.field("device")->index] = Value(vm::guest_device(o.at(bc, "userdevice").str()));
    });
  });
}

void unplug(Call& c, const std::string& ref, bool force) {
  vm::Operation op(c, "VBD", ref, force ? "unplug_force" : "unplug");
  VbdView x = look(c, ref);
  std::string device = vm::guest_device(x.vbd->at(c.cls("VBD"), "userdevice").str());
  vm::backend_call(ref, [&] { c.env().backend.detach_disk(x.vm_uuid, device, force); }, "VBD");
  set_attached(c, op, ref, false);
}

// Loads (vdi) or empties (NULL) a CD drive; live on a running or paused VM.
void change_media(Call& c, const std::string& vbd, const std::string& vdi, const char* name) {
  const dm::Class& bc = c.cls("VBD");
  vm::Operation op(c, "VBD", vbd, name);
  VbdView x = look(c, vbd);
  if (x.vbd->at(bc, "currently_attached").boolean() && (x.state == "Running" || x.state == "Paused")) {
    std::string path;
    if (vdi != dm::kNullRef)
      path = c.store().read([&](const View& v) { return v.must_get(c.cls("VDI"), vdi)->at(c.cls("VDI"), "path").str(); });
    std::string device = vm::guest_device(x.vbd->at(bc, "userdevice").str());
    vm::backend_call(vbd, [&] { c.env().backend.change_media(x.vm_uuid, device, path); }, "VBD");
  }
  c.store().write([&](Txn& t) {
    op.end(t);
    t.update(bc, vbd, [&](Object& o) {
      o.values[bc.field("VDI")->index] = Value(vdi);
      o.values[bc.field("empty")->index] = Value(vdi == dm::kNullRef);
    });
  });
}

}  // namespace

// Every call checks the VBD operations table (lifecycle::vbd_rules) and holds
// its operation in current_operations while the backend works.
XENAPI_HANDLER("VBD.plug", [](Call& c, const Ref& self) {
  vm::Operation op(c, "VBD", self.ref, "plug");
  c.store().read([&](const View& v) {
    vm::assert_attachable(v, self.ref);
    return 0;
  });
  VbdView x = look(c, self.ref);
  hv::DiskConfig d = disk_of(c, *x.vbd);
  vm::backend_call(self.ref, [&] { c.env().backend.attach_disk(x.vm_uuid, d); }, "VBD");
  set_attached(c, op, self.ref, true);
});

XENAPI_HANDLER("VBD.unplug", [](Call& c, const Ref& self) { unplug(c, self.ref, false); });
XENAPI_HANDLER("VBD.unplug_force", [](Call& c, const Ref& self) { unplug(c, self.ref, true); });

XENAPI_HANDLER("VBD.insert", [](Call& c, const Ref& vbd, const Ref& vdi) {
  // The drive's own rules first, then the media.
  c.store().read([&](const View& v) {
    ObjectPtr b = v.must_get(c.cls("VBD"), vbd.ref);
    if (auto e = lifecycle::check(v, c.cls("VBD"), *b, "insert")) throw *e;
    return 0;
  });
  if (vdi.is_null()) throw err::HANDLE_INVALID("VDI", vdi.ref);
  change_media(c, vbd.ref, vdi.ref, "insert");
});

XENAPI_HANDLER("VBD.eject", [](Call& c, const Ref& vbd) { change_media(c, vbd.ref, std::string(dm::kNullRef), "eject"); });

XENAPI_HANDLER("VBD.set_mode", [](Call& c, const Ref& self, const std::string& mode) {
  VbdView x = look(c, self.ref);
  const dm::Class& bc = c.cls("VBD");
  if (x.state != "Halted") throw err::VM_BAD_POWER_STATE(x.vm->ref, "halted", lifecycle::state_name(x.state));
  if (x.vbd->at(bc, "type").str() == "CD" && mode != "RO") throw err::VBD_CDS_MUST_BE_READONLY();
  c.store().write([&](Txn& t) { t.set(bc, self.ref, "mode", Value(mode)); });
});

XENAPI_HANDLER("VBD.assert_attachable", [](Call& c, const Ref& self) {
  c.store().read([&](const View& v) {
    vm::assert_attachable(v, self.ref);
    return 0;
  });
});

}  // namespace xenapi
