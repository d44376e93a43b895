// VM_guest_metrics: metrics reported by the guest (as opposed to inferred from outside).
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VM_guest_metrics(Declarations& d) {
  auto c = d.cls("VM_guest_metrics", "metrics reported by the guest (as opposed to inferred from outside)", "rio");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("os_version", "(string->string) map", DRO, "rio", "version of the OS");
  c.field("PV_drivers_version", "(string->string) map", DRO, "rio", "version of the PV drivers");
  c.field("PV_drivers_up_to_date", "bool", DRO, "rio dep(dundee)", "logically equivalent to PV_drivers_detected");
  c.field("memory", "(string->string) map", DRO, "rio REMOVED(george)", "this field exists but has no data");
  c.field("disks", "(string->string) map", DRO, "rio REMOVED(orlando)", "this field exists but has no data");
  c.field("networks", "(string->string) map", DRO, "rio", "network configuration");
  c.field("other", "(string->string) map", DRO, "rio", "anything else");
  c.field("last_updated", "datetime", DRO, "rio", "time at which this information was last updated");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
  c.field("live", "bool", DRO, "orlando", "true if the guest is sending heartbeat messages via the guest agent");
  c.field("can_use_hotplug_vbd", "enum tristate_type", DRO, "dundee", "guest's statement of whether it supports VBD hotplug, i.e. whether it i…");
  c.field("can_use_hotplug_vif", "enum tristate_type", DRO, "dundee", "guest's statement of whether it supports VIF hotplug, i.e. whether it i…");
  c.field("PV_drivers_detected", "bool", DRO, "dundee", "at least one of the guest's devices has successfully connected to the b…");
  // Added after xapi 24.16 (prototypes).
  c.field("netbios_name", "(string->string) map", DRO, "24.28.0 proto", "the NETBIOS name of the machine");
  c.field("services", "(string->string) map", DRO, "25.15.0 proto", "services running in the guest");
}

}  // namespace xenapi::dm
