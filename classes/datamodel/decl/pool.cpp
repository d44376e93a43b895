// pool: pool-wide information.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_pool(Declarations& d) {
  auto c = d.cls("pool", "pool-wide information", "rio");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA)
      .role("remove_from_gui_config", VO)
      .role("add_to_gui_config", VO)
      .role("set_gui_config", VO)
      .role("remove_tags", VO)
      .role("add_tags", VO)
      .role("set_tags", VO);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("name_label", "string", RW, "rio", "short name");
  c.field("name_description", "string", RW, "rio", "description");
  c.field("master", "host ref", DRO, "rio", "host that is pool master");
  c.field("default_SR", "SR ref", RW, "rio", "default SR for VDIs");
  c.field("suspend_image_SR", "SR ref", RW, "rio", "SR in which VDIs for suspend images are created");
  c.field("crash_dump_SR", "SR ref", RW, "rio", "SR in which VDIs for crash dumps are created");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration")
      .key_role("folder", VO)
      .key_role("XenCenter.CustomFields.*", VO)
      .key_role("EMPTY_FOLDERS", VO);
  c.field("ha_enabled", "bool", DRO, "orlando", "true if HA is enabled on the pool, false otherwise");
  c.field("ha_configuration", "(string->string) map", DRO, "orlando", "current HA configuration");
  c.field("ha_statefiles", "string set", DRO, "orlando", "HA statefile VDIs in use");
  c.field("ha_host_failures_to_tolerate", "int", DRO, "orlando", "number of host failures to tolerate before the Pool is declared to be o…");
  c.field("ha_plan_exists_for", "int", DRO, "orlando", "number of future host failures we have managed to find a plan for");
  c.field("ha_allow_overcommit", "bool", RW, "orlando", "if set to false then operations which would cause the Pool to become ov…").def("false");
  c.field("ha_overcommitted", "bool", DRO, "orlando", "true if the Pool is considered to be overcommitted i.e. if there exist…");
  c.field("blobs", "(string->blob ref) map", DRO, "orlando", "binary blobs associated with this pool");
  c.field("tags", "string set", RW, "orlando", "user-specified tags for categorization purposes").def("{}");
  c.field("gui_config", "(string->string) map", RW, "orlando", "gui-specific configuration for pool").def("{}");
  c.field("health_check_config", "(string->string) map", RW, "dundee", "configuration for the automatic health check feature").def("{}");
  c.field("wlb_url", "string", DRO, "george", "url for the configured workload balancing host");
  c.field("wlb_username", "string", DRO, "george", "username for accessing the workload balancing host");
  c.field("wlb_enabled", "bool", RW, "george", "true if workload balancing is enabled on the pool, false otherwise").def("false");
  c.field("wlb_verify_cert", "bool", RW, "george dep(1.290.0)", "true if communication with the WLB server should enforce TLS certificat…").def("false");
  c.field("redo_log_enabled", "bool", DRO, "midnight-ride", "true a redo-log is to be used other than when HA is enabled, false othe…");
  c.field("redo_log_vdi", "VDI ref", DRO, "midnight-ride", "indicates the VDI to use for the redo-log other than when HA is enabled");
  c.field("vswitch_controller", "string", DRO, "midnight-ride dep(falcon)", "address of the vswitch controller");
  c.field("restrictions", "(string->string) map", DRO, "midnight-ride", "pool-wide restrictions currently in effect");
  c.field("metadata_VDIs", "VDI ref set", DRO, "boston", "set of currently known metadata VDIs for this pool");
  c.field("ha_cluster_stack", "string", DRO, "dundee", "HA cluster stack that is currently in use");
  c.field("allowed_operations", "enum pool_allowed_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum pool_allowed_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("guest_agent_config", "(string->string) map", DRO, "dundee", "pool-wide guest agent configuration information");
  c.field("cpu_info", "(string->string) map", DRO, "dundee", "details about the physical CPUs on the pool");
  c.field("policy_no_vendor_device", "bool", RW, "dundee", "pool-wide policy for clients on whether to use the vendor device or not…").def("false");
  c.field("live_patching_disabled", "bool", RW, "ely", "pool-wide flag to show if the live patching feauture is disabled or not").def("false");
  c.field("igmp_snooping_enabled", "bool", DRO, "inverness", "true if IGMP snooping is enabled in the pool, false otherwise");
  c.field("uefi_certificates", "string", SRO, "quebec", "UEFI certificates allowing Secure Boot").def("\"\"");
  c.field("custom_uefi_certificates", "string", SRO, "24.0.0 proto", "custom UEFI certificates allowing Secure Boot").def("\"\"");
  c.field("is_psr_pending", "bool", RW, "stockholm_psr", "true if either a PSR is running or we are waiting for a PSR to be re-run").def("false");
  c.field("tls_verification_enabled", "bool", DRO, "1.290.0", "true iff TLS certificate verification is enabled");
  c.field("repositories", "Repository ref set", DRO, "1.301.0", "set of currently enabled repositories");
  c.field("client_certificate_auth_enabled", "bool", DRO, "1.318.0", "true if authentication by TLS client certificates is enabled");
  c.field("client_certificate_auth_name", "string", DRO, "1.318.0", "name (CN/SAN) that an incoming client certificate must have to allow au…");
  c.field("repository_proxy_url", "string", DRO, "21.3.0", "url of the proxy used in syncing with the enabled repositories");
  c.field("repository_proxy_username", "string", DRO, "21.3.0", "username for the authentication of the proxy used in syncing with the e…");
  c.field("repository_proxy_password", "secret ref", DRO, "21.3.0", "password for the authentication of the proxy used in syncing with the e…");
  c.field("migration_compression", "bool", RW, "22.33.0 proto", "default behaviour during migration, True if stream compression should b…").def("false");
  c.field("coordinator_bias", "bool", RW, "22.37.0", "true if bias against pool master when scheduling vms is enabled, false…").def("true");
  c.field("local_auth_max_threads", "int", SRO, "23.27.0 proto", "maximum number of threads to use for PAM authentication").def("8");
  c.field("ext_auth_max_threads", "int", SRO, "23.27.0 proto", "maximum number of threads to use for external (AD) authentication").def("1");
  c.field("telemetry_uuid", "secret ref", DRO, "23.9.0 proto", "UUID of the pool for identification of telemetry data");
  c.field("telemetry_frequency", "enum telemetry_frequency", DRO, "23.9.0 proto", "how often the telemetry collection will be carried out");
  c.field("telemetry_next_collection", "datetime", DRO, "23.9.0 proto", "earliest timestamp (in UTC) when the next round of telemetry collection…");
  c.field("last_update_sync", "datetime", DRO, "23.18.0 proto", "time of the last update sychronization");
  c.field("update_sync_frequency", "enum update_sync_frequency", DRO, "23.18.0 proto", "frequency at which updates are synchronized from a remote CDN: daily or…");
  c.field("update_sync_day", "int", DRO, "23.18.0 proto", "day of the week the update synchronizations will be scheduled, based on…");
  c.field("update_sync_enabled", "bool", DRO, "23.18.0 proto", "whether periodic update synchronization is enabled or not");
  // Added after xapi 24.16 (prototypes).
  c.field("recommendations", "(string->string) map", DRO, "24.19.1 proto", "recommended limits for the pool");
  c.field("ext_auth_cache_enabled", "bool", DRO, "24.31.0 proto", "whether external authentication results are cached").def("true");
  c.field("ext_auth_cache_size", "int", DRO, "24.31.0 proto", "maximum number of cached external authentications").def("50");
  c.field("ext_auth_cache_expiry", "int", DRO, "24.31.0 proto", "seconds a cached external authentication stays valid").def("300");
  c.field("license_server", "(string->string) map", RW, "25.6.0 proto", "license server of the pool").def("{}");
  c.field("ha_reboot_vm_on_internal_shutdown", "bool", RW, "25.16.0 proto",
          "whether HA restarts a protected VM that shut itself down").def("true");
  c.field("limit_console_sessions", "bool", RW, "26.1.0 proto", "allow only one session per VM console").def("false");
  c.field("vm_console_idle_timeout", "int", RW, "26.1.0 proto", "seconds after which an idle VM console is closed (0: never)").def("0");
  c.field("auto_update_vm_secureboot_certificates", "bool", RW, "26.16.1 proto",
          "mark new VMs whose Secure Boot certificates are outdated for update on boot").def("false");

  c.message("add_repository", "self:pool ref, value:Repository ref", "void", PO, "1.301.0",
            "add a repository to the enabled set")
      .ni();
  c.message("add_to_guest_agent_config", "self:pool ref, key:string, value:string", "void", PA, "dundee",
            "add a key-value pair to the pool-wide guest agent configura…")
      .ni();
  c.message("apply_edition", "self:pool ref, edition:string", "void", PO, "clearwater",
            "apply an edition to all hosts in the pool")
      .ni();
  c.message("certificate_install", "name:string, cert:string", "void", PO, "george dep(1.290.0)",
            "install a TLS CA certificate, pool-wide")
      .ni();
  c.message("certificate_list", "", "string set", PO, "george dep(1.290.0)",
            "list the names of all installed TLS CA certificates")
      .ni();
  c.message("certificate_sync", "", "void", PO, "george",
            "copy the TLS CA certificates and CRLs of the master to all…")
      .ni();
  c.message("certificate_uninstall", "name:string", "void", PO, "george dep(1.290.0)",
            "remove a pool-wide TLS CA certificate")
      .ni();
  c.message("check_update_readiness", "self:pool ref, requires_reboot:bool", "string set set", PO, "1.304.0",
            "check if the pool is ready to be updated")
      .ni();
  c.message("configure_repository_proxy", "self:pool ref, url:string, username:string, password:string", "void", PO, "21.3.0",
            "configure proxy for RPM package repositories")
      .ni();
  c.message("configure_update_sync", "self:pool ref, update_sync_frequency:enum update_sync_frequency, update_sync_day:int", "void", PO, "23.18.0 proto",
            "configure periodic update synchronization to sync updates f…")
      .ni();
  c.message("create_VLAN", "device:string, network:network ref, VLAN:int", "PIF ref set", PO, "rio",
            "create PIFs, mapping a network to the same physical interfa…")
      .errors("VLAN_TAG_INVALID")
      .ni();
  c.message("create_VLAN_from_PIF", "pif:PIF ref, network:network ref, VLAN:int", "PIF ref set", PO, "rio",
            "create a pool-wide VLAN by taking the PIF")
      .errors("VLAN_TAG_INVALID")
      .ni();
  c.message("create_new_blob", "pool:pool ref, name:string, mime_type:string, public:bool = false", "blob ref", PO, "orlando",
            "create a placeholder for a named binary blob of data that i…")
      .ni();
  c.message("crl_install", "name:string, cert:string", "void", PO, "george",
            "install a TLS CA-issued Certificate Revocation List, pool-w…")
      .ni();
  c.message("crl_list", "", "string set", PO, "george",
            "list the names of all installed TLS CA-issued Certificate R…")
      .ni();
  c.message("crl_uninstall", "name:string", "void", PO, "george",
            "remove a pool-wide TLS CA-issued Certificate Revocation List")
      .ni();
  c.message("deconfigure_wlb", "", "void", PO, "george",
            "permanently deconfigures workload balancing monitoring on t…")
      .ni();
  c.message("designate_new_master", "host:host ref", "void", PO, "miami",
            "perform an orderly handover of the role of master to the re…")
      .ni();
  c.message("detect_nonhomogeneous_external_auth", "pool:pool ref", "void", PO, "george",
            "this call asynchronously detects if the external authentica…")
      .sync_only()
      .ni();
  c.message("disable_client_certificate_auth", "self:pool ref", "void", PO, "1.318.0",
            "disable client certificate authentication on the pool")
      .ni();
  c.message("disable_external_auth", "pool:pool ref, config:(string->string) map = {}", "void", PA, "george",
            "this call disables external authentication on all the hosts…")
      .sync_only()
      .ni();
  c.message("disable_ha", "", "void", PO, "miami",
            "turn off High Availability mode")
      .ni();
  c.message("disable_local_storage_caching", "self:pool ref", "void", PO, "cowley",
            "this call disables pool-wide local storage caching")
      .ni();
  c.message("disable_redo_log", "", "void", PO, "midnight-ride",
            "disable the redo log if in use, unless HA is enabled")
      .ni();
  c.message("disable_repository_proxy", "self:pool ref", "void", PO, "21.4.0",
            "disable the proxy for RPM package repositories")
      .ni();
  c.message("disable_ssl_legacy", "self:pool ref", "void", PO, "dundee dep(stockholm)",
            "sets ssl_legacy false on each host, pool-master last")
      .ni();
  c.message("eject", "host:host ref", "void", PO, "rio",
            "instruct a pool master to eject a host from the pool")
      .ni();
  c.message("emergency_reset_master", "master_address:string", "void", PO, "rio",
            "instruct a slave already in a pool that the master has chan…")
      .sync_only()
      .ni();
  c.message("emergency_transition_to_master", "", "void", PO, "rio",
            "instruct host that's currently a slave to transition to bei…")
      .sync_only()
      .ni();
  c.message("enable_client_certificate_auth", "self:pool ref, name:string", "void", PO, "1.318.0",
            "enable client certificate authentication on the pool")
      .ni();
  c.message("enable_external_auth", "pool:pool ref, config:(string->string) map, service_name:string, auth_type:string", "void", PA, "george",
            "this call enables external authentication on all the hosts…")
      .sync_only()
      .ni();
  c.message("enable_ha", "heartbeat_srs:SR ref set, configuration:(string->string) map", "void", PO, "miami",
            "turn on High Availability mode")
      .ni();
  c.message("enable_local_storage_caching", "self:pool ref", "void", PO, "cowley",
            "this call attempts to enable pool-wide local storage caching")
      .ni();
  c.message("enable_redo_log", "sr:SR ref", "void", PO, "midnight-ride",
            "enable the redo log on the given SR and start using it, unl…")
      .ni();
  c.message("enable_ssl_legacy", "self:pool ref", "void", PO, "dundee REMOVED(stockholm)",
            "sets ssl_legacy true on each host, pool-master last")
      .ni();
  c.message("enable_tls_verification", "", "void", PA, "1.290.0",
            "enable TLS server certificate verification")
      .sync_only()
      .ni();
  c.message("get_license_state", "self:pool ref", "(string->string) map", RO, "clearwater",
            "this call returns the license state for the pool")
      .ni();
  c.message("ha_compute_hypothetical_max_host_failures_to_tolerate", "configuration:(VM ref->string) map", "int", RO, "orlando",
            "returns the maximum number of host failures we could tolera…")
      .sync_only()
      .ni();
  c.message("ha_compute_max_host_failures_to_tolerate", "", "int", PO, "orlando",
            "returns the maximum number of host failures we could tolera…")
      .sync_only()
      .ni();
  c.message("ha_compute_vm_failover_plan", "failed_hosts:host ref set, failed_vms:VM ref set", "(VM ref->(string->string) map) map", PO, "orlando",
            "returns a VM failover plan assuming a given subset of hosts…")
      .sync_only()
      .ni();
  c.message("ha_failover_plan_exists", "n:int", "bool", PO, "orlando",
            "returns true if a VM failover plan exists for up to 'n' hos…")
      .sync_only()
      .ni();
  c.message("ha_prevent_restarts_for", "seconds:int", "void", PO, "orlando-update-1",
            "when this call returns the VM restart logic will not run fo…")
      .sync_only()
      .ni();
  c.message("has_extension", "self:pool ref, name:string", "bool", PA, "dundee",
            "returns true if the extension is available on the pool")
      .ni();
  c.message("initialize_wlb", "wlb_url:string, wlb_username:string, wlb_password:string, xenserver_username:string, xenserver_password:string", "void", PO, "george",
            "initializes workload balancing monitoring on this pool with…")
      .ni();
  c.message("install_ca_certificate", "name:string, cert:string", "void", PO, "1.290.0",
            "install a TLS CA certificate, pool-wide")
      .ni();
  c.message("join", "master_address:string, master_username:string, master_password:string", "void", PO, "rio",
            "instruct host to join a new pool")
      .errors("JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS")
      .ni();
  c.message("join_force", "master_address:string, master_username:string, master_password:string", "void", PO, "rio",
            "instruct host to join a new pool")
      .ni();
  c.message("management_reconfigure", "network:network ref", "void", PO, "inverness",
            "reconfigure the management network interface for all Hosts…")
      .errors("HA_IS_ENABLED, PIF_NOT_PRESENT, CANNOT_PLUG_BOND_SLAVE, PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE, PIF_HAS_NO_NETWORK_CONFIGURATION, PIF_HAS_NO_V6_NETWORK_CONFIGURATION")
      .ni();
  c.message("recover_slaves", "", "host ref set", PO, "rio",
            "instruct a pool master, M, to try and contact its slaves an…")
      .ni();
  c.message("remove_from_guest_agent_config", "self:pool ref, key:string", "void", PA, "dundee",
            "remove a key-value pair from the pool-wide guest agent conf…")
      .ni();
  c.message("remove_repository", "self:pool ref, value:Repository ref", "void", PO, "1.301.0",
            "remove a repository from the enabled set")
      .ni();
  c.message("reset_telemetry_uuid", "self:pool ref", "void", PA, "23.9.0 proto",
            "assign a new UUID to telemetry data")
      .ni();
  c.message("retrieve_wlb_configuration", "", "(string->string) map", RO, "george",
            "retrieves the pool optimization criteria from the workload…")
      .ni();
  c.message("retrieve_wlb_recommendations", "", "(VM ref->string set) map", RO, "george",
            "retrieves vm migrate recommendations for the pool from the…")
      .ni();
  c.message("rotate_secret", "", "void", PA, "stockholm_psr",
            "")
      .errors("INTERNAL_ERROR, HOST_IS_SLAVE, CANNOT_CONTACT_HOST, HA_IS_ENABLED, NOT_SUPPORTED_DURING_UPGRADE")
      .ni();
  c.message("send_test_post", "host:string, port:int, body:string", "string", PA, "george",
            "send the given body to the given host and port, using HTTPS…")
      .ni();
  c.message("send_wlb_configuration", "config:(string->string) map", "void", PO, "george",
            "sets the pool optimization criteria for the workload balanc…")
      .ni();
  c.message("set_custom_uefi_certificates", "self:pool ref, value:string", "void", PA, "24.0.0 proto",
            "set custom UEFI certificates for a pool and all its hosts")
      .ni();
  c.message("set_ext_auth_max_threads", "self:pool ref, value:int", "void", PO, "23.27.0 proto",
            "")
      .sync_only()
      .ni();
  c.message("set_ha_host_failures_to_tolerate", "self:pool ref, value:int", "void", PO, "orlando",
            "set the maximum number of host failures to consider in the…")
      .ni();
  c.message("set_https_only", "self:pool ref, value:bool", "void", PO, "22.27.0 proto",
            "updates all the host firewalls in the pool to open or close…")
      .ni();
  c.message("set_igmp_snooping_enabled", "self:pool ref, value:bool", "void", PO, "inverness",
            "enable or disable IGMP Snooping on the pool")
      .ni();
  c.message("set_local_auth_max_threads", "self:pool ref, value:int", "void", PO, "23.27.0 proto",
            "")
      .sync_only()
      .ni();
  c.message("set_repositories", "self:pool ref, value:Repository ref set", "void", PO, "1.301.0",
            "set enabled set of repositories")
      .ni();
  c.message("set_telemetry_next_collection", "self:pool ref, value:datetime", "void", PA, "23.9.0 proto",
            "set the timestamp for the next telemetry data collection")
      .ni();
  c.message("set_uefi_certificates", "self:pool ref, value:string", "void", PA, "22.16.0 dep(24.0.0)",
            "set the UEFI certificates for a pool and all its hosts")
      .ni();
  c.message("set_update_sync_enabled", "self:pool ref, value:bool", "void", PO, "23.18.0 proto",
            "enable or disable periodic update synchronization depending…")
      .ni();
  c.message("set_vswitch_controller", "address:string", "void", PO, "midnight-ride dep(falcon)",
            "set the IP address of the vswitch controller")
      .ni();
  c.message("sync_database", "", "void", PO, "rio",
            "forcibly synchronise the database now")
      .ni();
  c.message("sync_updates", "self:pool ref, force:bool, token:string = \"\", token_id:string = \"\"", "string", PO, "1.329.0",
            "sync with the enabled repository")
      .ni();
  c.message("test_archive_target", "self:pool ref, config:(string->string) map", "string", PO, "cowley",
            "this call tests if a location is valid")
      .sync_only()
      .ni();
  c.message("uninstall_ca_certificate", "name:string", "void", PO, "1.290.0",
            "remove a pool-wide TLS CA certificate")
      .ni();
  // Added after xapi 24.16 (prototypes).
  c.message("get_guest_secureboot_readiness", "self:pool ref", "enum pool_guest_secureboot_readiness", PO,
            "24.17.0 proto", "return the readiness of the pool for guest UEFI Secure Boot")
      .sync_only()
      .ni();
  c.message("set_ext_auth_cache_enabled", "self:pool ref, value:bool", "void", PO, "24.31.0 proto",
            "enable or disable the external authentication cache")
      .ni();
  c.message("set_ext_auth_cache_size", "self:pool ref, value:int", "void", PO, "24.31.0 proto",
            "set the size of the external authentication cache")
      .ni();
  c.message("set_ext_auth_cache_expiry", "self:pool ref, value:int", "void", PO, "24.31.0 proto",
            "set the expiry of the external authentication cache")
      .ni();
  c.message("enable_ssh", "self:pool ref", "void", PA, "25.13.0 proto", "enable SSH access on every host")
      .ni();
  c.message("disable_ssh", "self:pool ref", "void", PA, "25.13.0 proto", "disable SSH access on every host")
      .ni();
  c.message("set_ssh_enabled_timeout", "self:pool ref, value:int", "void", PA, "25.21.0 proto",
            "set the SSH enabled timeout of every host")
      .ni();
  c.message("set_console_idle_timeout", "self:pool ref, value:int", "void", PA, "25.21.0 proto",
            "set the console idle timeout of every host")
      .ni();
  c.message("set_ssh_auto_mode", "self:pool ref, value:bool", "void", PA, "25.27.0 proto",
            "set whether SSH is managed automatically on every host")
      .ni();
  c.message("uninstall_trusted_certificate", "self:pool ref, certificate:Certificate ref", "void", PO, "26.13.0 proto",
            "remove a trusted certificate from the pool")
      .ni();
}

}  // namespace xenapi::dm
