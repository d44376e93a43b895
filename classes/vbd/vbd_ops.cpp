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

void require_running(Call& c, const VbdView& x) {
  if (x.state != "Running") throw err::VM_BAD_POWER_STATE(x.vm->ref, "running", lifecycle::state_name(x.state));
  // No hot-plug while the VM is stopping, suspending or pausing.
  for (const auto& [task, op] : x.vm->at(c.cls("VM"), "current_operations").map()) {
    const std::string& o = op.str();
    if (o == "clean_shutdown" || o == "hard_shutdown" || o == "suspend" || o == "pause" || o == "shutdown")
      throw err::OPERATION_NOT_ALLOWED("the VM is doing " + o);
  }
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

void set_attached(Call& c, const std::string& vbd, bool attached) {
  const dm::Class& bc = c.cls("VBD");
  c.store().write([&](Txn& t) {
    if (!t.exists(bc, vbd)) return;
    t.update(bc, vbd, [&](Object& o) {
      o.values[bc.field("currently_attached")->index] = Value(attached);
      if (attached) o.values[bc.field("device")->index] = Value(vm::guest_device(o.at(bc, "userdevice").str()));
    });
  });
}

void unplug(Call& c, const std::string& ref, bool force) {
  VbdView x = look(c, ref);
  const dm::Class& bc = c.cls("VBD");
  require_running(c, x);
  if (!x.vbd->at(bc, "currently_attached").boolean()) throw err::DEVICE_ALREADY_DETACHED(ref);
  if (!force && !x.vbd->at(bc, "unpluggable").boolean()) throw err::VBD_NOT_UNPLUGGABLE(ref);
  std::string device = vm::guest_device(x.vbd->at(bc, "userdevice").str());
  vm::backend_call(ref, [&] { c.env().backend.detach_disk(x.vm_uuid, device, force); }, "VBD");
  set_attached(c, ref, false);
}

}  // namespace

XENAPI_HANDLER("VBD.plug", [](Call& c, const Ref& self) {
  VbdView x = look(c, self.ref);
  require_running(c, x);
  if (x.vbd->at(c.cls("VBD"), "currently_attached").boolean()) throw err::DEVICE_ALREADY_ATTACHED(self.ref);
  c.store().read([&](const View& v) {
    vm::assert_attachable(v, self.ref);
    return 0;
  });
  hv::DiskConfig d = disk_of(c, *x.vbd);
  vm::backend_call(self.ref, [&] { c.env().backend.attach_disk(x.vm_uuid, d); }, "VBD");
  set_attached(c, self.ref, true);
});

XENAPI_HANDLER("VBD.unplug", [](Call& c, const Ref& self) { unplug(c, self.ref, false); });
XENAPI_HANDLER("VBD.unplug_force", [](Call& c, const Ref& self) { unplug(c, self.ref, true); });

XENAPI_HANDLER("VBD.insert", [](Call& c, const Ref& vbd, const Ref& vdi) {
  VbdView x = look(c, vbd.ref);
  const dm::Class& bc = c.cls("VBD");
  if (x.vbd->at(bc, "type").str() != "CD") throw err::VBD_NOT_REMOVABLE_MEDIA(vbd.ref);
  if (!x.vbd->at(bc, "empty").boolean()) throw err::VBD_NOT_EMPTY(vbd.ref);
  if (x.state == "Suspended") throw err::VM_BAD_POWER_STATE(x.vm->ref, "halted, running, paused", "suspended");
  if (vdi.is_null()) throw err::HANDLE_INVALID("VDI", vdi.ref);
  bool live = x.vbd->at(bc, "currently_attached").boolean() && (x.state == "Running" || x.state == "Paused");
  if (live) {
    std::string path = c.store().read([&](const View& v) { return v.must_get(c.cls("VDI"), vdi.ref)->at(c.cls("VDI"), "path").str(); });
    std::string device = vm::guest_device(x.vbd->at(bc, "userdevice").str());
    vm::backend_call(vbd.ref, [&] { c.env().backend.change_media(x.vm_uuid, device, path); }, "VBD");
  }
  c.store().write([&](Txn& t) {
    t.update(bc, vbd.ref, [&](Object& o) {
      o.values[bc.field("VDI")->index] = Value(vdi.ref);
      o.values[bc.field("empty")->index] = Value(false);
    });
  });
});

XENAPI_HANDLER("VBD.eject", [](Call& c, const Ref& vbd) {
  VbdView x = look(c, vbd.ref);
  const dm::Class& bc = c.cls("VBD");
  if (x.vbd->at(bc, "type").str() != "CD") throw err::VBD_NOT_REMOVABLE_MEDIA(vbd.ref);
  if (x.vbd->at(bc, "empty").boolean()) throw err::VBD_IS_EMPTY(vbd.ref);
  if (x.state == "Suspended") throw err::VM_BAD_POWER_STATE(x.vm->ref, "halted, running, paused", "suspended");
  if (x.vbd->at(bc, "currently_attached").boolean() && (x.state == "Running" || x.state == "Paused")) {
    std::string device = vm::guest_device(x.vbd->at(bc, "userdevice").str());
    vm::backend_call(vbd.ref, [&] { c.env().backend.change_media(x.vm_uuid, device, ""); }, "VBD");
  }
  c.store().write([&](Txn& t) {
    t.update(bc, vbd.ref, [&](Object& o) {
      o.values[bc.field("VDI")->index] = Value(std::string(dm::kNullRef));
      o.values[bc.field("empty")->index] = Value(true);
    });
  });
});

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
