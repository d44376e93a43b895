// VM: rules of the implicit VM.create and VM.destroy.
#include <string>

#include "classes/api/handlers.h"
#include "classes/storage/storage.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

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
          if (auto e = lifecycle::check_vm(vm, *o, "destroy", true)) throw *e;
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
    .after_destroy =
        [](Call& call, const ObjectPtr& o) {
          const dm::Class& vm = call.cls("VM");
          try {
            call.env().backend.undefine(o->at(vm, "uuid").str());
          } catch (const hv::Error&) {
            // Never defined, or already gone.
          }
          // A suspended VM's memory image has no other owner.
          const std::string& image = o->at(vm, "suspend_VDI").str();
          if (image != dm::kNullRef && call.store().read([&](const View& v) { return v.exists(call.cls("VDI"), image); }))
            storage::destroy_vdi(call, image);
        },
    .derive = [](Txn& t, const std::string& ref) { vm::derive_vm(t, ref); },
});

}  // namespace xenapi
