// PBD: physical block devices through which hosts access SRs.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_PBD(Declarations& d) {
  auto c = d.cls("PBD", "physical block devices through which hosts access SRs", "rio");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PO);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("host", "host ref", SRO, "rio", "physical machine on which the pbd is available");
  c.field("SR", "SR ref", SRO, "rio", "storage repository that the pbd realises");
  c.field("device_config", "(string->string) map", SRO, "rio", "config string to string map that is provided to the host's SR-backend-d…");
  c.field("currently_attached", "bool", DRO, "rio", "is the SR currently attached on this host?");
  c.field("other_config", "(string->string) map", RW, "miami", "additional configuration").def("{}");

  c.message("plug", "self:PBD ref", "void", PO, "rio",
            "activate the specified PBD, causing the referenced SR to be…")
      .errors("SR_UNKNOWN_DRIVER")
      .ni();
  c.message("set_device_config", "self:PBD ref, value:(string->string) map", "void", PO, "miami",
            "sets the PBD's device_config field")
      .ni();
  c.message("unplug", "self:PBD ref", "void", PO, "rio",
            "deactivate the specified PBD, causing the referenced SR to…")
      .ni();
}

}  // namespace xenapi::dm
