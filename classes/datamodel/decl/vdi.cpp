// VDI: virtual disk image.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VDI(Declarations& d) {
  auto c = d.cls("VDI", "virtual disk image", "rio");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, VA)
      .role("remove_tags", VO)
      .role("add_tags", VO)
      .role("set_tags", VO);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", SRO, "rio", "human-readable name").def("\"\"").db("name__label");
  c.field("name_description", "string", SRO, "rio", "notes field containing human-readable description").def("\"\"").db("name__description");
  c.field("allowed_operations", "enum vdi_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum vdi_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("SR", "SR ref", SRO, "rio", "storage repository in which the VDI resides");
  c.field("VBDs", "VBD ref set", DRO, "rio", "list of vbds that refer to this disk");
  c.field("crash_dumps", "crashdump ref set", DRO, "rio", "list of crash dumps that refer to this disk");
  c.field("virtual_size", "int", SRO, "rio", "size of disk as presented to the guest (in bytes)");
  c.field("physical_utilisation", "int", DRO, "rio", "amount of physical space that the disk image is currently taking up on…");
  c.field("type", "enum vdi_type", SRO, "rio", "type of the VDI");
  c.field("sharable", "bool", SRO, "rio", "true if this disk may be shared");
  c.field("read_only", "bool", SRO, "rio", "true if this disk may ONLY be mounted read-only");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration")
      .key_role("folder", VO)
      .key_role("XenCenter.CustomFields.*", VO);
  c.field("storage_lock", "bool", DRO, "rio", "true if this disk is locked at the storage level");
  c.field("location", "string", DRO, "miami", "location information");
  c.field("managed", "bool", DRO, "rio", "");
  c.field("missing", "bool", DRO, "rio", "true if SR scan operation reported this VDI as not present on disk");
  c.field("parent", "VDI ref", DRO, "rio dep(ely)", "this field is always null");
  c.field("xenstore_data", "(string->string) map", RW, "miami", "data to be inserted into the xenstore tree (/local/domain/0/backend/vbd…").def("{}");
  c.field("sm_config", "(string->string) map", RW, "miami", "SM dependent data").def("{}");
  c.field("is_a_snapshot", "bool", DRO, "orlando", "true if this is a snapshot");
  c.field("snapshot_of", "VDI ref", DRO, "orlando", "ref pointing to the VDI this snapshot is of");
  c.field("snapshots", "VDI ref set", DRO, "orlando", "list pointing to all the VDIs snapshots");
  c.field("snapshot_time", "datetime", DRO, "orlando", "date/time when this snapshot was created");
  c.field("tags", "string set", RW, "orlando", "user-specified tags for categorization purposes").def("{}");
  c.field("allow_caching", "bool", DRO, "cowley", "true if this VDI is to be cached in the local cache SR");
  c.field("on_boot", "enum on_boot", DRO, "cowley", "behaviour of this VDI on a VM boot");
  c.field("metadata_of_pool", "pool ref", DRO, "boston", "pool whose metadata is contained in this VDI");
  c.field("metadata_latest", "bool", DRO, "boston", "whether this VDI contains the latest known accessible metadata for the…");
  c.field("is_tools_iso", "bool", DRO, "dundee", "whether this VDI is a Tools ISO");
  c.field("cbt_enabled", "bool", DRO, "inverness", "true if changed blocks are tracked for this VDI");
  c.field("path", "string", DRO, "rio", "file holding the disk's data").internal();

  // create and destroy take the implicit signatures; they are explicit here
  // because they create and delete the volume as well as the record.
  c.message("create", "args:VDI record", "VDI ref", VA, "rio", "create a new VDI instance, and return its handle")
      .blocking();
  c.message("destroy", "self:VDI ref", "void", VA, "rio", "destroy the specified VDI instance")
      .errors("VDI_IN_USE")
      .blocking();
  c.message("clone", "vdi:VDI ref, driver_params:(string->string) map = {}", "VDI ref", VA, "rio",
            "take an exact copy of the VDI and return a reference to the…")
      .blocking();
  c.message("copy", "vdi:VDI ref, sr:SR ref = OpaqueRef:NULL, base_vdi:VDI ref = OpaqueRef:NULL, into_vdi:VDI ref = OpaqueRef:NULL", "VDI ref", VA, "rio",
            "copy either a full VDI or the block differences between two…")
      .errors("VDI_READONLY, VDI_TOO_SMALL, VDI_NOT_SPARSE")
      .blocking();
  c.message("data_destroy", "self:VDI ref", "void", VA, "inverness",
            "delete the data of the snapshot VDI, but keep its changed b…")
      .errors("SR_OPERATION_NOT_SUPPORTED, VDI_MISSING, SR_NOT_ATTACHED, SR_HAS_NO_PBDS, OPERATION_NOT_ALLOWED, VDI_INCOMPATIBLE_TYPE, VDI_NO_CBT_METADATA, VDI_IN_USE, VDI_IS_A_PHYSICAL_DEVICE")
      .ni();
  c.message("disable_cbt", "self:VDI ref", "void", VA, "inverness",
            "disable changed block tracking for the VDI")
      .errors("SR_OPERATION_NOT_SUPPORTED, VDI_MISSING, SR_NOT_ATTACHED, SR_HAS_NO_PBDS, OPERATION_NOT_ALLOWED, VDI_INCOMPATIBLE_TYPE, VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION")
      .ni();
  c.message("enable_cbt", "self:VDI ref", "void", VA, "inverness",
            "enable changed block tracking for the VDI")
      .errors("SR_OPERATION_NOT_SUPPORTED, VDI_MISSING, SR_NOT_ATTACHED, SR_HAS_NO_PBDS, OPERATION_NOT_ALLOWED, VDI_INCOMPATIBLE_TYPE, VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION")
      .ni();
  c.message("forget", "vdi:VDI ref", "void", VA, "rio",
            "removes a VDI record from the database");
  c.message("get_nbd_info", "self:VDI ref", "vdi_nbd_server_info record set", VA, "inverness",
            "get details specifying how to access this VDI via a Network…")
      .errors("VDI_INCOMPATIBLE_TYPE")
      .sync_only()
      .ni();
  c.message("introduce", "uuid:string, name_label:string, name_description:string, SR:SR ref, type:enum vdi_type, sharable:bool, read_only:bool, other_config:(string->string) map, location:string, xenstore_data:(string->string) map = {}, sm_config:(string->string) map = {}, managed:bool = true, virtual_size:int = 0, physical_utilisation:int = 0, metadata_of_pool:pool ref = OpaqueRef:NULL, is_a_snapshot:bool = false, snapshot_time:datetime = 19700101T00:00:00Z, snapshot_of:VDI ref = OpaqueRef:NULL", "VDI ref", VA, "miami",
            "create a new VDI record in the database only")
      .errors("SR_OPERATION_NOT_SUPPORTED")
      .ni();
  c.message("list_changed_blocks", "vdi_from:VDI ref, vdi_to:VDI ref", "string", VO, "inverness",
            "compare two VDIs in 64k block increments and report which b…")
      .errors("SR_OPERATION_NOT_SUPPORTED, VDI_MISSING, SR_NOT_ATTACHED, SR_HAS_NO_PBDS, VDI_IN_USE")
      .ni();
  c.message("open_database", "self:VDI ref", "session ref", PO, "boston",
            "load the metadata found on the supplied VDI and return a se…")
      .ni();
  c.message("pool_migrate", "vdi:VDI ref, sr:SR ref, options:(string->string) map", "VDI ref", VPA, "tampa",
            "migrate a VDI, which may be attached to a running guest, to…")
      .ni();
  c.message("read_database_pool_uuid", "self:VDI ref", "string", RO, "boston",
            "check the VDI cache for the pool UUID of the database on th…")
      .ni();
  c.message("resize", "vdi:VDI ref, size:int", "void", VA, "rio",
            "resize the VDI")
      .blocking();
  c.message("resize_online", "vdi:VDI ref, size:int", "void", VA, "rio REMOVED(inverness)",
            "resize the VDI which may or may not be attached to running…")
      .ni();
  c.message("set_allow_caching", "self:VDI ref, value:bool", "void", VA, "cowley",
            "set the value of the allow_caching parameter");
  c.message("set_name_description", "self:VDI ref, value:string", "void", VA, "rio",
            "set the name description of the VDI");
  c.message("set_name_label", "self:VDI ref, value:string", "void", VA, "rio",
            "set the name label of the VDI");
  c.message("set_on_boot", "self:VDI ref, value:enum on_boot", "void", VA, "cowley",
            "set the value of the on_boot parameter");
  c.message("set_read_only", "self:VDI ref, value:bool", "void", VA, "rio",
            "sets the VDI's read_only field")
      .sync_only();
  c.message("set_sharable", "self:VDI ref, value:bool", "void", VA, "george",
            "sets the VDI's sharable field")
      .sync_only();
  c.message("snapshot", "vdi:VDI ref, driver_params:(string->string) map = {}", "VDI ref", VA, "rio",
            "take a read-only snapshot of the VDI, returning a reference…")
      .blocking();
  c.message("update", "vdi:VDI ref", "void", VA, "symc",
            "ask the storage backend to refresh the fields in the VDI ob…")
      .errors("SR_OPERATION_NOT_SUPPORTED");
  // Added after xapi 24.16 (prototype).
  c.message("revert", "snapshot:VDI ref, driver_params:(string->string) map = {}", "VDI ref", VA, "26.16.0 proto",
            "revert the VDI this is a snapshot of to the state of this snapshot")
      .ni();
}

}  // namespace xenapi::dm
