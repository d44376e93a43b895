// PIF_metrics: metrics associated with a physical network interface.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_PIF_metrics(Declarations& d) {
  auto c = d.cls("PIF_metrics", "metrics associated with a physical network interface", "rio");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("io_read_kbs", "float", DRO, "rio REMOVED(tampa)", "read bandwidth (KiB/s)").db("io__read_kbs");
  c.field("io_write_kbs", "float", DRO, "rio REMOVED(tampa)", "write bandwidth (KiB/s)").db("io__write_kbs");
  c.field("carrier", "bool", DRO, "rio", "report if the PIF got a carrier or not");
  c.field("vendor_id", "string", DRO, "rio", "report vendor ID");
  c.field("vendor_name", "string", DRO, "rio", "report vendor name");
  c.field("device_id", "string", DRO, "rio", "report device ID");
  c.field("device_name", "string", DRO, "rio", "report device name");
  c.field("speed", "int", DRO, "rio", "speed of the link in Mbit/s (if available)");
  c.field("duplex", "bool", DRO, "rio", "full duplex capability of the link (if available)");
  c.field("pci_bus_path", "string", DRO, "rio", "PCI bus path of the pif (if available)");
  c.field("last_updated", "datetime", DRO, "rio", "time at which this information was last updated");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
}

}  // namespace xenapi::dm
