// Registries of explicit handlers and class hooks, and their start-up check.
#include "classes/api/handlers.h"

#include "classes/events/event_log.h"

#include <algorithm>
#include <stdexcept>

namespace xenapi {

Handlers& Handlers::global() {
  static Handlers h;
  return h;
}

void Handlers::add(HandlerEntry e) {
  std::string name = e.wire_name;
  if (!entries_.emplace(name, std::move(e)).second)
    throw std::logic_error("two handlers for " + name);
}

const HandlerEntry* Handlers::find(std::string_view wire_name) const {
  auto it = entries_.find(wire_name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> Handlers::check(const dm::Datamodel& model) const {
  std::vector<std::string> problems;
  for (const auto& [name, e] : entries_) {
    const dm::Message* m = model.message(name);
    if (!m || m->wire_name != name) {
      problems.push_back(name + " (" + e.where + "): handler for an undeclared message");
      continue;
    }
    if (m->kind != dm::MessageKind::Explicit) {
      problems.push_back(name + " (" + e.where + "): implicit messages take no handler");
      continue;
    }
    if (!m->implemented) {
      problems.push_back(name + " (" + e.where + "): declared not implemented (.ni()) but has a handler");
      continue;
    }
    std::string why = e.check(*m);
    if (!why.empty()) problems.push_back(name + " (" + e.where + "): " + why);
  }
  for (const auto& c : model.classes()) {
    for (const auto& m : c->messages) {
      if (m.kind == dm::MessageKind::Explicit && m.implemented && !m.life.is_removed() && !find(m.wire_name))
        problems.push_back(m.wire_name + ": declared implemented but has no handler");
    }
  }
  return problems;
}

Hooks& Hooks::global() {
  static Hooks h;
  return h;
}

void Hooks::add(const std::string& cls, ClassHooks h) {
  if (!hooks_.emplace(cls, std::move(h)).second) throw std::logic_error("two hook sets for class " + cls);
}

const ClassHooks* Hooks::find(const std::string& cls) const {
  auto it = hooks_.find(cls);
  return it == hooks_.end() ? nullptr : &it->second;
}

void install_derivations(Store& store) {
  store.set_deriver([](Txn& t, const dm::Class& c, const std::string& ref) {
    const ClassHooks* h = Hooks::global().find(c.name);
    if (h && h->derive) h->derive(t, ref);
  });
}

void Call::progress(double fraction) {
  if (task.empty()) return;
  const dm::Class& tc = cls("task");
  store().write([&](Txn& t) {
    if (!t.exists(tc, task)) return;
    ObjectPtr o = t.get(tc, task);
    if (o->at(tc, "status").str() != "pending") return;
    t.set(tc, task, "progress", Value(std::clamp(fraction, 0.0, 1.0)));
  });
}

void Call::check_cancelled() {
  if (task.empty()) return;
  const dm::Class& tc = cls("task");
  bool cancelling = store().read([&](const View& v) {
    ObjectPtr o = v.get(tc, task);
    return o && o->at(tc, "status").str() == "cancelling";
  });
  if (cancelling) throw err::TASK_CANCELLED(task);
}

const std::string& Call::operation_key() {
  if (!task.empty()) return task;
  if (op_key_.empty()) op_key_ = store().ids().ref();
  return op_key_;
}

Value record_value(const dm::Class& c, const Object& o) {
  Map m;
  m.reserve(c.published.size());
  for (uint16_t i : c.published) m.emplace_back(Value(c.fields[i].name), o.values[i]);
  return Value(std::move(m));
}

Value Result::to_value() const {
  switch (shape) {
    case Shape::Value:
    case Shape::Deferred:
      return value;
    case Shape::Events:
      return batch_value(*batch, event_list);
    case Shape::Record:
      return record_value(*cls, *objects.front());
    case Shape::RecordMap: {
      Map m;
      m.reserve(objects.size());
      for (const auto& o : objects) m.emplace_back(Value(o->ref), record_value(*cls, *o));
      return Value(std::move(m));
    }
  }
  return value;
}

}  // namespace xenapi
