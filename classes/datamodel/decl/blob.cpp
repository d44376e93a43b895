// blob: placeholder for a binary blob.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_blob(Declarations& d) {
  auto c = d.cls("blob", "placeholder for a binary blob", "orlando");
  c.implicit(kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", RW, "rio", "human-readable name").def("\"\"").db("name__label");
  c.field("name_description", "string", RW, "rio", "notes field containing human-readable description").def("\"\"").db("name__description");
  c.field("size", "int", DRO, "rio", "size of the binary data, in bytes");
  c.field("public", "bool", RW, "tampa", "true if the blob is publicly accessible").def("false");
  c.field("last_updated", "datetime", SRO, "rio", "time at which the data in the blob was last updated");
  c.field("mime_type", "string", SRO, "rio", "mime type associated with this object");

  c.message("create", "mime_type:string, public:bool = false", "blob ref", PO, "orlando",
            "create a placeholder for a binary blob")
      .sync_only()
      .ni();
  c.message("destroy", "self:blob ref", "void", PO, "orlando",
            "")
      .sync_only()
      .ni();
}

}  // namespace xenapi::dm
