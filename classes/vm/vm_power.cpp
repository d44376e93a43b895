// VM power operations (xenapi-spec §5.2): start, stop, reboot, pause,
// suspend and resume, each checked against the lifecycle table, marked in
// current_operations while it runs, and reflected in the record from what
// the backend reports.
#include <algorithm>

#include "classes/api/handlers.h"
#include "classes/storage/storage.h"
#include "classes/vm/lifecycle.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

using vm::Operation;

struct VmView {
  ObjectPtr vm;
  std::string uuid, state;
};

VmView look(Call& c, const std::string& ref) {
  return c.store().read([&](const View& v) {
    const dm::Class& vc = c.cls("VM");
    VmView x;
    x.vm = v.must_get(vc, ref);
    x.uuid = x.vm->at(vc, "uuid").str();
    x.state = x.vm->at(vc, "power_state").str();
    return x;
  });
}

hv::HypervisorBackend& backend(Call& c) { return c.env().backend; }

// The host operations table: a disabled host takes no new VMs (HOST_DISABLED).
void require_host(Call& c, const std::string& host, const char* op) {
  c.store().read([&](const View& v) {
    ObjectPtr h = v.must_get(c.cls("host"), host);
    if (auto e = lifecycle::check_host(c.cls("host"), *h, op)) throw *e;
    return 0;
  });
}

// A crashed domain kept for inspection whose record says halted (the server
// restarted and found it not running) is garbage once the VM starts again.
void clear_stale_domain(Call& c, const std::string& uuid) {
  try {
    if (backend(c).info(uuid).state == hv::PowerState::Crashed) backend(c).destroy(uuid);
  } catch (const hv::Error&) {
    // No such domain: nothing to clear.
  }
}

// Takes a VM's memory image out of its record inside `t` (the transaction
// that leaves the suspended state), so that no committed state shows a
// running or halted VM with an image; returns it for drop_image.
std::string take_suspend_image(Call& c, Txn& t, const std::string& ref) {
  const dm::Class& vc = c.cls("VM");
  ObjectPtr o = t.get(vc, ref);
  if (!o) return std::string();
  std::string image = o->at(vc, "suspend_VDI").str();
  if (image == dm::kNullRef) return std::string();
  t.set(vc, ref, "suspend_VDI", Value(std::string(dm::kNullRef)));
  return image;
}

// Throws away a memory image no VM refers to any more.
void drop_image(Call& c, const std::string& image) {
  if (image.empty() || !c.store().read([&](const View& v) { return v.exists(c.cls("VDI"), image); })) return;
  try {
    storage::destroy_vdi(c, image);
  } catch (const ApiError&) {
    // The record stays; SR.scan and VDI.destroy can deal with it later.
  }
}

// Both return the memory image the VM no longer needs (see drop_image).
std::string finish_running(Call& c, Operation& op, const std::string& ref, const hv::DomainInfo& info) {
  int64_t free = backend(c).free_memory();
  return c.store().write([&](Txn& t) {
    vm::mark_running(t, c.env(), ref, info);
    vm::refresh_host_memory(t, c.env(), free);
    op.end(t);
    return take_suspend_image(c, t, ref);
  });
}

std::string finish_stopped(Call& c, Operation& op, const std::string& ref) {
  int64_t free = backend(c).free_memory();
  return c.store().write([&](Txn& t) {
    vm::mark_stopped(t, c.env(), ref, "Halted");
    vm::refresh_host_memory(t, c.env(), free);
    op.end(t);
    return take_suspend_image(c, t, ref);
  });
}

void start_vm(Call& c, const std::string& ref, const std::string& host, bool paused, const char* name) {
  Operation op(c, ref, name);
  require_host(c, host, "vm_start");
  c.store().write([&](Txn& t) { t.set(c.cls("VM"), ref, "scheduled_to_be_resident_on", Value(host)); });
  hv::DomainInfo info;
  // Whatever fails from here on (a broken configuration, cancellation, the
  // backend), the VM must not stay scheduled on the host.
  try {
    hv::DomainConfig cfg = c.store().read([&](const View& v) { return vm::domain_config(v, ref); });
    c.progress(0.2);
    c.check_cancelled();
    info = vm::backend_call(ref, [&] {
      clear_stale_domain(c, cfg.uuid);
      backend(c).define(cfg);
      return backend(c).start(cfg.uuid, paused);
    });
  } catch (...) {
    c.store().write([&](Txn& t) {
      t.set(c.cls("VM"), ref, "scheduled_to_be_resident_on", Value(std::string(dm::kNullRef)));
      op.end(t);
    });
    throw;
  }
  finish_running(c, op, ref, info);
}

void hard_shutdown(Call& c, const std::string& ref, const char* name) {
  Operation op(c, ref, name);
  VmView x = look(c, ref);
  vm::backend_call(ref, [&] { backend(c).destroy(x.uuid); });
  // From Suspended, the memory image is discarded.
  drop_image(c, finish_stopped(c, op, ref));
}

void clean_shutdown(Call& c, const std::string& ref, const char* name) {
  Operation op(c, ref, name);
  VmView x = look(c, ref);
  vm::backend_call(ref, [&] { backend(c).shutdown(x.uuid, hv::ShutdownMode::Clean); });
  finish_stopped(c, op, ref);
}

std::string suspend_sr(Call& c, const Object& vm) {
  return c.store().read([&](const View& v) {
    std::string sr = vm.at(c.cls("VM"), "suspend_SR").str();
    if (sr != dm::kNullRef && v.exists(c.cls("SR"), sr)) return sr;
    const dm::Class& pc = c.cls("pool");
    auto pools = v.all(pc);
    if (!pools.empty()) sr = pools.front()->at(pc, "suspend_image_SR").str();
    if (sr == dm::kNullRef || !v.exists(c.cls("SR"), sr)) throw err::VM_NO_SUSPEND_SR(vm.ref);
    return sr;
  });
}

}  // namespace

XENAPI_HANDLER("VM.start", [](Call& c, const Ref& vm, bool start_paused, bool force) {
  start_vm(c, vm.ref, c.env().this_host, start_paused, "start");
});

XENAPI_HANDLER("VM.start_on", [](Call& c, const Ref& vm, const Ref& host, bool start_paused, bool force) {
  start_vm(c, vm.ref, host.ref, start_paused, "start_on");
});

namespace {

// Power state and VM_metrics.state of a domain that was paused or unpaused.
void mark_paused(Call& c, Txn& t, const std::string& ref, bool paused) {
  const dm::Class& vc = c.cls("VM");
  const dm::Class& mc = c.cls("VM_metrics");
  t.set(vc, ref, "power_state", Value(paused ? "Paused" : "Running"));
  const std::string metrics = t.must_get(vc, ref)->at(vc, "metrics").str();
  if (t.exists(mc, metrics)) t.set(mc, metrics, "state", Value::array({Value(paused ? "paused" : "running")}));
}

}  // namespace

XENAPI_HANDLER("VM.pause", [](Call& c, const Ref& vm) {
  Operation op(c, vm.ref, "pause");
  VmView x = look(c, vm.ref);
  vm::backend_call(vm.ref, [&] { backend(c).pause(x.uuid); });
  c.store().write([&](Txn& t) {
    mark_paused(c, t, vm.ref, true);
    op.end(t);
  });
});

XENAPI_HANDLER("VM.unpause", [](Call& c, const Ref& vm) {
  Operation op(c, vm.ref, "unpause");
  VmView x = look(c, vm.ref);
  vm::backend_call(vm.ref, [&] { backend(c).unpause(x.uuid); });
  c.store().write([&](Txn& t) {
    mark_paused(c, t, vm.ref, false);
    op.end(t);
  });
});

XENAPI_HANDLER("VM.clean_shutdown", [](Call& c, const Ref& vm) { clean_shutdown(c, vm.ref, "clean_shutdown"); });
XENAPI_HANDLER("VM.hard_shutdown", [](Call& c, const Ref& vm) { hard_shutdown(c, vm.ref, "hard_shutdown"); });

// Clean first, hard if the guest does not cooperate (or is not running).
XENAPI_HANDLER("VM.shutdown", [](Call& c, const Ref& vm) {
  VmView x = look(c, vm.ref);
  if (auto e = lifecycle::check_vm(c.cls("VM"), *x.vm, "shutdown", true)) throw *e;
  if (x.state == "Running") {
    try {
      clean_shutdown(c, vm.ref, "clean_shutdown");
      return;
    } catch (const ApiError& e) {
      if (e.code() != "VM_SHUTDOWN_TIMEOUT" && e.code() != "VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT") throw;
    }
  }
  hard_shutdown(c, vm.ref, "hard_shutdown");
});

XENAPI_HANDLER("VM.clean_reboot", [](Call& c, const Ref& vm) {
  Operation op(c, vm.ref, "clean_reboot");
  VmView x = look(c, vm.ref);
  hv::DomainInfo info = vm::backend_call(vm.ref, [&] { return backend(c).reboot(x.uuid, hv::ShutdownMode::Clean); });
  finish_running(c, op, vm.ref, info);
});

XENAPI_HANDLER("VM.hard_reboot", [](Call& c, const Ref& vm) {
  Operation op(c, vm.ref, "hard_reboot");
  VmView x = look(c, vm.ref);
  hv::DomainInfo info = vm::backend_call(vm.ref, [&] { return backend(c).reboot(x.uuid, hv::ShutdownMode::Hard); });
  finish_running(c, op, vm.ref, info);
});

XENAPI_HANDLER("VM.suspend", [](Call& c, const Ref& vm) {
  Operation op(c, vm.ref, "suspend");
  VmView x = look(c, vm.ref);
  const dm::Class& vc = c.cls("VM");
  std::string sr = suspend_sr(c, *x.vm);
  int64_t size = x.vm->at(vc, "memory_static_max").integer();
  std::string image = storage::create_vdi(c, sr, "Suspend image for " + x.vm->at(vc, "name_label").str(), size,
                                          "suspend");
  c.progress(0.3);
  std::string path = c.store().read([&](const View& v) { return v.must_get(c.cls("VDI"), image)->at(c.cls("VDI"), "path").str(); });
  try {
    vm::backend_call(vm.ref, [&] { backend(c).suspend(x.uuid, path); });
  } catch (...) {
    storage::destroy_vdi(c, image);
    throw;
  }
  int64_t free = backend(c).free_memory();
  c.store().write([&](Txn& t) {
    vm::mark_stopped(t, c.env(), vm.ref, "Suspended");
    t.set(vc, vm.ref, "suspend_VDI", Value(image));
    vm::refresh_host_memory(t, c.env(), free);
    op.end(t);
  });
});

namespace {

void resume_vm(Call& c, const std::string& ref, const std::string& host, bool paused, const char* name) {
  Operation op(c, ref, name);
  require_host(c, host, "vm_resume");
  VmView x = look(c, ref);
  const dm::Class& vc = c.cls("VM");
  std::string image = x.vm->at(vc, "suspend_VDI").str();
  std::string path = c.store().read([&](const View& v) {
    ObjectPtr d = v.get(c.cls("VDI"), image);
    return d ? d->at(c.cls("VDI"), "path").str() : std::string();
  });
  hv::DomainConfig cfg = c.store().read([&](const View& v) { return vm::domain_config(v, ref); });
  hv::DomainInfo info = vm::backend_call(ref, [&] {
    backend(c).define(cfg);
    return backend(c).resume(cfg.uuid, path, paused);
  });
  drop_image(c, finish_running(c, op, ref, info));
}

}  // namespace

XENAPI_HANDLER("VM.resume", [](Call& c, const Ref& vm, bool start_paused, bool force) {
  resume_vm(c, vm.ref, c.env().this_host, start_paused, "resume");
});

XENAPI_HANDLER("VM.resume_on", [](Call& c, const Ref& vm, const Ref& host, bool start_paused, bool force) {
  resume_vm(c, vm.ref, host.ref, start_paused, "resume_on");
});

// Recovery: the record says halted, whatever the domain was doing.
XENAPI_HANDLER("VM.power_state_reset", [](Call& c, const Ref& vm) {
  VmView x = look(c, vm.ref);
  if (x.vm->at(c.cls("VM"), "is_control_domain").boolean())
    throw err::OPERATION_NOT_ALLOWED("This operation (power_state_reset) is not allowed on the control domain");
  try {
    backend(c).destroy(x.uuid);
  } catch (const hv::Error&) {
    // The domain is gone already: that is the state we want.
  }
  int64_t free = backend(c).free_memory();
  // A suspended VM's memory image has no use once the VM is halted.
  std::string image = c.store().write([&](Txn& t) {
    vm::mark_stopped(t, c.env(), vm.ref);
    t.set(c.cls("VM"), vm.ref, "current_operations", Value::empty_map());
    vm::refresh_host_memory(t, c.env(), free);
    return take_suspend_image(c, t, vm.ref);
  });
  drop_image(c, image);
});

XENAPI_HANDLER("VM.send_sysrq", [](Call& c, const Ref& vm, const std::string& key) {
  VmView x = look(c, vm.ref);
  if (auto e = lifecycle::check_vm(c.cls("VM"), *x.vm, "send_sysrq", true)) throw *e;
  vm::backend_call(vm.ref, [&] { backend(c).send_sysrq(x.uuid, key); });
});

XENAPI_HANDLER("VM.send_trigger", [](Call& c, const Ref& vm, const std::string& trigger) {
  VmView x = look(c, vm.ref);
  if (auto e = lifecycle::check_vm(c.cls("VM"), *x.vm, "send_trigger", true)) throw *e;
  vm::backend_call(vm.ref, [&] { backend(c).send_trigger(x.uuid, trigger); });
});

XENAPI_HANDLER("VM.assert_operation_valid", [](Call& c, const Ref& vm, const std::string& op) {
  VmView x = look(c, vm.ref);
  if (auto e = lifecycle::check_vm(c.cls("VM"), *x.vm, op, true)) throw *e;
});

XENAPI_HANDLER("VM.update_allowed_operations", [](Call& c, const Ref& vm) {
  c.store().write([&](Txn& t) { vm::derive_vm(t, vm.ref); });
});

XENAPI_HANDLER("VM.get_possible_hosts", [](Call& c, const Ref& vm) -> std::vector<Ref> {
  return c.store().read([&](const View& v) {
    std::vector<Ref> out;
    for (const auto& h : v.all(c.cls("host")))
      if (h->at(c.cls("host"), "enabled").boolean()) out.emplace_back(h->ref);
    return out;
  });
});

XENAPI_HANDLER("VM.assert_can_boot_here", [](Call& c, const Ref& vm, const Ref& host) {
  VmView x = look(c, vm.ref);
  const dm::Class& vc = c.cls("VM");
  require_host(c, host.ref, x.state == "Suspended" ? "vm_resume" : "vm_start");
  int64_t need = x.vm->at(vc, "memory_dynamic_max").integer();
  int64_t have = backend(c).free_memory();
  if (x.state == "Halted" || x.state == "Suspended") {
    if (need > have) throw err::HOST_NOT_ENOUGH_FREE_MEMORY(need, have);
  }
  // As the hypervisor: every vCPU the VM may hot-plug needs a pCPU.
  int64_t vcpus = x.vm->at(vc, "VCPUs_max").integer();
  int64_t pcpus = c.store().read([&](const View& v) {
    return static_cast<int64_t>(v.must_get(c.cls("host"), host.ref)->at(c.cls("host"), "host_CPUs").arr().size());
  });
  if (vcpus > pcpus) throw err::HOST_NOT_ENOUGH_PCPUS(vcpus, pcpus);
  c.store().read([&](const View& v) { return vm::domain_config(v, vm.ref); });
});

XENAPI_HANDLER("VM.compute_memory_overhead", [](Call& c, const Ref& vm) -> int64_t {
  VmView x = look(c, vm.ref);
  const dm::Class& vc = c.cls("VM");
  // Page tables and device model: about 1% of memory plus 1 MiB per vCPU.
  return x.vm->at(vc, "memory_static_max").integer() / 100 + x.vm->at(vc, "VCPUs_max").integer() * (1LL << 20);
});

}  // namespace xenapi
