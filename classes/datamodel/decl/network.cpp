// network: virtual network.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_network(Declarations& d) {
  auto c = d.cls("network", "virtual network", "rio");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, VA)
      .role("remove_tags", VO)
      .role("add_tags", VO)
      .role("set_tags", VO)
      .role("set_MTU", VA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", RW, "rio", "human-readable name").def("\"\"").db("name__label");
  c.field("name_description", "string", RW, "rio", "notes field containing human-readable description").def("\"\"").db("name__description");
  c.field("allowed_operations", "enum network_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum network_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("VIFs", "VIF ref set", DRO, "rio", "list of connected vifs");
  c.field("PIFs", "PIF ref set", DRO, "rio", "list of connected pifs");
  c.field("MTU", "int", RW, "midnight-ride", "MTU in octets").def("1500");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration")
      .key_role("folder", VO)
      .key_role("XenCenter.CustomFields.*", VO)
      .key_role("XenCenterCreateInProgress", VO);
  c.field("bridge", "string", SRO, "rio", "name of the bridge corresponding to this network on the local host").def("\"\"");
  c.field("managed", "bool", SRO, "falcon", "true if the bridge is managed by xapi").def("true");
  c.field("blobs", "(string->blob ref) map", DRO, "orlando", "binary blobs associated with this network");
  c.field("tags", "string set", RW, "orlando", "user-specified tags for categorization purposes").def("{}");
  c.field("default_locking_mode", "enum network_default_locking_mode", DRO, "tampa", "network will use this value to determine the behaviour of all VIFs wher…");
  c.field("assigned_ips", "(VIF ref->string) map", DRO, "creedence", "IP addresses assigned to VIFs on networks that have active xapi-managed…");
  c.field("purpose", "enum network_purpose set", DRO, "inverness", "set of purposes for which the server will use this network");

  c.message("add_purpose", "self:network ref, value:enum network_purpose", "void", PA, "inverness",
            "give a network a new purpose (if not present already)")
      .errors("NETWORK_INCOMPATIBLE_PURPOSES")
      .ni();
  c.message("create_new_blob", "network:network ref, name:string, mime_type:string, public:bool = false", "blob ref", PO, "orlando",
            "create a placeholder for a named binary blob of data that i…")
      .ni();
  c.message("remove_purpose", "self:network ref, value:enum network_purpose", "void", PA, "inverness",
            "remove a purpose from a network (if present)")
      .ni();
  c.message("set_default_locking_mode", "network:network ref, value:enum network_default_locking_mode", "void", PO, "tampa",
            "set the default locking mode for VIFs attached to this netw…")
      .ni();
}

}  // namespace xenapi::dm
