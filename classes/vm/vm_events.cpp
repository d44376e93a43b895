// Guest-initiated state changes and the actions_after_* policies.
#include "classes/vm/vm_events.h"

#include <spdlog/spdlog.h>

#include "classes/vm/runtime.h"

namespace xenapi::vm {

namespace {

void record_stopped(Env& env, const std::string& ref) {
  int64_t free = env.backend.free_memory();
  env.store.write([&](Txn& t) {
    if (!t.exists(env.store.cls("VM"), ref)) return;
    mark_stopped(t, env, ref);
    refresh_host_memory(t, env, free);
  });
}

void record_running(Env& env, const std::string& ref, const hv::DomainInfo& info) {
  int64_t free = env.backend.free_memory();
  env.store.write([&](Txn& t) {
    if (!t.exists(env.store.cls("VM"), ref)) return;
    mark_running(t, env, ref, info);
    refresh_host_memory(t, env, free);
  });
}

// Boots the domain again from its current configuration.
void restart(Env& env, const std::string& ref, const std::string& uuid) {
  try {
    env.backend.destroy(uuid);
    hv::DomainConfig cfg = env.store.read([&](const View& v) { return domain_config(v, ref); });
    env.backend.define(cfg);
    record_running(env, ref, env.backend.start(uuid, false));
  } catch (const std::exception& e) {
    spdlog::warn("VM {}: restart after a guest event failed: {}", ref, e.what());
    record_stopped(env, ref);
  }
}

}  // namespace

void apply_domain_event(Env& env, const hv::DomainEvent& e) {
  const dm::Class& vc = env.store.cls("VM");
  ObjectPtr vm = env.store.read([&](const View& v) { return v.by_uuid(vc, e.uuid); });
  if (!vm) return;  // not one of ours
  const std::string& ref = vm->ref;
  using K = hv::DomainEvent::Kind;
  switch (e.kind) {
    case K::Halted: {
      std::string action = vm->at(vc, "actions_after_shutdown").str();
      if (action == "restart") restart(env, ref, e.uuid);
      else record_stopped(env, ref);
      return;
    }
    case K::Rebooted: {
      std::string action = vm->at(vc, "actions_after_reboot").str();
      if (action == "restart") {
        try {
          record_running(env, ref, env.backend.info(e.uuid));
        } catch (const std::exception&) {
          record_stopped(env, ref);
        }
      } else {
        env.backend.destroy(e.uuid);
        record_stopped(env, ref);
      }
      return;
    }
    case K::Crashed: {
      std::string action = vm->at(vc, "actions_after_crash").str();
      if (action == "restart" || action == "coredump_and_restart" || action == "rename_restart") {
        restart(env, ref, e.uuid);
      } else if (action == "preserve") {
        // As xapi: the crashed domain is kept, paused, for inspection. It
        // holds its memory until hard_shutdown (or hard_reboot) releases it;
        // unpause answers VM_CRASHED.
        env.store.write([&](Txn& t) { mark_crashed(t, env, ref); });
      } else {
        env.backend.destroy(e.uuid);
        record_stopped(env, ref);
      }
      return;
    }
    case K::Suspended:
      record_stopped(env, ref);
      return;
    case K::Resumed:
      try {
        record_running(env, ref, env.backend.info(e.uuid));
      } catch (const std::exception&) {
      }
      return;
  }
}

void install_backend_events(Env& env) {
  env.backend.set_event_sink([&env](const hv::DomainEvent& e) { apply_domain_event(env, e); });
}

}  // namespace xenapi::vm
