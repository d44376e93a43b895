// VIF operations: hot-plug, moving between networks, address filtering.
#include <algorithm>

#include "classes/api/handlers.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

struct VifView {
  ObjectPtr vif, vm;
  std::string vm_uuid, state;
};

VifView look(Call& c, const std::string& ref) {
  return c.store().read([&](const View& v) {
    const dm::Class& fc = c.cls("VIF");
    const dm::Class& vc = c.cls("VM");
    VifView x;
    x.vif = v.must_get(fc, ref);
    x.vm = v.must_get(vc, x.vif->at(fc, "VM").str());
    x.vm_uuid = x.vm->at(vc, "uuid").str();
    x.state = x.vm->at(vc, "power_state").str();
    return x;
  });
}

void set_field(Call& c, const std::string& vif, const char* field, Value v) {
  c.store().write([&](Txn& t) { t.set(c.cls("VIF"), vif, field, std::move(v)); });
}

// Ends `op` and records whether the NIC is attached, in one transaction.
void set_attached(Call& c, vm::Operation& op, const std::string& vif, bool attached) {
  c.store().write([&](Txn& t) {
    op.end(t);
    if (t.exists(c.cls("VIF"), vif)) t.set(c.cls("VIF"), vif, "currently_attached", Value(attached));
  });
}

void unplug(Call& c, const std::string& ref, bool force) {
  vm::Operation op(c, "VIF", ref, force ? "unplug_force" : "unplug");
  VifView x = look(c, ref);
  std::string device = x.vif->at(c.cls("VIF"), "device").str();
  vm::backend_call(ref, [&] { c.env().backend.detach_nic(x.vm_uuid, device, force); }, "VIF");
  set_attached(c, op, ref, false);
}

void edit_set(Call& c, const std::string& vif, const char* field, const std::string& item, bool add) {
  const dm::Class& fc = c.cls("VIF");
  c.store().write([&](Txn& t) {
    t.update(fc, vif, [&](Object& o) {
      Array& a = o.values[fc.field(field)->index].arr();
      auto it = std::find(a.begin(), a.end(), Value(item));
      if (add && it == a.end()) a.emplace_back(item);
      if (!add && it != a.end()) a.erase(it);
    });
  });
}

}  // namespace

// plug and unplug check the VIF operations table (lifecycle::vif_rules) and
// hold their operation in current_operations while the backend works.
XENAPI_HANDLER("VIF.plug", [](Call& c, const Ref& self) {
  vm::Operation op(c, "VIF", self.ref, "plug");
  VifView x = look(c, self.ref);
  const dm::Class& fc = c.cls("VIF");
  hv::NicConfig n;
  n.device = x.vif->at(fc, "device").str();
  n.mac = x.vif->at(fc, "MAC").str();
  n.mtu = x.vif->at(fc, "MTU").integer();
  n.bridge = c.store().read([&](const View& v) {
    ObjectPtr net = v.get(c.cls("network"), x.vif->at(fc, "network").str());
    return net ? net->at(c.cls("network"), "bridge").str() : std::string();
  });
  vm::backend_call(self.ref, [&] { c.env().backend.attach_nic(x.vm_uuid, n); }, "VIF");
  set_attached(c, op, self.ref, true);
});

XENAPI_HANDLER("VIF.unplug", [](Call& c, const Ref& self) { unplug(c, self.ref, false); });
XENAPI_HANDLER("VIF.unplug_force", [](Call& c, const Ref& self) { unplug(c, self.ref, true); });

XENAPI_HANDLER("VIF.move", [](Call& c, const Ref& self, const Ref& network) {
  if (network.is_null()) throw err::HANDLE_INVALID("network", network.ref);
  set_field(c, self.ref, "network", Value(network.ref));
});

XENAPI_HANDLER("VIF.set_locking_mode", [](Call& c, const Ref& self, const std::string& v) {
  set_field(c, self.ref, "locking_mode", Value(v));
});
XENAPI_HANDLER("VIF.set_ipv4_allowed", [](Call& c, const Ref& self, const std::vector<std::string>& v) {
  set_field(c, self.ref, "ipv4_allowed", handler_detail::Conv<std::vector<std::string>>::to(v));
});
XENAPI_HANDLER("VIF.set_ipv6_allowed", [](Call& c, const Ref& self, const std::vector<std::string>& v) {
  set_field(c, self.ref, "ipv6_allowed", handler_detail::Conv<std::vector<std::string>>::to(v));
});
XENAPI_HANDLER("VIF.add_ipv4_allowed", [](Call& c, const Ref& self, const std::string& v) { edit_set(c, self.ref, "ipv4_allowed", v, true); });
XENAPI_HANDLER("VIF.remove_ipv4_allowed", [](Call& c, const Ref& self, const std::string& v) { edit_set(c, self.ref, "ipv4_allowed", v, false); });
XENAPI_HANDLER("VIF.add_ipv6_allowed", [](Call& c, const Ref& self, const std::string& v) { edit_set(c, self.ref, "ipv6_allowed", v, true); });
XENAPI_HANDLER("VIF.remove_ipv6_allowed", [](Call& c, const Ref& self, const std::string& v) { edit_set(c, self.ref, "ipv6_allowed", v, false); });

namespace {

void configure(Call& c, const std::string& vif, const char* family, const std::string& mode, const std::string& address,
               const std::string& gateway) {
  const dm::Class& fc = c.cls("VIF");
  std::string prefix = family;
  if (mode == "Static" && address.empty()) throw err::INVALID_VALUE("address", address);
  c.store().write([&](Txn& t) {
    t.update(fc, vif, [&](Object& o) {
      o.values[fc.field(prefix + "_configuration_mode")->index] = Value(mode);
      o.values[fc.field(prefix + "_addresses")->index] = mode == "Static" ? Value::array({Value(address)}) : Value::empty_array();
      o.values[fc.field(prefix + "_gateway")->index] = Value(mode == "Static" ? gateway : std::string());
    });
  });
}

}  // namespace

XENAPI_HANDLER("VIF.configure_ipv4", [](Call& c, const Ref& self, const std::string& mode, const std::string& address,
                                        const std::string& gateway) { configure(c, self.ref, "ipv4", mode, address, gateway); });
XENAPI_HANDLER("VIF.configure_ipv6", [](Call& c, const Ref& self, const std::string& mode, const std::string& address,
                                        const std::string& gateway) { configure(c, self.ref, "ipv6", mode, address, gateway); });

}  // namespace xenapi
