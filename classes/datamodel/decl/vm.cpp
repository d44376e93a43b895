// VM: virtual machine (or 'guest').
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VM(Declarations& d) {
  auto c = d.cls("VM", "virtual machine (or 'guest')", "rio");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, VA)
      .role("remove_tags", VO)
      .role("add_tags", VO)
      .role("set_tags", VO)
      .role("set_affinity", VPA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("allowed_operations", "enum vm_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum vm_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("name_label", "string", RW, "rio", "human-readable name").def("\"\"").db("name__label");
  c.field("name_description", "string", RW, "rio", "notes field containing human-readable description").def("\"\"").db("name__description");
  c.field("power_state", "enum vm_power_state", SRO, "rio", "current power state of the machine").def("Halted");
  c.field("user_version", "int", RW, "rio", "creators of VMs and templates may store version information here");
  c.field("is_a_template", "bool", RW, "rio", "true if this is a template");
  c.field("is_default_template", "bool", DRO, "falcon", "true if this is a default template");
  c.field("suspend_VDI", "VDI ref", SRO, "rio", "VDI that a suspend image is stored on").def("OpaqueRef:NULL");
  c.field("resident_on", "host ref", DRO, "rio", "host the VM is currently resident on");
  c.field("scheduled_to_be_resident_on", "host ref", DRO, "rio", "host on which the VM is due to be started/resumed/migrated");
  c.field("affinity", "host ref", RW, "rio", "host which the VM has some affinity for (or NULL)");
  c.field("memory_overhead", "int", DRO, "rio", "virtualization memory overhead (bytes)").db("memory__overhead");
  c.field("memory_target", "int", SRO, "rio dep(midnight-ride)", "dynamically-set memory target (bytes)").def("0").db("memory__target");
  c.field("memory_static_max", "int", SRO, "rio", "statically-set (i.e. absolute) maximum (bytes)").db("memory__static_max");
  c.field("memory_dynamic_max", "int", SRO, "rio", "dynamic maximum (bytes)").db("memory__dynamic_max");
  c.field("memory_dynamic_min", "int", SRO, "rio", "dynamic minimum (bytes)").db("memory__dynamic_min");
  c.field("memory_static_min", "int", SRO, "rio", "statically-set (i.e. absolute) mininum (bytes)").db("memory__static_min");
  c.field("VCPUs_params", "(string->string) map", RW, "rio", "configuration parameters for the selected VCPU policy").db("VCPUs__params");
  c.field("VCPUs_max", "int", SRO, "rio", "max number of VCPUs").db("VCPUs__max");
  c.field("VCPUs_at_startup", "int", SRO, "rio", "boot number of VCPUs").db("VCPUs__at_startup");
  c.field("actions_after_softreboot", "enum on_softreboot_behavior", RW, "23.1.0 proto", "action to take after soft reboot").def("soft_reboot").db("actions__after_softreboot");
  c.field("actions_after_shutdown", "enum on_normal_exit", RW, "rio", "action to take after the guest has shutdown itself").db("actions__after_shutdown");
  c.field("actions_after_reboot", "enum on_normal_exit", RW, "rio", "action to take after the guest has rebooted itself").db("actions__after_reboot");
  c.field("actions_after_crash", "enum on_crash_behaviour", SRO, "rio", "action to take if the guest crashes").db("actions__after_crash");
  c.field("consoles", "console ref set", DRO, "rio", "virtual console devices");
  c.field("VIFs", "VIF ref set", DRO, "rio", "virtual network interfaces");
  c.field("VBDs", "VBD ref set", DRO, "rio", "virtual block devices");
  c.field("VUSBs", "VUSB ref set", DRO, "rio", "vitual usb devices");
  c.field("crash_dumps", "crashdump ref set", DRO, "rio", "crash dumps associated with this VM");
  c.field("VTPMs", "VTPM ref set", DRO, "rio", "virtual TPMs");
  c.field("PV_bootloader", "string", RW, "rio", "name of or path to bootloader").db("PV__bootloader");
  c.field("PV_kernel", "string", RW, "rio", "path to the kernel").db("PV__kernel");
  c.field("PV_ramdisk", "string", RW, "rio", "path to the initrd").db("PV__ramdisk");
  c.field("PV_args", "string", RW, "rio", "kernel command-line arguments").db("PV__args");
  c.field("PV_bootloader_args", "string", RW, "rio", "miscellaneous arguments for the bootloader").db("PV__bootloader_args");
  c.field("PV_legacy_args", "string", RW, "rio", "to make Zurich guests boot").db("PV__legacy_args");
  c.field("HVM_boot_policy", "string", SRO, "rio dep(kolkata)", "HVM boot policy").db("HVM__boot_policy");
  c.field("HVM_boot_params", "(string->string) map", RW, "rio", "HVM boot params").db("HVM__boot_params");
  c.field("HVM_shadow_multiplier", "float", SRO, "miami", "multiplier applied to the amount of shadow that will be made available…").def("1.").db("HVM__shadow_multiplier");
  c.field("platform", "(string->string) map", RW, "rio", "platform-specific configuration");
  c.field("PCI_bus", "string", RW, "rio dep(boston)", "PCI bus path for pass-through devices");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration")
      .key_role("pci", PA)
      .key_role("folder", VO)
      .key_role("XenCenter.CustomFields.*", VO);
  c.field("domid", "int", DRO, "rio", "domain ID (if available, -1 otherwise)");
  c.field("domarch", "string", DRO, "rio", "domain architecture (if available, null string otherwise)");
  c.field("last_boot_CPU_flags", "(string->string) map", SRO, "rio", "describes the CPU flags on which the VM was last booted").def("{}");
  c.field("is_control_domain", "bool", DRO, "rio", "true if this is a control domain (domain 0 or a driver domain)");
  c.field("metrics", "VM_metrics ref", DRO, "rio", "metrics associated with this VM");
  c.field("guest_metrics", "VM_guest_metrics ref", DRO, "rio", "metrics associated with the running guest");
  c.field("last_booted_record", "string", SRO, "miami", "marshalled value containing VM record at time of last boot").def("\"\"");
  c.field("recommendations", "string", RW, "rio", "XML specification of recommended values and ranges for properties of th…");
  c.field("xenstore_data", "(string->string) map", RW, "miami", "data to be inserted into the xenstore tree (/local/domain/<domid>/vm-da…").def("{}");
  c.field("ha_always_run", "bool", SRO, "orlando dep(boston)", "if true then the system will attempt to keep the VM running as much as…").def("false");
  c.field("ha_restart_priority", "string", SRO, "orlando", "has possible values: \"best-effort\" meaning \"try to restart this VM if p…").def("\"\"");
  c.field("is_a_snapshot", "bool", DRO, "orlando", "true if this is a snapshot");
  c.field("snapshot_of", "VM ref", DRO, "orlando", "ref pointing to the VM this snapshot is of");
  c.field("snapshots", "VM ref set", DRO, "orlando", "list pointing to all the VM snapshots");
  c.field("snapshot_time", "datetime", DRO, "orlando", "date/time when this snapshot was created");
  c.field("transportable_snapshot_id", "string", DRO, "orlando", "transportable ID of the snapshot VM");
  c.field("blobs", "(string->blob ref) map", DRO, "orlando", "binary blobs associated with this VM");
  c.field("tags", "string set", RW, "orlando", "user-specified tags for categorization purposes").def("{}");
  c.field("blocked_operations", "(enum vm_operations->string) map", RW, "orlando", "list of operations which have been explicitly blocked and an error code").def("{}");
  c.field("snapshot_info", "(string->string) map", DRO, "midnight-ride", "human-readable information concerning this snapshot");
  c.field("snapshot_metadata", "string", DRO, "midnight-ride", "encoded information about the VM's metadata this is a snapshot of");
  c.field("parent", "VM ref", DRO, "midnight-ride", "ref pointing to the parent of this VM");
  c.field("children", "VM ref set", DRO, "midnight-ride", "list pointing to all the children of this VM");
  c.field("bios_strings", "(string->string) map", DRO, "midnight-ride", "BIOS strings");
  c.field("protection_policy", "VMPP ref", SRO, "cowley dep(clearwater)", "ref pointing to a protection policy for this VM").def("OpaqueRef:NULL");
  c.field("is_snapshot_from_vmpp", "bool", SRO, "cowley REMOVED(clearwater)", "true if this snapshot was created by the protection policy").def("false");
  c.field("snapshot_schedule", "VMSS ref", SRO, "falcon", "ref pointing to a snapshot schedule for this VM").def("OpaqueRef:NULL");
  c.field("is_vmss_snapshot", "bool", SRO, "falcon", "true if this snapshot was created by the snapshot schedule").def("false");
  c.field("appliance", "VM_appliance ref", SRO, "rio", "appliance to which this VM belongs").def("OpaqueRef:NULL");
  c.field("start_delay", "int", SRO, "boston", "delay to wait before proceeding to the next order in the startup sequen…").def("0");
  c.field("shutdown_delay", "int", SRO, "boston", "delay to wait before proceeding to the next order in the shutdown seque…").def("0");
  c.field("order", "int", SRO, "boston", "point in the startup or shutdown sequence at which this VM will be star…").def("0");
  c.field("VGPUs", "VGPU ref set", DRO, "boston", "virtual GPUs");
  c.field("attached_PCIs", "PCI ref set", DRO, "boston", "currently passed-through PCI devices");
  c.field("suspend_SR", "SR ref", RW, "boston", "SR on which a suspend image is stored").def("OpaqueRef:NULL");
  c.field("version", "int", SRO, "boston", "number of times this VM has been recovered").def("0");
  c.field("generation_id", "string", SRO, "clearwater", "generation ID of the VM").def("\"0:0\"");
  c.field("hardware_platform_version", "int", RW, "cream", "host virtual hardware platform version the VM can run on").def("0");
  c.field("has_vendor_device", "bool", SRO, "dundee", "when an HVM guest starts, this controls the presence of the emulated C0…").def("false");
  c.field("requires_reboot", "bool", DRO, "ely", "indicates whether a VM requires a reboot in order to update its configu…");
  c.field("reference_label", "string", SRO, "ely", "textual reference to the template used to create a VM").def("\"\"");
  c.field("domain_type", "enum domain_type", SRO, "jura", "type of domain that will be created when the VM is started").def("unspecified");
  c.field("NVRAM", "(string->string) map", SRO, "naples", "initial value for guest NVRAM (containing UEFI variables, etc)").def("{}");
  c.field("pending_guidances", "enum update_guidances set", DRO, "1.303.0", "set of pending mandatory guidances after applying updates, which must b…");
  c.field("pending_guidances_recommended", "enum update_guidances set", DRO, "24.10.0 proto", "set of pending recommended guidances after applying updates, which most…");
  c.field("pending_guidances_full", "enum update_guidances set", DRO, "24.10.0 proto", "set of pending full guidances after applying updates, which a user shou…");
  // Added after xapi 24.16 (prototypes).
  c.field("groups", "VM_group ref set", DRO, "24.19.1 proto", "VM groups associated with the VM");
  c.field("secureboot_certificates_state", "enum vm_secureboot_certificates_state", DRO, "26.14.0 proto",
          "the state of the UEFI Secure Boot certificates of the VM").def("ok");
  // Kept by the server: the domain crashed and was preserved for inspection
  // (actions_after_crash "preserve"); it shows as Paused but cannot run again.
  c.field("crashed", "bool", DRO, "rio", "the domain crashed and is kept for inspection").internal();

  c.message("add_to_NVRAM", "self:VM ref, key:string, value:string", "void", VA, "naples",
            "")
      .sync_only();
  c.message("add_to_VCPUs_params_live", "self:VM ref, key:string, value:string", "void", VA, "rio",
            "add the given key-value pair to VM.VCPUs_params, and apply…")
      .ni();
  c.message("assert_agile", "self:VM ref", "void", RO, "orlando",
            "returns an error if the VM is not considered agile e.g. bec…")
      .ni();
  c.message("assert_can_be_recovered", "self:VM ref, session_to:session ref", "void", RO, "boston",
            "assert whether all SRs required to recover this VM are avai…")
      .errors("VM_IS_PART_OF_AN_APPLIANCE, VM_REQUIRES_SR")
      .ni();
  c.message("assert_can_boot_here", "self:VM ref, host:host ref", "void", RO, "rio",
            "returns an error if the VM could not boot on this host for…")
      .errors("HOST_NOT_ENOUGH_FREE_MEMORY, HOST_NOT_ENOUGH_PCPUS, NETWORK_SRIOV_INSUFFICIENT_CAPACITY, HOST_NOT_LIVE, HOST_DISABLED, HOST_CANNOT_ATTACH_NETWORK, VM_HVM_REQUIRED, VM_REQUIRES_GPU, VM_REQUIRES_IOMMU, VM_REQUIRES_NETWORK, VM_REQUIRES_SR, VM_REQUIRES_VGPU, VM_HOST_INCOMPATIBLE_VERSION, VM_HOST_INCOMPATIBLE_VIRTUAL_HARDWARE_PLATFORM_VERSION, INVALID_VALUE, MEMORY_CONSTRAINT_VIOLATION, OPERATION_NOT_ALLOWED, VALUE_NOT_SUPPORTED, VM_INCOMPATIBLE_WITH_THIS_HOST");
  c.message("assert_can_migrate", "vm:VM ref, dest:(string->string) map, live:bool, vdi_map:(VDI ref->SR ref) map, vif_map:(VIF ref->network ref) map, options:(string->string) map, vgpu_map:(VGPU ref->GPU_group ref) map = {}", "void", VPA, "tampa",
            "assert whether a VM can be migrated to the specified destin…")
      .errors("LICENCE_RESTRICTION")
      .ni();
  c.message("assert_operation_valid", "self:VM ref, op:enum vm_operations", "void", RO, "rio",
            "check to see whether this operation is acceptable in the cu…");
  c.message("call_plugin", "vm:VM ref, plugin:string, fn:string, args:(string->string) map", "string", VO, "cream",
            "call an API plugin on this vm")
      .ni();
  c.message("checkpoint", "vm:VM ref, new_name:string", "VM ref", VPA, "midnight-ride",
            "checkpoints the specified VM, making a new VM")
      .errors("VM_BAD_POWER_STATE, SR_FULL, OPERATION_NOT_ALLOWED, VM_CHECKPOINT_SUSPEND_FAILED, VM_CHECKPOINT_RESUME_FAILED")
      .blocking();
  c.message("clean_reboot", "vm:VM ref", "void", VO, "rio",
            "attempt to cleanly shutdown the specified VM (Note: this ma…")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("clean_shutdown", "vm:VM ref", "void", VO, "rio",
            "attempt to cleanly shutdown the specified VM")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("clone", "vm:VM ref, new_name:string", "VM ref", VA, "rio",
            "clones the specified VM, making a new VM")
      .errors("VM_BAD_POWER_STATE, SR_FULL, OPERATION_NOT_ALLOWED, LICENCE_RESTRICTION")
      .blocking();
  c.message("compute_memory_overhead", "vm:VM ref", "int", RO, "midnight-ride",
            "computes the virtualization memory overhead of a VM");
  c.message("copy", "vm:VM ref, new_name:string, sr:SR ref", "VM ref", VA, "rio",
            "copied the specified VM, making a new VM")
      .errors("VM_BAD_POWER_STATE, SR_FULL, OPERATION_NOT_ALLOWED, LICENCE_RESTRICTION")
      .blocking();
  c.message("copy_bios_strings", "vm:VM ref, host:host ref", "void", VA, "midnight-ride",
            "copy the BIOS strings from the given host to this VM")
      .ni();
  c.message("create_new_blob", "vm:VM ref, name:string, mime_type:string, public:bool = false", "blob ref", VPA, "orlando",
            "create a placeholder for a named binary blob of data that i…")
      .ni();
  c.message("forget_data_source_archives", "self:VM ref, data_source:string", "void", VA, "orlando",
            "forget the recorded statistics related to the specified dat…")
      .sync_only()
      .ni();
  c.message("get_SRs_required_for_recovery", "self:VM ref, session_to:session ref", "SR ref set", RO, "creedence",
            "list all the SR's that are required for the VM to be recove…")
      .ni();
  c.message("get_allowed_VBD_devices", "vm:VM ref", "string set", RO, "rio",
            "returns a list of the allowed values that a VBD device fiel…")
      .sync_only();
  c.message("get_allowed_VIF_devices", "vm:VM ref", "string set", RO, "rio",
            "returns a list of the allowed values that a VIF device fiel…")
      .sync_only();
  c.message("get_boot_record", "self:VM ref", "VM record", RO, "rio dep(inverness)",
            "returns a record describing the VM's dynamic state, initial…")
      .sync_only()
      .ni();
  c.message("get_cooperative", "self:VM ref", "bool", RO, "midnight-ride dep(tampa)",
            "returns true if the VM is currently 'co-operative' i.e. is…")
      .ni();
  c.message("get_data_sources", "self:VM ref", "data_source record set", RO, "orlando",
            "")
      .sync_only()
      .ni();
  c.message("get_possible_hosts", "vm:VM ref", "host ref set", RO, "rio",
            "returns the list of hosts on which this VM may run");
  c.message("hard_reboot", "vm:VM ref", "void", VO, "rio",
            "stop executing the specified VM without attempting a clean…")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("hard_shutdown", "vm:VM ref", "void", VO, "rio",
            "stop executing the specified VM without attempting a clean…")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("import", "url:string, sr:SR ref, full_restore:bool, force:bool", "VM ref set", PO, "dundee",
            "import an XVA from a URI")
      .ni();
  c.message("import_convert", "type:string, username:string, password:string, sr:SR ref, remote_config:(string->string) map", "void", VA, "tampa",
            "import using a conversion service")
      .ni();
  c.message("maximise_memory", "self:VM ref, total:int, approximate:bool", "int", RO, "miami",
            "returns the maximum amount of guest memory which will fit,…")
      .ni();
  c.message("migrate_send", "vm:VM ref, dest:(string->string) map, live:bool, vdi_map:(VDI ref->SR ref) map, vif_map:(VIF ref->network ref) map, options:(string->string) map, vgpu_map:(VGPU ref->GPU_group ref) map = {}", "VM ref", VPA, "tampa",
            "migrate the VM to another host")
      .errors("VM_BAD_POWER_STATE, LICENCE_RESTRICTION")
      .ni();
  c.message("pause", "vm:VM ref", "void", VO, "rio",
            "pause the specified VM")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("pool_migrate", "vm:VM ref, host:host ref, options:(string->string) map", "void", VPA, "rio",
            "migrate a VM to another Host")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, VM_IS_TEMPLATE, OPERATION_NOT_ALLOWED")
      .ni();
  c.message("power_state_reset", "vm:VM ref", "void", PO, "rio",
            "reset the power-state of the VM to halted in the database o…")
      .blocking();
  c.message("provision", "vm:VM ref", "void", VA, "rio",
            "inspects the disk configuration contained within the VM's o…")
      .errors("VM_BAD_POWER_STATE, SR_FULL, OPERATION_NOT_ALLOWED, LICENCE_RESTRICTION")
      .blocking();
  c.message("query_data_source", "self:VM ref, data_source:string", "float", RO, "orlando",
            "query the latest value of the specified data source")
      .sync_only()
      .ni();
  c.message("query_services", "self:VM ref", "(string->string) map", PA, "tampa",
            "query the system services advertised by this VM and registe…")
      .ni();
  c.message("record_data_source", "self:VM ref, data_source:string", "void", VA, "orlando",
            "start recording the specified data source")
      .sync_only()
      .ni();
  c.message("recover", "self:VM ref, session_to:session ref, force:bool", "void", RO, "boston",
            "recover the VM")
      .ni();
  c.message("remove_from_NVRAM", "self:VM ref, key:string", "void", VA, "naples",
            "")
      .sync_only();
  c.message("restart_device_models", "self:VM ref", "void", VPA, "23.30.0 proto",
            "restart device models of the VM")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, VM_IS_TEMPLATE, OPERATION_NOT_ALLOWED")
      .ni();
  c.message("resume", "vm:VM ref, start_paused:bool, force:bool", "void", VO, "rio",
            "awaken the specified VM and resume it")
      .errors("VM_BAD_POWER_STATE, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("resume_on", "vm:VM ref, host:host ref, start_paused:bool, force:bool", "void", VPA, "rio",
            "awaken the specified VM and resume it on a particular Host")
      .errors("VM_BAD_POWER_STATE, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("retrieve_wlb_recommendations", "vm:VM ref", "(host ref->string set) map", RO, "george",
            "returns mapping of hosts to ratings, indicating the suitabi…")
      .ni();
  c.message("revert", "snapshot:VM ref", "void", VPA, "midnight-ride",
            "reverts the specified VM to a previous state")
      .errors("VM_BAD_POWER_STATE, OPERATION_NOT_ALLOWED, SR_FULL, VM_REVERT_FAILED")
      .blocking();
  c.message("send_sysrq", "vm:VM ref, key:string", "void", PA, "rio",
            "send the given key as a sysrq to this VM")
      .errors("VM_BAD_POWER_STATE")
      .blocking();
  c.message("send_trigger", "vm:VM ref, trigger:string", "void", PA, "rio",
            "send the named trigger to this VM")
      .errors("VM_BAD_POWER_STATE")
      .blocking();
  c.message("set_HVM_boot_policy", "self:VM ref, value:string", "void", VA, "rio dep(kolkata)",
            "set the VM.HVM_boot_policy field of the given VM, which wil…")
      .sync_only();
  c.message("set_HVM_shadow_multiplier", "self:VM ref, value:float", "void", VPA, "midnight-ride",
            "set the shadow memory multiplier on a halted VM")
      .sync_only();
  c.message("set_NVRAM", "self:VM ref, value:(string->string) map", "void", VA, "naples",
            "")
      .sync_only();
  c.message("set_VCPUs_at_startup", "self:VM ref, value:int", "void", VA, "midnight-ride",
            "set the number of startup VCPUs for a halted VM")
      .sync_only();
  c.message("set_VCPUs_max", "self:VM ref, value:int", "void", VA, "midnight-ride",
            "set the maximum number of VCPUs for a halted VM")
      .sync_only();
  c.message("set_VCPUs_number_live", "self:VM ref, nvcpu:int", "void", VA, "rio",
            "set the number of VCPUs for a running VM")
      .errors("OPERATION_NOT_ALLOWED, LICENCE_RESTRICTION")
      .blocking();
  c.message("set_actions_after_crash", "self:VM ref, value:enum on_crash_behaviour", "void", VA, "rio",
            "sets the actions_after_crash parameter");
  c.message("set_appliance", "self:VM ref, value:VM_appliance ref", "void", PO, "boston",
            "assign this VM to an appliance")
      .ni();
  c.message("set_bios_strings", "self:VM ref, value:(string->string) map", "void", VA, "inverness",
            "set custom BIOS strings to this VM")
      .errors("VM_BIOS_STRINGS_ALREADY_SET, INVALID_VALUE");
  c.message("set_domain_type", "self:VM ref, value:enum domain_type", "void", VA, "kolkata",
            "set the VM.domain_type field of the given VM, which will ta…")
      .sync_only();
  c.message("set_ha_always_run", "self:VM ref, value:bool", "void", PO, "orlando dep(boston)",
            "set the value of the ha_always_run")
      .sync_only();
  c.message("set_ha_restart_priority", "self:VM ref, value:string", "void", PO, "orlando",
            "set the value of the ha_restart_priority field")
      .sync_only();
  c.message("set_has_vendor_device", "self:VM ref, value:bool", "void", VA, "dundee",
            "controls whether, when the VM starts in HVM mode, its virtu…");
  c.message("set_memory", "self:VM ref, value:int", "void", VPA, "ely",
            "set the memory allocation of this VM");
  c.message("set_memory_dynamic_max", "self:VM ref, value:int", "void", VPA, "midnight-ride",
            "set the value of the memory_dynamic_max field")
      .sync_only();
  c.message("set_memory_dynamic_min", "self:VM ref, value:int", "void", VPA, "midnight-ride",
            "set the value of the memory_dynamic_min field")
      .sync_only();
  c.message("set_memory_dynamic_range", "self:VM ref, min:int, max:int", "void", VPA, "midnight-ride",
            "set the minimum and maximum amounts of physical memory the…");
  c.message("set_memory_limits", "self:VM ref, static_min:int, static_max:int, dynamic_min:int, dynamic_max:int", "void", VPA, "midnight-ride",
            "set the memory limits of this VM");
  c.message("set_memory_static_max", "self:VM ref, value:int", "void", VPA, "orlando",
            "set the value of the memory_static_max field")
      .errors("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN")
      .sync_only();
  c.message("set_memory_static_min", "self:VM ref, value:int", "void", VPA, "midnight-ride",
            "set the value of the memory_static_min field")
      .sync_only();
  c.message("set_memory_static_range", "self:VM ref, min:int, max:int", "void", VPA, "midnight-ride",
            "set the static (ie boot-time) range of virtual memory that…");
  c.message("set_memory_target_live", "self:VM ref, target:int", "void", VPA, "rio dep(midnight-ride)",
            "set the memory target for a running VM")
      .ni();
  c.message("set_order", "self:VM ref, value:int", "void", PO, "boston",
            "set this VM's boot order");
  c.message("set_protection_policy", "self:VM ref, value:VMPP ref", "void", PO, "cowley REMOVED(clearwater)",
            "set the value of the protection_policy field")
      .sync_only()
      .ni();
  c.message("set_shadow_multiplier_live", "self:VM ref, multiplier:float", "void", VPA, "rio",
            "set the shadow memory multiplier on a running VM")
      .ni();
  c.message("set_shutdown_delay", "self:VM ref, value:int", "void", PO, "boston",
            "set this VM's shutdown delay in seconds");
  c.message("set_snapshot_schedule", "self:VM ref, value:VMSS ref", "void", PO, "falcon",
            "set the value of the snapshot schedule field")
      .sync_only()
      .ni();
  c.message("set_start_delay", "self:VM ref, value:int", "void", PO, "boston",
            "set this VM's start delay in seconds");
  c.message("set_suspend_VDI", "self:VM ref, value:VDI ref", "void", PO, "boston",
            "set this VM's suspend VDI, which must be indentical to its…")
      .ni();
  c.message("shutdown", "vm:VM ref", "void", VO, "clearwater",
            "attempts to first clean shutdown a VM and if it should fail…")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("snapshot", "vm:VM ref, new_name:string, ignore_vdis:VDI ref set = {}", "VM ref", VPA, "orlando",
            "snapshots the specified VM, making a new VM")
      .errors("VM_BAD_POWER_STATE, SR_FULL, OPERATION_NOT_ALLOWED")
      .blocking();
  c.message("snapshot_with_quiesce", "vm:VM ref, new_name:string", "VM ref", VPA, "orlando REMOVED(quebec)",
            "snapshots the specified VM with quiesce, making a new VM")
      .errors("VM_BAD_POWER_STATE, SR_FULL, OPERATION_NOT_ALLOWED, VM_SNAPSHOT_WITH_QUIESCE_FAILED, VM_SNAPSHOT_WITH_QUIESCE_TIMEOUT, VM_SNAPSHOT_WITH_QUIESCE_PLUGIN_DEOS_NOT_RESPOND, VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED")
      .ni();
  c.message("start", "vm:VM ref, start_paused:bool, force:bool", "void", VO, "rio",
            "start the specified VM")
      .errors("VM_BAD_POWER_STATE, VM_HVM_REQUIRED, VM_IS_TEMPLATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, BOOTLOADER_FAILED, UNKNOWN_BOOTLOADER, NO_HOSTS_AVAILABLE, LICENCE_RESTRICTION")
      .blocking();
  c.message("start_on", "vm:VM ref, host:host ref, start_paused:bool, force:bool", "void", VPA, "rio",
            "start the specified VM on a particular host")
      .errors("VM_BAD_POWER_STATE, VM_IS_TEMPLATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, BOOTLOADER_FAILED, UNKNOWN_BOOTLOADER")
      .blocking();
  c.message("suspend", "vm:VM ref", "void", VO, "rio",
            "suspend the specified VM to disk")
      .errors("VM_BAD_POWER_STATE, OTHER_OPERATION_IN_PROGRESS, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("unpause", "vm:VM ref", "void", VO, "rio",
            "resume the specified VM")
      .errors("VM_BAD_POWER_STATE, OPERATION_NOT_ALLOWED, VM_IS_TEMPLATE")
      .blocking();
  c.message("update_allowed_operations", "self:VM ref", "void", PA, "rio",
            "recomputes the list of acceptable operations");
  c.message("wait_memory_target_live", "self:VM ref", "void", RO, "orlando dep(midnight-ride)",
            "wait for a running VM to reach its current memory target")
      .ni();
  // Added after xapi 24.16 (prototypes).
  c.message("set_groups", "self:VM ref, value:VM_group ref set", "void", VA, "24.19.1 proto",
            "associate this VM with VM groups")
      .errors("OPERATION_NOT_ALLOWED")
      .ni();
  c.message("get_secureboot_readiness", "self:VM ref", "enum vm_secureboot_readiness", PA, "24.17.0 proto",
            "return the readiness of a VM for UEFI Secure Boot")
      .ni();
  c.message("set_uefi_mode", "self:VM ref, mode:enum vm_uefi_mode", "string", PA, "24.17.0 proto",
            "set the UEFI mode of a VM")
      .ni();
  c.message("call_host_plugin", "vm:VM ref, plugin:string, fn:string, args:(string->string) map", "string", VO,
            "25.22.0 proto", "call a host plugin on the host where this VM resides")
      .ni();
  c.message("sysprep", "self:VM ref, unattend:string, timeout:float", "void", VA, "25.24.0 proto",
            "run sysprep in a Windows guest")
      .ni();
  c.message("update_secureboot_certificates_on_boot", "self:VM ref, mark:bool", "void", VA, "26.14.0 proto",
            "mark or unmark the VM to update its UEFI Secure Boot certificates on the next boot")
      .errors("OPERATION_NOT_ALLOWED")
      .ni();
}

}  // namespace xenapi::dm
