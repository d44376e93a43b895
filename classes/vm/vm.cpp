// VM: rules of the implicit VM.create and VM.destroy.
#include <string>

#include "classes/api/handlers.h"

namespace xenapi {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int64_t get_int(const dm::Class& c, const std::vector<Value>& v, const char* f) {
  return v[c.field(f)->index].integer();
}

void check_memory(const dm::Class& c, const std::vector<Value>& v) {
  int64_t smin = get_int(c, v, "memory_static_min"), dmin = get_int(c, v, "memory_dynamic_min");
  int64_t dmax = get_int(c, v, "memory_dynamic_max"), smax = get_int(c, v, "memory_static_max");
  if (!(0 <= smin && smin <= dmin && dmin <= dmax && dmax <= smax))
    throw err::MEMORY_CONSTRAINT_VIOLATION(
        "Memory limits must satisfy: 0 <= static_min <= dynamic_min <= dynamic_max <= static_max");
}

void check_vcpus(const dm::Class& c, const std::vector<Value>& v) {
  int64_t max = get_int(c, v, "VCPUs_max"), start = get_int(c, v, "VCPUs_at_startup");
  if (max < 1) throw err::INVALID_VALUE("VCPUs_max", std::to_string(max));
  if (start < 1 || start > max) throw err::INVALID_VALUE("VCPUs_at_startup", std::to_string(start));
}

}  // namespace

XENAPI_CLASS_HOOKS("VM", ClassHooks{
    .before_create =
        [](Call& call, Txn& t, std::vector<Value>& v) {
          const dm::Class& vm = call.cls("VM");
          check_memory(vm, v);
          check_vcpus(vm, v);
          const Value& shadow = v[vm.field("HVM_shadow_multiplier")->index];
          if (shadow.real() < 1.0) throw err::INVALID_VALUE("HVM_shadow_multiplier", std::to_string(shadow.real()));
          // A new VM has no domain: it is halted whatever the record says.
          v[vm.field("power_state")->index] = Value("Halted");
          v[vm.field("domid")->index] = Value(int64_t{-1});
          const dm::Class& mc = call.cls("VM_metrics");
          std::vector<Value> metrics = call.store().defaults(mc);
          metrics[mc.field("VCPUs_number")->index] = Value(int64_t{0});
          v[vm.field("metrics")->index] = Value(t.create(mc, std::move(metrics)));
        },
    .before_destroy =
        [](Call& call, Txn& t, const ObjectPtr& o) {
          const dm::Class& vm = call.cls("VM");
          if (o->at(vm, "is_control_domain").boolean())
            throw err::OPERATION_NOT_ALLOWED("This operation is not allowed on the control domain");
          const std::string& state = o->at(vm, "power_state").str();
          if (state != "Halted" && state != "Suspended")
            throw err::VM_BAD_POWER_STATE(o->ref, "halted, suspended", lower(state));
          if (o->at(vm, "is_a_template").boolean() && o->at(vm, "is_default_template").boolean())
            throw err::VM_IS_TEMPLATE(o->ref, "destroy");
          // Devices and metrics go with the VM; disks (VDIs) stay.
          for (auto [set, cls] : {std::pair{"VBDs", "VBD"}, std::pair{"VIFs", "VIF"}, std::pair{"consoles", "console"}}) {
            const dm::Class& dc = call.cls(cls);
            for (const Value& d : o->at(vm, set).arr())
              if (t.exists(dc, d.str())) t.destroy(dc, d.str());
          }
          for (auto [field, cls] : {std::pair{"metrics", "VM_metrics"}, std::pair{"guest_metrics", "VM_guest_metrics"}}) {
            const Value& r = o->at(vm, field);
            if (t.exists(call.cls(cls), r.str())) t.destroy(call.cls(cls), r.str());
          }
        },
});

}  // namespace xenapi
