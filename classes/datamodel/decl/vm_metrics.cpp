// VM_metrics: metrics associated with a VM.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VM_metrics(Declarations& d) {
  auto c = d.cls("VM_metrics", "metrics associated with a VM", "rio");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("memory_actual", "int", DRO, "rio", "guest's actual memory (bytes)").db("memory__actual");
  c.field("VCPUs_number", "int", DRO, "rio", "current number of VCPUs").db("VCPUs__number");
  c.field("VCPUs_utilisation", "(int->float) map", DRO, "rio REMOVED(tampa)", "utilisation for all of guest's current VCPUs").db("VCPUs__utilisation");
  c.field("VCPUs_CPU", "(int->int) map", DRO, "rio", "VCPU to PCPU map").db("VCPUs__CPU");
  c.field("VCPUs_params", "(string->string) map", DRO, "rio", "live equivalent to VM.VCPUs_params").db("VCPUs__params");
  c.field("VCPUs_flags", "(int->string set) map", DRO, "rio", "CPU flags (blocked,online,running)").db("VCPUs__flags");
  c.field("state", "string set", DRO, "rio", "state of the guest, eg blocked, dying etc");
  c.field("start_time", "datetime", DRO, "rio", "time at which this VM was last booted");
  c.field("install_time", "datetime", DRO, "rio", "time at which the VM was installed");
  c.field("last_updated", "datetime", DRO, "rio", "time at which this information was last updated");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
  c.field("hvm", "bool", DRO, "ely", "hardware virtual machine");
  c.field("nested_virt", "bool", DRO, "ely", "VM supports nested virtualisation");
  c.field("nomigrate", "bool", DRO, "ely", "VM is immobile and can't migrate between hosts");
  c.field("current_domain_type", "enum domain_type", DRO, "jura", "current domain type of the VM (for running,suspended, or paused VMs)");
  // Added after xapi 24.16 (prototypes).
  c.field("numa_optimised", "bool", SRO, "26.2.0 proto", "whether the VM's memory is placed on its NUMA nodes").def("false");
  c.field("numa_nodes", "int", SRO, "26.2.0 proto", "number of NUMA nodes the VM spans").def("0");
  c.field("numa_node_memory", "(int->int) map", DRO, "26.2.0 proto", "memory of the VM on each NUMA node");
}

}  // namespace xenapi::dm
