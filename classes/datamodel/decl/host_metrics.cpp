// host_metrics: metrics associated with a host.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_host_metrics(Declarations& d) {
  auto c = d.cls("host_metrics", "metrics associated with a host", "rio");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("memory_total", "int", DRO, "rio", "total host memory (bytes)").db("memory__total");
  c.field("memory_free", "int", DRO, "rio REMOVED(tampa)", "free host memory (bytes)").db("memory__free");
  c.field("live", "bool", DRO, "rio", "pool master thinks this host is live");
  c.field("last_updated", "datetime", DRO, "rio", "time at which this information was last updated");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
}

}  // namespace xenapi::dm
