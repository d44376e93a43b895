// message: message for the attention of the administrator.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_message(Declarations& d) {
  auto c = d.cls("message", "message for the attention of the administrator", "orlando");
  c.implicit(kNone)
      .roles(RO, PA, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name", "string", DRO, "rio", "name of the message");
  c.field("priority", "int", DRO, "rio", "message priority, 0 being low priority");
  c.field("cls", "enum cls", DRO, "orlando", "class of the object this message is associated with");
  c.field("obj_uuid", "string", DRO, "rio", "uuid of the object this message is associated with");
  c.field("timestamp", "datetime", DRO, "rio", "time at which the message was created");
  c.field("body", "string", DRO, "rio", "body of the message");

  c.message("create", "name:string, priority:int, cls:enum cls, obj_uuid:string, body:string", "message ref", PO,
            "orlando", "create a new message")
      .sync_only();
  c.message("destroy", "self:message ref", "void", PO, "orlando", "destroy an existing message")
      .sync_only();
  c.message("destroy_many", "messages:message ref set", "void", PO, "22.19.0 proto",
            "destroy a set of existing messages");
  c.message("get", "cls:enum cls, obj_uuid:string, since:datetime", "(message ref->message record) map", RO,
            "orlando", "the messages about one object created after the given time")
      .sync_only();
  c.message("get_all", "", "message ref set", RO, "orlando", "the references of all messages")
      .sync_only();
  c.message("get_all_records", "", "(message ref->message record) map", RO, "orlando", "all messages")
      .sync_only();
  c.message("get_all_records_where", "expr:string", "(message ref->message record) map", RO, "orlando",
            "the messages matching a filter expression")
      .sync_only();
  c.message("get_by_uuid", "uuid:string", "message ref", RO, "orlando", "the message with the given uuid")
      .sync_only();
  c.message("get_record", "self:message ref", "message record", RO, "orlando", "the record of a message")
      .sync_only();
  c.message("get_since", "since:datetime", "(message ref->message record) map", RO, "orlando",
            "the messages created after the given time")
      .sync_only();
  // Added after xapi 24.16 (prototype).
  c.message("destroy_all", "filters:(string->string) map", "void", PO, "26.6.0 proto",
            "destroy the messages matching all of the filters (before, after: datetimes; priority: int)");
}

}  // namespace xenapi::dm
