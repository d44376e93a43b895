// host_cpu: physical CPU.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_host_cpu(Declarations& d) {
  auto c = d.cls("host_cpu", "physical CPU", "rio dep(midnight-ride)");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("host", "host ref", DRO, "rio", "host the CPU is in");
  c.field("number", "int", DRO, "rio", "number of the physical CPU within the host");
  c.field("vendor", "string", DRO, "rio", "vendor of the physical CPU");
  c.field("speed", "int", DRO, "rio", "speed of the physical CPU");
  c.field("modelname", "string", DRO, "rio", "model name of the physical CPU");
  c.field("family", "int", DRO, "rio", "family (number) of the physical CPU");
  c.field("model", "int", DRO, "rio", "model number of the physical CPU");
  c.field("stepping", "string", DRO, "rio", "stepping of the physical CPU");
  c.field("flags", "string", DRO, "rio", "flags of the physical CPU (a decoded version of the features field)");
  c.field("features", "string", DRO, "rio", "physical CPU feature bitmap");
  c.field("utilisation", "float", DRO, "rio", "current CPU utilisation");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
}

}  // namespace xenapi::dm
