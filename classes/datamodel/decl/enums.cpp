// Enumerations shared by the XenAPI classes (each declared once).
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_enums(Declarations& d) {
  // Added after xapi 24.16.
  d.enumeration("vm_secureboot_certificates_state", "ok, update_available, update_on_boot");
  d.enumeration("host_ntp_mode", "DHCP, Custom, Factory, Disabled");
  d.enumeration("vm_secureboot_readiness", "not_supported, disabled, first_boot, ready, ready_no_dbx, setup_mode, certs_incomplete");
  d.enumeration("vm_uefi_mode", "setup, user");
  d.enumeration("pool_guest_secureboot_readiness", "ready, ready_no_dbx, not_ready");
  // As of xapi 24.16.
  d.enumeration("pool_allowed_operations", "ha_enable, ha_disable, cluster_create, designate_new_master, configure_repositories, sync_updates, get_updates, apply_updates, tls_verification_enable, cert_refresh, exchange_certificates_on_join, exchange_ca_certificates_on_join, copy_primary_host_certs, eject, exchange_crls_on_join");
  d.enumeration("telemetry_frequency", "daily, weekly, monthly");
  d.enumeration("update_sync_frequency", "daily, weekly");
  d.enumeration("host_allowed_operations", "provision, evacuate, shutdown, reboot, power_on, vm_start, vm_resume, vm_migrate, apply_updates, enable");
  d.enumeration("latest_synced_updates_applied_state", "yes, no, unknown");
  d.enumeration("update_guidances", "reboot_host, reboot_host_on_livepatch_failure, reboot_host_on_kernel_livepatch_failure, reboot_host_on_xen_livepatch_failure, restart_toolstack, restart_device_model, restart_vm");
  d.enumeration("host_display", "enabled, disable_on_reboot, disabled, enable_on_reboot");
  d.enumeration("host_sched_gran", "core, cpu, socket");
  d.enumeration("host_numa_affinity_policy", "any, best_effort, default_policy");
  d.enumeration("vm_power_state", "Halted, Paused, Running, Suspended");
  d.enumeration("on_softreboot_behavior", "soft_reboot, destroy, restart, preserve");
  d.enumeration("on_normal_exit", "destroy, restart");
  d.enumeration("vm_operations", "snapshot, clone, copy, create_template, revert, checkpoint, snapshot_with_quiesce, provision, start, start_on, pause, unpause, clean_shutdown, clean_reboot, hard_shutdown, power_state_reset, hard_reboot, suspend, csvm, resume, resume_on, pool_migrate, migrate_send, get_boot_record, send_sysrq, send_trigger, query_services, shutdown, call_plugin, changing_memory_live, awaiting_memory_live, changing_dynamic_range, changing_static_range, changing_memory_limits, changing_shadow_memory, changing_shadow_memory_live, changing_VCPUs, changing_VCPUs_live, changing_NVRAM, assert_operation_valid, data_source_op, update_allowed_operations, make_into_template, import, export, metadata_export, reverting, destroy, create_vtpm");
  d.enumeration("on_crash_behaviour", "destroy, coredump_and_destroy, restart, coredump_and_restart, preserve, rename_restart");
  d.enumeration("domain_type", "hvm, pv, pv_in_pvh, pvh, unspecified");
  d.enumeration("tristate_type", "yes, no, unspecified");
  d.enumeration("vbd_operations", "attach, eject, insert, plug, unplug, unplug_force, pause, unpause");
  d.enumeration("vbd_type", "CD, Disk, Floppy");
  d.enumeration("vbd_mode", "RO, RW");
  d.enumeration("vif_operations", "attach, plug, unplug");
  d.enumeration("vif_locking_mode", "network_default, locked, unlocked, disabled");
  d.enumeration("vif_ipv4_configuration_mode", "None, Static");
  d.enumeration("vif_ipv6_configuration_mode", "None, Static");
  d.enumeration("vdi_operations", "clone, copy, resize, resize_online, snapshot, mirror, destroy, forget, update, force_unlock, generate_config, enable_cbt, disable_cbt, data_destroy, list_changed_blocks, set_on_boot, blocked");
  d.enumeration("vdi_type", "system, user, ephemeral, suspend, crashdump, ha_statefile, metadata, redo_log, rrd, pvs_cache, cbt_metadata");
  d.enumeration("on_boot", "reset, persist");
  d.enumeration("storage_operations", "scan, destroy, forget, plug, unplug, update, vdi_create, vdi_introduce, vdi_destroy, vdi_resize, vdi_clone, vdi_snapshot, vdi_mirror, vdi_enable_cbt, vdi_disable_cbt, vdi_data_destroy, vdi_list_changed_blocks, vdi_set_on_boot, pbd_create, pbd_destroy");
  d.enumeration("network_operations", "attaching");
  d.enumeration("network_default_locking_mode", "unlocked, disabled");
  d.enumeration("network_purpose", "nbd, insecure_nbd");
  d.enumeration("pif_igmp_status", "enabled, disabled, unknown");
  d.enumeration("ip_configuration_mode", "None, DHCP, Static");
  d.enumeration("ipv6_configuration_mode", "None, DHCP, Static, Autoconf");
  d.enumeration("primary_address_type", "IPv4, IPv6");
  d.enumeration("console_protocol", "vt100, rfb, rdp");
  d.enumeration("task_allowed_operations", "cancel, destroy");
  d.enumeration("task_status_type", "pending, success, failure, cancelling, cancelled");
  d.enumeration("event_operation", "add, del, mod");
  d.enumeration("cls", "VM, Host, SR, Pool, VMPP, VMSS, PVS_proxy, VDI, Certificate");
}

}  // namespace xenapi::dm
