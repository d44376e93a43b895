// user: user of the system.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_user(Declarations& d) {
  auto c = d.cls("user", "user of the system", "rio dep(george)");
  c.implicit(kCreate | kDestroy | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PA, PA)
      .no_events();

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("short_name", "string", SRO, "rio", "short name (e.g. userid)");
  c.field("fullname", "string", RW, "rio", "full name");
  c.field("other_config", "(string->string) map", RW, "orlando", "additional configuration").def("{}");
}

}  // namespace xenapi::dm
