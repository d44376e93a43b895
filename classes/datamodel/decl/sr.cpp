// SR: storage repository.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_SR(Declarations& d) {
  auto c = d.cls("SR", "storage repository", "rio");
  c.implicit(kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA)
      .role("remove_tags", VO)
      .role("add_tags", VO)
      .role("set_tags", VO);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", SRO, "rio", "human-readable name").def("\"\"").db("name__label");
  c.field("name_description", "string", SRO, "rio", "notes field containing human-readable description").def("\"\"").db("name__description");
  c.field("allowed_operations", "enum storage_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum storage_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("VDIs", "VDI ref set", DRO, "rio", "all virtual disks known to this storage repository");
  c.field("PBDs", "PBD ref set", DRO, "rio", "describes how particular hosts can see this storage repository");
  c.field("virtual_allocation", "int", DRO, "rio", "sum of virtual_sizes of all VDIs in this storage repository (in bytes)");
  c.field("physical_utilisation", "int", DRO, "rio", "physical space currently utilised on this storage repository (in bytes)");
  c.field("physical_size", "int", SRO, "rio", "total physical size of the repository (in bytes)");
  c.field("type", "string", SRO, "rio", "type of the storage repository");
  c.field("content_type", "string", SRO, "rio", "type of the SR's content, if required (e.g. ISOs)");
  c.field("shared", "bool", DRO, "rio", "true if this SR is (capable of being) shared between multiple hosts");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration")
      .key_role("folder", VO)
      .key_role("XenCenter.CustomFields.*", VO);
  c.field("tags", "string set", RW, "orlando", "user-specified tags for categorization purposes").def("{}");
  c.field("sm_config", "(string->string) map", RW, "miami", "SM dependent data").def("{}");
  c.field("blobs", "(string->blob ref) map", DRO, "orlando", "binary blobs associated with this SR");
  c.field("local_cache_enabled", "bool", DRO, "cowley", "true if this SR is assigned to be the local cache for its host");
  c.field("introduced_by", "DR_task ref", DRO, "boston", "disaster recovery task which introduced this SR");
  c.field("clustered", "bool", DRO, "dundee", "true if the SR is using aggregated local storage");
  c.field("is_tools_sr", "bool", DRO, "dundee", "true if this is the SR that contains the Tools ISO VDIs");
  c.field("content_path", "string", DRO, "rio", "folder holding the SR's volumes").internal();

  c.message("assert_can_host_ha_statefile", "sr:SR ref", "void", PO, "orlando",
            "returns successfully if the given SR can host an HA statefi…")
      .ni();
  c.message("assert_supports_database_replication", "sr:SR ref", "void", PO, "boston",
            "returns successfully if the given SR supports database repl…")
      .ni();
  c.message("create", "host:host ref, device_config:(string->string) map, physical_size:int, name_label:string, name_description:string, type:string, content_type:string, shared:bool, sm_config:(string->string) map = {}", "SR ref", PO, "rio",
            "create a new Storage Repository and introduce it into the m…")
      .errors("SR_UNKNOWN_DRIVER")
      .ni();
  c.message("create_new_blob", "sr:SR ref, name:string, mime_type:string, public:bool = false", "blob ref", PO, "orlando",
            "create a placeholder for a named binary blob of data that i…")
      .ni();
  c.message("destroy", "sr:SR ref", "void", PO, "rio",
            "destroy specified SR, removing SR-record from database and…")
      .errors("SR_HAS_PBD")
      .ni();
  c.message("disable_database_replication", "sr:SR ref", "void", PO, "boston",
            "")
      .ni();
  c.message("enable_database_replication", "sr:SR ref", "void", PO, "boston",
            "")
      .ni();
  c.message("forget", "sr:SR ref", "void", PO, "rio",
            "removing specified SR-record from database, without attempt…")
      .errors("SR_HAS_PBD")
      .ni();
  c.message("forget_data_source_archives", "sr:SR ref, data_source:string", "void", PO, "dundee",
            "forget the recorded statistics related to the specified dat…")
      .sync_only()
      .ni();
  c.message("get_data_sources", "sr:SR ref", "data_source record set", RO, "dundee",
            "")
      .sync_only()
      .ni();
  c.message("get_supported_types", "", "string set", RO, "rio",
            "returns a set of all the SR types supported by the system")
      .sync_only();
  c.message("introduce", "uuid:string, name_label:string, name_description:string, type:string, content_type:string, shared:bool, sm_config:(string->string) map = {}", "SR ref", PO, "rio",
            "introduce a new Storage Repository into the managed system")
      .ni();
  c.message("make", "host:host ref, device_config:(string->string) map, physical_size:int, name_label:string, name_description:string, type:string, content_type:string, sm_config:(string->string) map = {}", "string", PO, "rio dep(miami)",
            "create a new Storage Repository on disk")
      .ni();
  c.message("probe", "host:host ref, device_config:(string->string) map, type:string, sm_config:(string->string) map = {}", "string", PO, "miami",
            "perform a backend-specific scan, using the given device_con…")
      .ni();
  c.message("probe_ext", "host:host ref, device_config:(string->string) map, type:string, sm_config:(string->string) map = {}", "probe_result record set", PO, "kolkata",
            "perform a backend-specific scan, using the given device_con…")
      .ni();
  c.message("query_data_source", "sr:SR ref, data_source:string", "float", RO, "dundee",
            "query the latest value of the specified data source")
      .sync_only()
      .ni();
  c.message("record_data_source", "sr:SR ref, data_source:string", "void", PO, "dundee",
            "start recording the specified data source")
      .sync_only()
      .ni();
  c.message("scan", "sr:SR ref", "void", VPA, "rio",
            "refreshes the list of VDIs associated with an SR")
      .blocking();
  c.message("set_name_description", "sr:SR ref, value:string", "void", PO, "rio",
            "set the name description of the SR");
  c.message("set_name_label", "sr:SR ref, value:string", "void", PO, "rio",
            "set the name label of the SR");
  c.message("set_physical_size", "self:SR ref, value:int", "void", PO, "miami",
            "sets the SR's physical_size field")
      .sync_only();
  c.message("set_shared", "sr:SR ref, value:bool", "void", PO, "rio",
            "sets the shared flag on the SR")
      .ni();
  c.message("update", "sr:SR ref", "void", PO, "symc",
            "refresh the fields on the SR object");
}

}  // namespace xenapi::dm
