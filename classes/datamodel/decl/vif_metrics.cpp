// VIF_metrics: metrics associated with a virtual network device.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VIF_metrics(Declarations& d) {
  auto c = d.cls("VIF_metrics", "metrics associated with a virtual network device", "rio REMOVED(tampa)");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("io_read_kbs", "float", DRO, "rio REMOVED(tampa)", "read bandwidth (KiB/s)");
  c.field("io_write_kbs", "float", DRO, "rio REMOVED(tampa)", "write bandwidth (KiB/s)");
  c.field("last_updated", "datetime", DRO, "rio", "time at which this information was last updated");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
}

}  // namespace xenapi::dm
