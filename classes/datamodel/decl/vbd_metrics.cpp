// VBD_metrics: metrics associated with a virtual block device.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VBD_metrics(Declarations& d) {
  auto c = d.cls("VBD_metrics", "metrics associated with a virtual block device", "rio REMOVED(tampa)");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("io_read_kbs", "float", DRO, "rio REMOVED(tampa)", "read bandwidth (KiB/s)");
  c.field("io_write_kbs", "float", DRO, "rio REMOVED(tampa)", "write bandwidth (KiB/s)");
  c.field("last_updated", "datetime", DRO, "rio REMOVED(tampa)", "time at which this information was last updated");
  c.field("other_config", "(string->string) map", RW, "orlando REMOVED(tampa)", "additional configuration").def("{}");
}

}  // namespace xenapi::dm
