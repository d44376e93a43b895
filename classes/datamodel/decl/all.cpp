// The whole XenAPI datamodel: every class, every enum, every relation.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_enums(Declarations& d);
void declare_session(Declarations& d);
void declare_pool(Declarations& d);
void declare_host(Declarations& d);
void declare_host_metrics(Declarations& d);
void declare_host_cpu(Declarations& d);
void declare_VM(Declarations& d);
void declare_VM_metrics(Declarations& d);
void declare_VM_guest_metrics(Declarations& d);
void declare_VBD(Declarations& d);
void declare_VBD_metrics(Declarations& d);
void declare_VIF(Declarations& d);
void declare_VIF_metrics(Declarations& d);
void declare_VDI(Declarations& d);
void declare_SR(Declarations& d);
void declare_PBD(Declarations& d);
void declare_network(Declarations& d);
void declare_PIF(Declarations& d);
void declare_PIF_metrics(Declarations& d);
void declare_console(Declarations& d);
void declare_task(Declarations& d);
void declare_event(Declarations& d);
void declare_message(Declarations& d);
void declare_blob(Declarations& d);
void declare_secret(Declarations& d);
void declare_user(Declarations& d);

namespace {

// Bound field pairs: the ref side is written, the set side follows.
void declare_relations(Declarations& d) {
  d.relation("VBD.VM", "VM.VBDs");
  d.relation("VIF.VM", "VM.VIFs");
  d.relation("console.VM", "VM.consoles");
  d.relation("VM.resident_on", "host.resident_VMs");
  d.relation("VM.snapshot_of", "VM.snapshots");
  d.relation("VM.parent", "VM.children");
  d.relation("VBD.VDI", "VDI.VBDs");
  d.relation("VDI.SR", "SR.VDIs");
  d.relation("VDI.snapshot_of", "VDI.snapshots");
  d.relation("PBD.host", "host.PBDs");
  d.relation("PBD.SR", "SR.PBDs");
  d.relation("PIF.host", "host.PIFs");
  d.relation("PIF.network", "network.PIFs");
  d.relation("VIF.network", "network.VIFs");
  d.relation("host_cpu.host", "host.host_CPUs");
  d.relation("task.subtask_of", "task.subtasks");
  d.relation("task.session", "session.tasks");
  d.relation("VDI.metadata_of_pool", "pool.metadata_VDIs");
}

}  // namespace

void declare_all(Declarations& d) {
  declare_enums(d);
  declare_session(d);
  declare_pool(d);
  declare_host(d);
  declare_host_metrics(d);
  declare_host_cpu(d);
  declare_VM(d);
  declare_VM_metrics(d);
  declare_VM_guest_metrics(d);
  declare_VBD(d);
  declare_VBD_metrics(d);
  declare_VIF(d);
  declare_VIF_metrics(d);
  declare_VDI(d);
  declare_SR(d);
  declare_PBD(d);
  declare_network(d);
  declare_PIF(d);
  declare_PIF_metrics(d);
  declare_console(d);
  declare_task(d);
  declare_event(d);
  declare_message(d);
  declare_blob(d);
  declare_secret(d);
  declare_user(d);
  declare_relations(d);
}

}  // namespace xenapi::dm
