// Start-up reconciliation of records with the backend's domains.
#include "classes/vm/reconcile.h"

#include "classes/task/task.h"
#include "classes/vm/runtime.h"

namespace xenapi::vm {

ReconcileReport reconcile(Env& env) {
  ReconcileReport report;
  Store& store = env.store;
  const dm::Class& vc = store.cls("VM");
  const dm::Class& tc = store.cls("task");
  std::map<std::string, hv::DomainInfo> domains = env.backend.list();
  int64_t free = env.backend.free_memory();

  // Operations in progress died with the server: on every object that
  // records them (VMs, VBDs, VIFs, VDIs, ...), or it would stay blocked.
  store.write([&](Txn& t) {
    for (const auto& c : store.model().classes()) {
      const dm::Field* ops = c->field("current_operations");
      if (!ops || !ops->type.is(dm::Type::Kind::Map)) continue;
      for (const auto& o : t.all(*c))
        if (!o->values[ops->index].map().empty()) t.set(*c, o->ref, *ops, Value::empty_map());
    }
  });

  std::vector<ObjectPtr> vms = store.read([&](const View& v) { return v.all(vc); });
  store.write([&](Txn& t) {
    for (const auto& vm : vms) {
      if (vm->at(vc, "is_control_domain").boolean()) continue;
      const std::string& state = vm->at(vc, "power_state").str();
      auto d = domains.find(vm->at(vc, "uuid").str());
      bool alive = d != domains.end() &&
                   (d->second.state == hv::PowerState::Running || d->second.state == hv::PowerState::Paused);
      if (alive) {
        mark_running(t, env, vm->ref, d->second);
        (state == "Running" || state == "Paused" ? report.still_running : report.now_running)++;
      } else if (state == "Running" || state == "Paused") {
        mark_stopped(t, env, vm->ref);
        ++report.now_halted;
      }
    }
    refresh_host_memory(t, env, free);
  });

  std::vector<std::string> pending = store.read([&](const View& v) {
    std::vector<std::string> out;
    for (const auto& task : v.all(tc))
      if (task->at(tc, "status").str() == "pending" || task->at(tc, "status").str() == "cancelling") out.push_back(task->ref);
    return out;
  });
  for (const auto& task : pending)
    finish_task(store, task, "failure", "",
                {"INTERNAL_ERROR", "the server stopped while this task was running; its outcome is unknown"});
  report.tasks_failed = pending.size();
  return report;
}

}  // namespace xenapi::vm
