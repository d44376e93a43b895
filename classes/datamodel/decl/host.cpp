// host: physical host.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_host(Declarations& d) {
  auto c = d.cls("host", "physical host", "rio");
  c.implicit(kGetAll | kGetByNameLabel | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA)
      .role("remove_tags", VO)
      .role("add_tags", VO)
      .role("set_tags", VO);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", RW, "rio", "human-readable name").def("\"\"").db("name__label");
  c.field("name_description", "string", RW, "rio", "notes field containing human-readable description").def("\"\"").db("name__description");
  c.field("memory_overhead", "int", DRO, "rio", "virtualization memory overhead (bytes)").db("memory__overhead");
  c.field("allowed_operations", "enum host_allowed_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum host_allowed_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("API_version_major", "int", DRO, "rio", "major version number").db("API_version__major");
  c.field("API_version_minor", "int", DRO, "rio", "minor version number").db("API_version__minor");
  c.field("API_version_vendor", "string", DRO, "rio", "identification of vendor").db("API_version__vendor");
  c.field("API_version_vendor_implementation", "(string->string) map", DRO, "rio", "details of vendor implementation").db("API_version__vendor_implementation");
  c.field("enabled", "bool", DRO, "rio", "true if the host is currently enabled");
  c.field("software_version", "(string->string) map", SRO, "rio", "version strings");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration")
      .key_role("folder", VO)
      .key_role("XenCenter.CustomFields.*", VO);
  c.field("capabilities", "string set", SRO, "rio", "xen capabilities");
  c.field("cpu_configuration", "(string->string) map", DRO, "rio", "CPU configuration on this host");
  c.field("sched_policy", "string", DRO, "rio", "scheduler policy currently in force on this host");
  c.field("supported_bootloaders", "string set", DRO, "rio", "list of the bootloaders installed on the machine");
  c.field("resident_VMs", "VM ref set", DRO, "rio", "list of VMs currently resident on host");
  c.field("logging", "(string->string) map", RW, "rio", "logging configuration");
  c.field("PIFs", "PIF ref set", DRO, "rio", "physical network interfaces");
  c.field("suspend_image_sr", "SR ref", RW, "rio", "SR in which VDIs for suspend images are created");
  c.field("crash_dump_sr", "SR ref", RW, "rio", "SR in which VDIs for crash dumps are created");
  c.field("crashdumps", "host_crashdump ref set", DRO, "rio", "set of host crash dumps");
  c.field("patches", "host_patch ref set", DRO, "rio dep(ely)", "set of host patches");
  c.field("updates", "pool_update ref set", DRO, "ely", "set of updates");
  c.field("PBDs", "PBD ref set", DRO, "rio", "physical blockdevices");
  c.field("host_CPUs", "host_cpu ref set", DRO, "rio", "physical CPUs on this host");
  c.field("cpu_info", "(string->string) map", DRO, "midnight-ride", "details about the physical CPUs on this host");
  c.field("hostname", "string", RW, "rio", "hostname of this host");
  c.field("address", "string", RW, "rio", "address by which this host can be contacted from any other host in the…");
  c.field("metrics", "host_metrics ref", DRO, "rio", "metrics associated with this host");
  c.field("license_params", "(string->string) map", DRO, "rio", "state of the current license");
  c.field("ha_statefiles", "string set", DRO, "orlando", "set of statefiles accessible from this host");
  c.field("ha_network_peers", "string set", DRO, "orlando", "set of hosts visible via the network from this host");
  c.field("blobs", "(string->blob ref) map", DRO, "orlando", "binary blobs associated with this host");
  c.field("tags", "string set", RW, "orlando", "user-specified tags for categorization purposes").def("{}");
  c.field("external_auth_type", "string", DRO, "george", "type of external authentication service configured; empty if none confi…");
  c.field("external_auth_service_name", "string", DRO, "george", "name of external authentication service configured; empty if none confi…");
  c.field("external_auth_configuration", "(string->string) map", DRO, "george", "configuration specific to external authentication service");
  c.field("edition", "string", DRO, "midnight-ride", "product edition");
  c.field("license_server", "(string->string) map", RW, "midnight-ride", "contact information of the license server").def("{\"address\" -> \"localhost\", \"port\" -> \"27000\"}");
  c.field("bios_strings", "(string->string) map", DRO, "midnight-ride", "BIOS strings");
  c.field("power_on_mode", "string", DRO, "midnight-ride", "power on mode");
  c.field("power_on_config", "(string->string) map", DRO, "midnight-ride", "power on config");
  c.field("local_cache_sr", "SR ref", SRO, "cowley", "SR that is used as a local cache").def("OpaqueRef:NULL");
  c.field("chipset_info", "(string->string) map", DRO, "boston", "information about chipset features");
  c.field("PCIs", "PCI ref set", DRO, "boston", "list of PCI devices in the host");
  c.field("PGPUs", "PGPU ref set", DRO, "boston", "list of physical GPUs in the host");
  c.field("PUSBs", "PUSB ref set", DRO, "inverness", "list of physical USBs in the host");
  c.field("ssl_legacy", "bool", SRO, "dundee dep(stockholm)", "allow SSLv3 protocol and ciphersuites as used by older server versions").def("true");
  c.field("guest_VCPUs_params", "(string->string) map", RW, "tampa", "VCPUs params to apply to all resident guests").def("{}");
  c.field("display", "enum host_display", RW, "cream", "indicates whether the host is configured to output its console to a phy…").def("enabled");
  c.field("virtual_hardware_platform_versions", "int set", DRO, "cream", "set of versions of the virtual hardware platform that the host can offe…");
  c.field("control_domain", "VM ref", DRO, "ely", "control domain (domain 0)");
  c.field("updates_requiring_reboot", "pool_update ref set", DRO, "ely", "list of updates which require reboot");
  c.field("features", "Feature ref set", DRO, "falcon", "list of features available on this host");
  c.field("iscsi_iqn", "string", SRO, "kolkata", "initiator IQN for the host").def("\"\"");
  c.field("multipathing", "bool", SRO, "kolkata", "specifies whether multipathing is enabled").def("false");
  c.field("uefi_certificates", "string", SRO, "quebec dep(22.16.0)", "UEFI certificates allowing Secure Boot").def("\"\"");
  c.field("certificates", "Certificate ref set", DRO, "stockholm", "list of certificates installed in the host");
  c.field("editions", "string set", DRO, "stockholm", "list of all available product editions");
  c.field("pending_guidances", "enum update_guidances set", DRO, "1.303.0", "set of pending mandatory guidances after applying updates, which must b…");
  c.field("tls_verification_enabled", "bool", DRO, "1.313.0", "true if this host has TLS verifcation enabled");
  c.field("last_software_update", "datetime", DRO, "22.20.0 proto", "date and time when the last software update was applied");
  c.field("https_only", "bool", DRO, "22.27.0 proto", "reflects whether port 80 is open (false) or not (true)");
  c.field("latest_synced_updates_applied", "enum latest_synced_updates_applied_state", DRO, "23.18.0 proto", "default as 'unknown', 'yes' if the host is up to date with updates sync…");
  c.field("numa_affinity_policy", "enum host_numa_affinity_policy", DRO, "24.0.0 proto", "NUMA-aware VM memory and vCPU placement policy");
  c.field("pending_guidances_recommended", "enum update_guidances set", DRO, "24.10.0 proto", "set of pending recommended guidances after applying updates, which most…");
  c.field("pending_guidances_full", "enum update_guidances set", DRO, "24.10.0 proto", "set of pending full guidances after applying updates, which a user shou…");
  c.field("last_update_hash", "string", DRO, "24.10.0 proto", "SHA256 checksum of updateinfo of the most recently applied update on th…");
  // Added after xapi 24.16 (prototypes).
  c.field("ssh_enabled", "bool", DRO, "25.21.0 proto", "true if SSH access is enabled for the host").def("true");
  c.field("ssh_enabled_timeout", "int", DRO, "25.21.0 proto", "seconds after which SSH is disabled again (0: never)").def("0");
  c.field("ssh_expiry", "datetime", DRO, "25.21.0 proto", "time at which SSH will be disabled");
  c.field("console_idle_timeout", "int", DRO, "25.21.0 proto", "seconds after which an idle console is closed (0: never)").def("0");
  c.field("ssh_auto_mode", "bool", DRO, "25.27.0 proto", "whether SSH is managed automatically").def("true");
  c.field("secure_boot", "bool", DRO, "25.31.0 proto", "whether the host booted with UEFI Secure Boot");
  c.field("max_cstate", "string", DRO, "26.0.0 proto", "maximum C-state the CPUs may enter (\"\": unlimited)");
  c.field("ntp_mode", "enum host_ntp_mode", DRO, "26.0.0 proto", "how the host synchronises its clock").def("Factory");
  c.field("ntp_custom_servers", "string set", DRO, "26.0.0 proto", "NTP servers used in Custom mode");
  c.field("timezone", "string", DRO, "26.0.0 proto", "IANA time zone of the host").def("\"UTC\"");

  c.message("apply_edition", "host:host ref, edition:string, force:bool = false", "void", PO, "midnight-ride",
            "change to another edition, or reactivate the current editio…")
      .sync_only()
      .ni();
  c.message("apply_recommended_guidances", "self:host ref", "void", PO, "23.18.0 REMOVED(23.25.0)",
            "apply all recommended guidances both on the host and on all…")
      .ni();
  c.message("apply_updates", "self:host ref, hash:string", "string set set", PO, "1.301.0",
            "apply updates from current enabled repository on a host")
      .ni();
  c.message("assert_can_evacuate", "host:host ref", "void", PO, "miami",
            "check this host can be evacuated")
      .ni();
  c.message("backup_rrds", "host:host ref, delay:float", "void", PA, "orlando",
            "this causes the RRDs to be backed up to the master")
      .sync_only()
      .ni();
  c.message("bugreport_upload", "host:host ref, url:string, options:(string->string) map", "void", PO, "rio",
            "run xen-bugtool --yestoall and upload the output to support")
      .ni();
  c.message("call_extension", "host:host ref, call:string", "string", PA, "ely",
            "call an API extension on this host")
      .sync_only()
      .ni();
  c.message("call_plugin", "host:host ref, plugin:string, fn:string, args:(string->string) map", "string", PA, "orlando",
            "call an API plugin on this host")
      .ni();
  c.message("compute_free_memory", "host:host ref", "int", RO, "orlando",
            "computes the amount of free memory on the host");
  c.message("compute_memory_overhead", "host:host ref", "int", RO, "midnight-ride",
            "computes the virtualization memory overhead of a host")
      .ni();
  c.message("create_new_blob", "host:host ref, name:string, mime_type:string, public:bool = false", "blob ref", PO, "orlando",
            "create a placeholder for a named binary blob of data that i…")
      .ni();
  c.message("declare_dead", "host:host ref", "void", PO, "clearwater",
            "declare that a host is dead")
      .ni();
  c.message("destroy", "self:host ref", "void", PO, "rio",
            "destroy specified host record in database")
      .ni();
  c.message("disable", "host:host ref, auto_enable:bool = true", "void", PO, "rio",
            "puts the host into a state in which no new VMs can be start…");
  c.message("disable_display", "host:host ref", "enum host_display", PO, "cream",
            "disable console output to the physical display device next…")
      .ni();
  c.message("disable_external_auth", "host:host ref, config:(string->string) map = {}", "void", PA, "george",
            "this call disables external authentication on the local host")
      .sync_only()
      .ni();
  c.message("disable_local_storage_caching", "host:host ref", "void", PO, "cowley",
            "disable the use of a local SR for caching purposes")
      .sync_only()
      .ni();
  c.message("dmesg", "host:host ref", "string", PO, "rio",
            "get the host xen dmesg")
      .ni();
  c.message("dmesg_clear", "host:host ref", "string", PO, "rio",
            "get the host xen dmesg, and clear the buffer")
      .ni();
  c.message("emergency_clear_mandatory_guidance", "", "void", ROOT, "24.10.0 proto",
            "clear the pending mandatory guidance on this host")
      .sync_only()
      .ni();
  c.message("emergency_disable_tls_verification", "", "void", ROOT, "1.290.0",
            "disable TLS verification for this host only")
      .sync_only()
      .ni();
  c.message("emergency_ha_disable", "soft:bool = false", "void", PO, "orlando",
            "this call disables HA on the local host")
      .sync_only()
      .ni();
  c.message("emergency_reenable_tls_verification", "", "void", ROOT, "1.298.0",
            "reenable TLS verification for this host only")
      .sync_only()
      .ni();
  c.message("emergency_reset_server_certificate", "", "void", ROOT, "stockholm",
            "delete the current TLS server certificate and replace by a…")
      .sync_only()
      .ni();
  c.message("enable", "host:host ref", "void", PO, "rio",
            "puts the host into a state in which new VMs can be started");
  c.message("enable_display", "host:host ref", "enum host_display", PO, "cream",
            "enable console output to the physical display device next t…")
      .ni();
  c.message("enable_external_auth", "host:host ref, config:(string->string) map, service_name:string, auth_type:string", "void", PA, "george",
            "this call enables external authentication on a host")
      .sync_only()
      .ni();
  c.message("enable_local_storage_caching", "host:host ref, sr:SR ref", "void", PO, "cowley",
            "enable the use of a local SR for caching purposes")
      .sync_only()
      .ni();
  c.message("evacuate", "host:host ref, network:network ref = OpaqueRef:NULL, evacuate_batch_size:int = 0", "void", PO, "miami",
            "migrate all VMs off of this host, where possible")
      .ni();
  c.message("forget_data_source_archives", "host:host ref, data_source:string", "void", PO, "orlando",
            "forget the recorded statistics related to the specified dat…")
      .sync_only()
      .ni();
  c.message("get_data_sources", "host:host ref", "data_source record set", RO, "orlando",
            "")
      .sync_only()
      .ni();
  c.message("get_log", "host:host ref", "string", RO, "rio",
            "get the host's log file")
      .ni();
  c.message("get_management_interface", "host:host ref", "PIF ref", PO, "tampa",
            "returns the management interface for the specified host")
      .ni();
  c.message("get_sched_gran", "self:host ref", "enum host_sched_gran", ROOT, "1.271.0",
            "gets xen's sched-gran on a host")
      .ni();
  c.message("get_server_certificate", "host:host ref", "string", RO, "george",
            "get the installed server public TLS certificate")
      .ni();
  c.message("get_server_localtime", "host:host ref", "datetime", RO, "cowley",
            "this call queries the host's clock for the current time in…")
      .sync_only()
      .ni();
  c.message("get_servertime", "host:host ref", "datetime", RO, "orlando",
            "this call queries the host's clock for the current time")
      .sync_only()
      .ni();
  c.message("get_system_status_capabilities", "host:host ref", "string", RO, "miami",
            "")
      .sync_only()
      .ni();
  c.message("get_uncooperative_resident_VMs", "self:host ref", "VM ref set", RO, "midnight-ride dep(tampa)",
            "returns a set of VMs which are not co-operating with the ho…")
      .ni();
  c.message("get_vms_which_prevent_evacuation", "self:host ref", "(VM ref->string set) map", RO, "orlando",
            "returns a set of VMs which prevent the host being evacuated…")
      .ni();
  c.message("has_extension", "host:host ref, name:string", "bool", PA, "ely",
            "returns true if the extension is available on the host")
      .ni();
  c.message("install_server_certificate", "host:host ref, certificate:string, private_key:string, certificate_chain:string = \"\"", "void", PA, "stockholm",
            "install the TLS server certificate")
      .ni();
  c.message("license_add", "host:host ref, contents:string", "void", PO, "indigo",
            "apply a new license to a host")
      .errors("LICENSE_PROCESSING_ERROR")
      .ni();
  c.message("license_apply", "host:host ref, contents:string", "void", PO, "rio REMOVED(clearwater)",
            "apply a new license to a host")
      .errors("LICENSE_PROCESSING_ERROR")
      .ni();
  c.message("license_remove", "host:host ref", "void", PO, "indigo",
            "remove any license file from the specified host, and switch…")
      .ni();
  c.message("list_methods", "", "string set", RO, "rio",
            "list all supported methods")
      .sync_only()
      .ni();
  c.message("local_management_reconfigure", "interface:string", "void", PO, "miami",
            "reconfigure the management network interface")
      .sync_only()
      .ni();
  c.message("management_disable", "", "void", PO, "miami",
            "disable the management network interface")
      .sync_only()
      .ni();
  c.message("management_reconfigure", "pif:PIF ref", "void", PO, "miami",
            "reconfigure the management network interface")
      .ni();
  c.message("migrate_receive", "host:host ref, network:network ref, options:(string->string) map", "(string->string) map", VPA, "tampa",
            "prepare to receive a VM, returning a token which can be pas…")
      .ni();
  c.message("power_on", "host:host ref", "void", PO, "orlando",
            "attempt to power-on the host (if the capability exists)")
      .ni();
  c.message("query_data_source", "host:host ref, data_source:string", "float", RO, "orlando",
            "query the latest value of the specified data source")
      .sync_only()
      .ni();
  c.message("reboot", "host:host ref", "void", PO, "rio",
            "reboot the host")
      .ni();
  c.message("record_data_source", "host:host ref, data_source:string", "void", PO, "orlando",
            "start recording the specified data source")
      .sync_only()
      .ni();
  c.message("refresh_pack_info", "host:host ref", "void", PO, "midnight-ride dep(ely)",
            "refresh the list of installed Supplemental Packs")
      .ni();
  c.message("refresh_server_certificate", "host:host ref", "void", PA, "1.307.0",
            "replace the internal self-signed host certficate with a new…")
      .ni();
  c.message("reset_cpu_features", "host:host ref", "void", PO, "midnight-ride REMOVED(dundee)",
            "remove the feature mask, such that after a reboot all featu…")
      .sync_only()
      .ni();
  c.message("reset_server_certificate", "host:host ref", "void", PA, "1.290.0",
            "delete the current TLS server certificate and replace by a…")
      .ni();
  c.message("restart_agent", "host:host ref", "void", PO, "rio",
            "restarts the agent after a 10 second pause")
      .ni();
  c.message("retrieve_wlb_evacuate_recommendations", "self:host ref", "(VM ref->string set) map", RO, "george",
            "retrieves recommended host migrations to perform when evacu…")
      .ni();
  c.message("send_debug_keys", "host:host ref, keys:string", "void", PA, "rio",
            "inject the given string as debugging keys into Xen")
      .ni();
  c.message("set_cpu_features", "host:host ref, features:string", "void", PO, "midnight-ride REMOVED(dundee)",
            "set the CPU features to be used after a reboot, if the give…")
      .sync_only()
      .ni();
  c.message("set_hostname_live", "host:host ref, hostname:string", "void", PO, "miami",
            "sets the host name to the specified string")
      .errors("HOST_NAME_INVALID")
      .sync_only()
      .ni();
  c.message("set_https_only", "self:host ref, value:bool", "void", PO, "22.27.0 proto",
            "updates the host firewall to open or close port 80 dependin…")
      .ni();
  c.message("set_iscsi_iqn", "host:host ref, value:string", "void", PO, "kolkata",
            "sets the initiator IQN for the host")
      .ni();
  c.message("set_multipathing", "host:host ref, value:bool", "void", PO, "kolkata",
            "specifies whether multipathing is enabled")
      .ni();
  c.message("set_numa_affinity_policy", "self:host ref, value:enum host_numa_affinity_policy", "void", PA, "24.0.0 proto",
            "set VM placement NUMA affinity policy")
      .ni();
  c.message("set_power_on_mode", "self:host ref, power_on_mode:string, power_on_config:(string->string) map", "void", PO, "cowley",
            "set the power-on-mode, host, user and password")
      .ni();
  c.message("set_sched_gran", "self:host ref, value:enum host_sched_gran", "void", ROOT, "1.271.0",
            "sets xen's sched-gran on a host")
      .ni();
  c.message("set_ssl_legacy", "self:host ref, value:bool", "void", PO, "dundee",
            "enable/disable SSLv3 for interoperability with older server…")
      .ni();
  c.message("set_uefi_certificates", "host:host ref, value:string", "void", ROOT, "quebec dep(22.16.0)",
            "sets the UEFI certificates on a host")
      .ni();
  c.message("shutdown", "host:host ref", "void", PO, "rio",
            "shutdown the host")
      .ni();
  c.message("shutdown_agent", "", "void", PO, "orlando",
            "shuts the agent down after a 10 second pause")
      .sync_only()
      .ni();
  c.message("sync_data", "host:host ref", "void", PA, "orlando",
            "this causes the synchronisation of the non-database data (m…")
      .sync_only()
      .ni();
  c.message("syslog_reconfigure", "host:host ref", "void", PO, "miami",
            "re-configure syslog logging")
      .ni();
  // Added after xapi 24.16 (prototypes).
  c.message("rescan_drivers", "self:host ref", "void", PA, "25.2.0 proto", "scan the host for driver variants")
      .ni();
  c.message("enable_ssh", "self:host ref", "void", PA, "25.13.0 proto", "enable SSH access on the host")
      .ni();
  c.message("disable_ssh", "self:host ref", "void", PA, "25.13.0 proto", "disable SSH access on the host")
      .ni();
  c.message("set_ssh_enabled_timeout", "self:host ref, value:int", "void", PA, "25.21.0 proto",
            "set the SSH enabled timeout of the host")
      .ni();
  c.message("set_console_idle_timeout", "self:host ref, value:int", "void", PA, "25.21.0 proto",
            "set the console idle timeout of the host")
      .ni();
  c.message("set_ssh_auto_mode", "self:host ref, value:bool", "void", PA, "25.27.0 proto",
            "set whether SSH is managed automatically")
      .ni();
  c.message("get_tracked_user_agents", "self:host ref", "(string->string) map", RO, "25.34.0 proto",
            "user agents of the clients recently seen by the host")
      .ni();
  c.message("set_max_cstate", "self:host ref, value:string", "void", PO, "26.0.0 proto",
            "set the maximum C-state of the host's CPUs")
      .ni();
  c.message("set_ntp_mode", "self:host ref, value:enum host_ntp_mode", "void", PO, "26.0.0 proto",
            "set how the host synchronises its clock")
      .ni();
  c.message("set_ntp_custom_servers", "self:host ref, value:string set", "void", PO, "26.0.0 proto",
            "set the NTP servers used in Custom mode")
      .ni();
  c.message("get_ntp_servers_status", "self:host ref", "(string->string) map", RO, "26.0.0 proto",
            "synchronisation status of each NTP server")
      .ni();
  c.message("set_timezone", "self:host ref, value:string", "void", PO, "26.0.0 proto", "set the host's time zone")
      .ni();
  c.message("list_timezones", "self:host ref", "string set", RO, "26.0.0 proto", "list the known time zones")
      .ni();
  c.message("get_ntp_synchronized", "self:host ref", "bool", RO, "26.0.0 proto",
            "whether the host's clock is synchronised")
      .ni();
  c.message("set_servertime", "self:host ref, value:datetime", "void", PO, "26.0.0 proto", "set the host's clock")
      .ni();
}

}  // namespace xenapi::dm
