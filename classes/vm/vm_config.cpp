// VM configuration setters with rules: vCPUs, memory, boot, NVRAM, HA and
// start-order fields (the StaticRO fields that have explicit setters).
#include <algorithm>
#include <set>

#include "classes/api/handlers.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

using Fields = std::vector<std::pair<const char*, Value>>;

const dm::Class& vm_class(Call& c) { return c.cls("VM"); }

// Checks `op` (if any), lets `validate` see the record as it would become,
// and writes the fields in one transaction.
void set_fields(Call& c, const std::string& vm, const char* op, const Fields& fields,
                const std::function<void(const Object& next)>& validate = {}) {
  const dm::Class& vc = vm_class(c);
  c.store().write([&](Txn& t) {
    ObjectPtr o = t.must_get(vc, vm);
    if (op)
      if (auto e = lifecycle::check_vm(vc, *o, op, true)) throw *e;
    Object next = *o;
    for (const auto& [f, v] : fields) next.values[vc.field(f)->index] = v;
    if (validate) validate(next);
    t.update(vc, vm, [&](Object& x) { x.values = next.values; });
  });
}

int64_t get(const dm::Class& vc, const Object& o, const char* f) { return o.at(vc, f).integer(); }

void check_memory(const dm::Class& vc, const Object& o) {
  int64_t smin = get(vc, o, "memory_static_min"), dmin = get(vc, o, "memory_dynamic_min");
  int64_t dmax = get(vc, o, "memory_dynamic_max"), smax = get(vc, o, "memory_static_max");
  if (!(0 <= smin && smin <= dmin && dmin <= dmax && dmax <= smax))
    throw err::MEMORY_CONSTRAINT_VIOLATION(
        "Memory limits must satisfy: 0 <= static_min <= dynamic_min <= dynamic_max <= static_max");
}

std::function<void(const Object&)> memory_rule(Call& c) {
  return [&c](const Object& o) { check_memory(vm_class(c), o); };
}

// Dynamic memory changes: on a running VM the balloon moves first (the
// backend may refuse: HOST_NOT_ENOUGH_FREE_MEMORY, and then nothing changes),
// then the record, VM_metrics and the host's free memory follow.
void set_dynamic(Call& c, const std::string& vm, const Fields& fields) {
  const dm::Class& vc = vm_class(c);
  ObjectPtr o = c.store().read([&](const View& v) { return v.must_get(vc, vm); });
  if (auto e = lifecycle::check_vm(vc, *o, "changing_dynamic_range", true)) throw *e;
  Object next = *o;
  for (const auto& [f, v] : fields) next.values[vc.field(f)->index] = v;
  check_memory(vc, next);
  const bool running = o->at(vc, "power_state").str() == "Running";
  const int64_t target = get(vc, next, "memory_dynamic_max");
  if (running) vm::backend_call(vm, [&] { c.env().backend.set_memory_target(o->at(vc, "uuid").str(), target); });
  set_fields(c, vm, "changing_dynamic_range", fields, memory_rule(c));
  if (!running) return;
  const int64_t free = c.env().backend.free_memory();
  c.store().write([&](Txn& t) {
    const dm::Class& mc = c.cls("VM_metrics");
    const std::string& m = o->at(vc, "metrics").str();
    if (t.exists(mc, m)) t.set(mc, m, "memory_actual", Value(target));
    t.set(vc, vm, "memory_target", Value(target));
    vm::refresh_host_memory(t, c.env(), free);
  });
}

}  // namespace

XENAPI_HANDLER("VM.set_VCPUs_max", [](Call& c, const Ref& self, int64_t value) {
  if (value < 1 || value > 256) throw err::INVALID_VALUE("VCPUs_max", std::to_string(value));
  set_fields(c, self.ref, "changing_VCPUs", {{"VCPUs_max", Value(value)}}, [&](const Object& o) {
    if (get(vm_class(c), o, "VCPUs_at_startup") > value) throw err::INVALID_VALUE("VCPUs_max", std::to_string(value));
  });
});

XENAPI_HANDLER("VM.set_VCPUs_at_startup", [](Call& c, const Ref& self, int64_t value) {
  set_fields(c, self.ref, "changing_VCPUs", {{"VCPUs_at_startup", Value(value)}}, [&](const Object& o) {
    if (value < 1 || value > get(vm_class(c), o, "VCPUs_max"))
      throw err::INVALID_VALUE("VCPUs_at_startup", std::to_string(value));
  });
});

XENAPI_HANDLER("VM.set_VCPUs_number_live", [](Call& c, const Ref& self, int64_t nvcpu) {
  const dm::Class& vc = vm_class(c);
  ObjectPtr o = c.store().read([&](const View& v) { return v.must_get(vc, self.ref); });
  if (auto e = lifecycle::check_vm(vc, *o, "changing_VCPUs_live", true)) throw *e;
  if (nvcpu < 1 || nvcpu > get(vc, *o, "VCPUs_max")) throw err::INVALID_VALUE("nvcpu", std::to_string(nvcpu));
  vm::backend_call(self.ref, [&] { c.env().backend.set_vcpus(o->at(vc, "uuid").str(), nvcpu); });
  c.store().write([&](Txn& t) {
    t.set(vc, self.ref, "VCPUs_at_startup", Value(nvcpu));
    const dm::Class& mc = c.cls("VM_metrics");
    const std::string& m = o->at(vc, "metrics").str();
    if (t.exists(mc, m)) t.set(mc, m, "VCPUs_number", Value(nvcpu));
  });
});

XENAPI_HANDLER("VM.set_memory_static_max", [](Call& c, const Ref& self, int64_t value) {
  set_fields(c, self.ref, "changing_static_range", {{"memory_static_max", Value(value)}}, memory_rule(c));
});
XENAPI_HANDLER("VM.set_memory_static_min", [](Call& c, const Ref& self, int64_t value) {
  set_fields(c, self.ref, "changing_static_range", {{"memory_static_min", Value(value)}}, memory_rule(c));
});
XENAPI_HANDLER("VM.set_memory_static_range", [](Call& c, const Ref& self, int64_t min, int64_t max) {
  set_fields(c, self.ref, "changing_static_range", {{"memory_static_min", Value(min)}, {"memory_static_max", Value(max)}},
             memory_rule(c));
});
XENAPI_HANDLER("VM.set_memory_dynamic_max", [](Call& c, const Ref& self, int64_t value) {
  set_dynamic(c, self.ref, {{"memory_dynamic_max", Value(value)}});
});
XENAPI_HANDLER("VM.set_memory_dynamic_min", [](Call& c, const Ref& self, int64_t value) {
  set_fields(c, self.ref, "changing_dynamic_range", {{"memory_dynamic_min", Value(value)}}, memory_rule(c));
});
XENAPI_HANDLER("VM.set_memory_dynamic_range", [](Call& c, const Ref& self, int64_t min, int64_t max) {
  set_dynamic(c, self.ref, {{"memory_dynamic_min", Value(min)}, {"memory_dynamic_max", Value(max)}});
});
XENAPI_HANDLER("VM.set_memory_limits",
               [](Call& c, const Ref& self, int64_t static_min, int64_t static_max, int64_t dynamic_min, int64_t dynamic_max) {
                 set_fields(c, self.ref, "changing_memory_limits",
                            {{"memory_static_min", Value(static_min)},
                             {"memory_static_max", Value(static_max)},
                             {"memory_dynamic_min", Value(dynamic_min)},
                             {"memory_dynamic_max", Value(dynamic_max)}},
                            memory_rule(c));
               });
// Static max, dynamic min and dynamic max all become `value`.
XENAPI_HANDLER("VM.set_memory", [](Call& c, const Ref& self, int64_t value) {
  const dm::Class& vc = vm_class(c);
  std::string state = c.store().read([&](const View& v) { return v.must_get(vc, self.ref)->at(vc, "power_state").str(); });
  if (state == "Halted") {
    set_fields(c, self.ref, "changing_memory_limits",
               {{"memory_static_max", Value(value)}, {"memory_dynamic_min", Value(value)}, {"memory_dynamic_max", Value(value)}},
               memory_rule(c));
  } else {
    set_dynamic(c, self.ref, {{"memory_dynamic_min", Value(value)}, {"memory_dynamic_max", Value(value)}});
  }
});

XENAPI_HANDLER("VM.set_HVM_boot_policy", [](Call& c, const Ref& self, const std::string& value) {
  set_fields(c, self.ref, nullptr, {{"HVM_boot_policy", Value(value)}});
});

XENAPI_HANDLER("VM.set_domain_type", [](Call& c, const Ref& self, const std::string& value) {
  Fields f = {{"domain_type", Value(value)}};
  // As xapi: the boot policy follows the domain type.
  if (value == "hvm") f.emplace_back("HVM_boot_policy", Value("BIOS order"));
  if (value == "pv" || value == "pvh" || value == "pv_in_pvh") f.emplace_back("HVM_boot_policy", Value(""));
  set_fields(c, self.ref, "changing_static_range", f);
});

XENAPI_HANDLER("VM.set_actions_after_crash", [](Call& c, const Ref& self, const std::string& value) {
  set_fields(c, self.ref, nullptr, {{"actions_after_crash", Value(value)}});
});

XENAPI_HANDLER("VM.set_HVM_shadow_multiplier", [](Call& c, const Ref& self, double value) {
  if (value < 1.0) throw err::INVALID_VALUE("value", format_double(value));
  set_fields(c, self.ref, "changing_shadow_memory", {{"HVM_shadow_multiplier", Value(value)}});
});

XENAPI_HANDLER("VM.set_NVRAM", [](Call& c, const Ref& self, const StringMap& value) {
  set_fields(c, self.ref, "changing_NVRAM", {{"NVRAM", handler_detail::Conv<StringMap>::to(value)}});
});

XENAPI_HANDLER("VM.add_to_NVRAM", [](Call& c, const Ref& self, const std::string& key, const std::string& value) {
  const dm::Class& vc = vm_class(c);
  Value nvram = c.store().read([&](const View& v) { return v.must_get(vc, self.ref)->at(vc, "NVRAM"); });
  nvram.set_member(key, Value(value));
  set_fields(c, self.ref, "changing_NVRAM", {{"NVRAM", nvram}});
});

XENAPI_HANDLER("VM.remove_from_NVRAM", [](Call& c, const Ref& self, const std::string& key) {
  const dm::Class& vc = vm_class(c);
  Value nvram = c.store().read([&](const View& v) { return v.must_get(vc, self.ref)->at(vc, "NVRAM"); });
  Map& m = nvram.map();
  m.erase(std::remove_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first.str() == key; }), m.end());
  set_fields(c, self.ref, "changing_NVRAM", {{"NVRAM", nvram}});
});

XENAPI_HANDLER("VM.set_order", [](Call& c, const Ref& self, int64_t v) { set_fields(c, self.ref, nullptr, {{"order", Value(v)}}); });
XENAPI_HANDLER("VM.set_start_delay", [](Call& c, const Ref& self, int64_t v) {
  if (v < 0) throw err::INVALID_VALUE("value", std::to_string(v));
  set_fields(c, self.ref, nullptr, {{"start_delay", Value(v)}});
});
XENAPI_HANDLER("VM.set_shutdown_delay", [](Call& c, const Ref& self, int64_t v) {
  if (v < 0) throw err::INVALID_VALUE("value", std::to_string(v));
  set_fields(c, self.ref, nullptr, {{"shutdown_delay", Value(v)}});
});
XENAPI_HANDLER("VM.set_has_vendor_device", [](Call& c, const Ref& self, bool v) {
  set_fields(c, self.ref, "changing_static_range", {{"has_vendor_device", Value(v)}});
});
XENAPI_HANDLER("VM.set_ha_restart_priority", [](Call& c, const Ref& self, const std::string& v) {
  if (v != "" && v != "restart" && v != "best-effort") throw err::INVALID_VALUE("ha_restart_priority", v);
  set_fields(c, self.ref, nullptr, {{"ha_restart_priority", Value(v)}});
});
XENAPI_HANDLER("VM.set_ha_always_run", [](Call& c, const Ref& self, bool v) {
  set_fields(c, self.ref, nullptr, {{"ha_always_run", Value(v)}});
});
XENAPI_HANDLER("VM.set_bios_strings", [](Call& c, const Ref& self, const StringMap& value) {
  const dm::Class& vc = vm_class(c);
  for (const auto& [k, v] : value)
    if (v.size() > 512) throw err::INVALID_VALUE(k, v);
  ObjectPtr o = c.store().read([&](const View& v) { return v.must_get(vc, self.ref); });
  if (!o->at(vc, "bios_strings").map().empty()) throw err::VM_BIOS_STRINGS_ALREADY_SET();
  set_fields(c, self.ref, nullptr, {{"bios_strings", handler_detail::Conv<StringMap>::to(value)}});
});

}  // namespace xenapi

namespace xenapi {

namespace {

// Slots from 0 to `count`-1 that no device of `set` of the VM occupies.
std::vector<std::string> free_slots(Call& c, const std::string& vm, const char* set, const char* cls, const char* field,
                                    int count) {
  return c.store().read([&](const View& v) {
    const dm::Class& vc = c.cls("VM");
    const dm::Class& dc = c.cls(cls);
    std::set<std::string> used;
    for (const Value& r : v.must_get(vc, vm)->at(vc, set).arr())
      if (ObjectPtr d = v.get(dc, r.str())) used.insert(d->at(dc, field).str());
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i)
      if (!used.count(std::to_string(i))) out.push_back(std::to_string(i));
    return out;
  });
}

}  // namespace

XENAPI_HANDLER("VM.get_allowed_VBD_devices", [](Call& c, const Ref& vm) -> std::vector<std::string> {
  return free_slots(c, vm.ref, "VBDs", "VBD", "userdevice", 16);
});

XENAPI_HANDLER("VM.get_allowed_VIF_devices", [](Call& c, const Ref& vm) -> std::vector<std::string> {
  return free_slots(c, vm.ref, "VIFs", "VIF", "device", 7);
});

}  // namespace xenapi
