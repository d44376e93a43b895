// task: messages for client-made and Async tasks, derived allowed
// operations, cooperative cancellation and garbage collection.
#include "classes/task/task.h"

#include <ctime>

#include "classes/api/handlers.h"

namespace xenapi {

namespace {

DateTime now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

const dm::Class& task_class(const View& v) { return *v.model().cls("task"); }

bool finished(const std::string& status) { return status == "success" || status == "failure" || status == "cancelled"; }

}  // namespace

std::string create_task(Call& c, const std::string& label, const std::string& description, bool cancellable) {
  return c.store().write([&](Txn& t) {
    const dm::Class& tc = task_class(t);
    std::vector<Value> v = c.store().defaults(tc);
    auto set = [&](const char* f, Value x) { v[tc.field(f)->index] = std::move(x); };
    set("name_label", label);
    set("name_description", description);
    set("status", "pending");
    set("created", now());
    set("resident_on", c.env().this_host);
    set("progress", 0.0);
    set("type", "<none/>");
    set("session", c.who() ? c.who()->session : std::string(dm::kNullRef));
    set("cancellable", cancellable);
    return t.create(tc, std::move(v));
  });
}

void finish_task(Store& store, const std::string& task, const std::string& status, const std::string& result,
                 const std::vector<std::string>& error) {
  store.write([&](Txn& t) {
    const dm::Class& tc = task_class(t);
    if (!t.exists(tc, task)) return;  // destroyed meanwhile
    t.update(tc, task, [&](Object& o) {
      o.values[tc.field("status")->index] = Value(status);
      o.values[tc.field("progress")->index] = Value(1.0);
      o.values[tc.field("finished")->index] = Value(now());
      o.values[tc.field("result")->index] = Value(result);
      Array info;
      for (const auto& e : error) info.emplace_back(e);
      o.values[tc.field("error_info")->index] = Value(std::move(info));
    });
  });
}

bool cancel_requested(const View& v, const std::string& task) {
  ObjectPtr o = v.get(task_class(v), task);
  return o && o->at(task_class(v), "status").str() == "cancelling";
}

size_t collect_tasks(Store& store, int64_t retention_seconds) {
  const int64_t cutoff = now().seconds - retention_seconds;
  return store.write([&](Txn& t) {
    const dm::Class& tc = task_class(t);
    std::vector<std::string> doomed;
    for (const auto& o : t.all(tc)) {
      if (!finished(o->at(tc, "status").str())) continue;  // pending tasks live until they finish
      bool orphan = o->at(tc, "session").str() == dm::kNullRef;  // its session logged out
      if (orphan || o->at(tc, "finished").datetime().seconds < cutoff) doomed.push_back(o->ref);
    }
    for (const auto& r : doomed) t.destroy(tc, r);
    return doomed.size();
  });
}

XENAPI_HANDLER("task.create", [](Call& c, const std::string& label, const std::string& description) -> Ref {
  return Ref(create_task(c, label, description, false));
});

XENAPI_HANDLER("task.destroy", [](Call& c, const Ref& self) {
  c.store().write([&](Txn& t) { t.destroy(task_class(t), self.ref); });
});

// Cooperative: the operation stops at its next check and the task ends
// cancelled; an operation past its last check still finishes.
XENAPI_HANDLER("task.cancel", [](Call& c, const Ref& task) {
  c.store().write([&](Txn& t) {
    const dm::Class& tc = task_class(t);
    ObjectPtr o = t.must_get(tc, task.ref);
    bool allowed = false;
    for (const auto& op : o->at(tc, "allowed_operations").arr()) allowed = allowed || op.str() == "cancel";
    if (!allowed) throw err::OPERATION_NOT_ALLOWED("task " + task.ref + " cannot be cancelled");
    t.set(tc, task.ref, "status", Value("cancelling"));
  });
});

XENAPI_HANDLER("task.set_status", [](Call& c, const Ref& self, const std::string& status) {
  c.store().write([&](Txn& t) {
    const dm::Class& tc = task_class(t);
    t.update(tc, self.ref, [&](Object& o) {
      o.values[tc.field("status")->index] = Value(status);
      if (finished(status)) o.values[tc.field("finished")->index] = Value(now());
    });
  });
});

XENAPI_HANDLER("task.set_progress", [](Call& c, const Ref& self, double value) {
  if (!(value >= 0.0 && value <= 1.0)) throw err::INVALID_VALUE("value", format_double(value));
  c.store().write([&](Txn& t) { t.set(task_class(t), self.ref, "progress", Value(value)); });
});

XENAPI_HANDLER("task.set_result", [](Call& c, const Ref& self, const std::string& value) {
  c.store().write([&](Txn& t) { t.set(task_class(t), self.ref, "result", Value(value)); });
});

XENAPI_HANDLER("task.set_error_info", [](Call& c, const Ref& self, const std::vector<std::string>& value) {
  c.store().write([&](Txn& t) {
    t.set(task_class(t), self.ref, "error_info", handler_detail::Conv<std::vector<std::string>>::to(value));
  });
});

// cancel while a cancellable operation is pending; destroy always.
XENAPI_CLASS_HOOKS("task", ClassHooks{.derive = [](Txn& t, const std::string& ref) {
                                        const dm::Class& tc = task_class(t);
                                        ObjectPtr o = t.get(tc, ref);
                                        if (!o) return;
                                        Array ops;
                                        if (o->at(tc, "status").str() == "pending" && o->at(tc, "cancellable").boolean())
                                          ops.emplace_back("cancel");
                                        ops.emplace_back("destroy");
                                        Value v(std::move(ops));
                                        if (o->at(tc, "allowed_operations") != v) t.set(tc, ref, "allowed_operations", std::move(v));
                                      }});

}  // namespace xenapi
