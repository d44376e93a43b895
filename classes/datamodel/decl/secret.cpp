// secret: secret.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_secret(Declarations& d) {
  auto c = d.cls("secret", "secret", "midnight-ride");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(PO, PO, PO);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("value", "string", RW, "rio", "secret");
  c.field("other_config", "(string->string) map", RW, "rio", "other_config").def("{}");
}

}  // namespace xenapi::dm
