// console: console.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_console(Declarations& d) {
  auto c = d.cls("console", "console", "rio");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, VA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("protocol", "enum console_protocol", DRO, "rio", "protocol used by this console");
  c.field("location", "string", DRO, "rio", "URI for the console service");
  c.field("VM", "VM ref", DRO, "rio", "VM to which this console is attached");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration");
}

}  // namespace xenapi::dm
