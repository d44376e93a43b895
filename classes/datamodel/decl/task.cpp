// task: long-running asynchronous task.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_task(Declarations& d) {
  auto c = d.cls("task", "long-running asynchronous task", "rio");
  c.implicit(kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", DRO, "rio", "human-readable name").db("name__label");
  c.field("name_description", "string", DRO, "rio", "notes field containing human-readable description").db("name__description");
  c.field("allowed_operations", "enum task_allowed_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum task_allowed_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("created", "datetime", DRO, "rio", "time task was created");
  c.field("finished", "datetime", DRO, "rio", "time task finished (i.e. succeeded or failed)");
  c.field("status", "enum task_status_type", DRO, "rio", "current status of the task");
  c.field("resident_on", "host ref", DRO, "rio", "host on which the task is running");
  c.field("progress", "float", DRO, "rio", "estimated fraction of the task which is complete");
  c.field("type", "string", DRO, "rio", "if the task has completed successfully, this field contains the type of…");
  c.field("result", "string", DRO, "rio", "if the task has completed successfully, this field contains the result…");
  c.field("error_info", "string set", DRO, "rio", "on failure: the set of associated error strings");
  c.field("other_config", "(string->string) map", RW, "miami", "additional configuration").def("{}")
      .key_role("applies_to", VO)
      .key_role("XenCenterUUID", VO)
      .key_role("XenCenterMeddlingActionTitle", VO);
  c.field("subtask_of", "task ref", DRO, "orlando", "ref pointing to the task this is a substask of");
  c.field("subtasks", "task ref set", DRO, "orlando", "list pointing to all the substasks");
  c.field("backtrace", "string", DRO, "dundee", "function call trace for debugging");
  c.field("session", "session ref", DRO, "rio", "the session that created the task").internal();
  c.field("cancellable", "bool", DRO, "rio", "whether the operation behind the task stops when cancelled").internal();

  c.message("cancel", "task:task ref", "void", RO, "rio",
            "request that a task be cancelled")
      .errors("OPERATION_NOT_ALLOWED");
  c.message("create", "label:string, description:string", "task ref", RO, "rio",
            "create a new task object which must be manually destroyed")
      .sync_only();
  c.message("destroy", "self:task ref", "void", RO, "rio",
            "destroy the task object")
      .sync_only();
  c.message("set_error_info", "self:task ref, value:string set", "void", RO, "21.3.0",
            "set the task error info")
      .sync_only();
  c.message("set_progress", "self:task ref, value:float", "void", RO, "stockholm",
            "set the task progress")
      .sync_only();
  c.message("set_result", "self:task ref, value:string", "void", RO, "21.3.0",
            "set the task result")
      .sync_only();
  c.message("set_status", "self:task ref, value:enum task_status_type", "void", RO, "falcon",
            "set the task status")
      .sync_only();
}

}  // namespace xenapi::dm
