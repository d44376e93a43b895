// The implicit messages every class derives from its fields: getters,
// setters, set/map adders, get_record, get_by_*, get_all*, create, destroy.
#include <algorithm>

#include "classes/api/handlers.h"
#include "classes/store/filter.h"

namespace xenapi {

namespace {

using dm::MessageKind;

const ClassHooks* hooks_of(const dm::Class& c) { return Hooks::global().find(c.name); }

std::string key_string(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::String: return k.str();
    case Value::Kind::Int: return std::to_string(k.integer());
    default: return db_string(k);
  }
}

Value refs_of(const std::vector<ObjectPtr>& objs) {
  Array a;
  a.reserve(objs.size());
  for (const auto& o : objs) a.emplace_back(o->ref);
  return Value(std::move(a));
}

// Applies an implicit write to one field through the class hooks.
void write_field(Call& call, const dm::Class& c, const std::string& ref, const dm::Field& f,
                 const std::function<Value(const Value&)>& next_of) {
  call.store().write([&](Txn& t) {
    ObjectPtr o = t.must_get(c, ref);
    Value next = next_of(o->values[f.index]);
    if (next == o->values[f.index]) return;
    if (const ClassHooks* h = hooks_of(c); h && h->before_set) h->before_set(call, t, o, f, next);
    t.set(c, ref, f, std::move(next));
  });
}

}  // namespace

std::string create_object(Call& call, Txn& txn, const dm::Class& c, const Map& record, const Map& fixed) {
  std::vector<Value> values = call.store().defaults(c);
  for (const auto& f : c.fields) {
    if (!f.in_constructor()) continue;
    const Value* given = nullptr;
    for (const auto& [k, v] : record)
      if (k.is_string() && k.str() == f.name) given = &v;
    if (given) {
      values[f.index] = *given;
    } else if (f.required_in_constructor()) {
      throw err::INVALID_VALUE(f.name, "missing: required by " + c.name + ".create");
    }
    if (f.type.is(dm::Type::Kind::Ref)) {
      const Value& r = values[f.index];
      if (r.str() != dm::kNullRef) {
        const dm::Class* target = call.model().cls(f.type.name);
        if (!target || !txn.exists(*target, r.str())) throw err::HANDLE_INVALID(f.type.name, r.str());
      }
    }
  }
  for (const auto& [k, v] : fixed) {
    const dm::Field* f = c.field(k.str());
    if (!f) throw std::logic_error("create " + c.name + ": no field " + k.str());
    values[f->index] = v;
  }
  const ClassHooks* h = hooks_of(c);
  if (h && h->before_create) h->before_create(call, txn, values);
  std::string ref = txn.create(c, std::move(values));
  if (h && h->after_create) h->after_create(call, txn, ref);
  return ref;
}

Result run_implicit(Call& call, std::vector<Value>& args) {
  const dm::Message& m = call.message();
  const dm::Class& c = *m.cls;
  Store& store = call.store();
  switch (m.kind) {
    case MessageKind::GetField:
      return store.read([&](const View& v) { return Result(v.must_get(c, args[0].str())->values[m.field->index]); });
    case MessageKind::SetField:
      write_field(call, c, args[0].str(), *m.field, [&](const Value&) { return args[1]; });
      return Result();
    case MessageKind::AddToSet:
      write_field(call, c, args[0].str(), *m.field, [&](const Value& cur) {
        Value next = cur;
        if (std::find(cur.arr().begin(), cur.arr().end(), args[1]) == cur.arr().end()) next.arr().push_back(args[1]);
        return next;
      });
      return Result();
    case MessageKind::RemoveFromSet:
      write_field(call, c, args[0].str(), *m.field, [&](const Value& cur) {
        Value next = cur;
        auto& a = next.arr();
        a.erase(std::remove(a.begin(), a.end(), args[1]), a.end());
        return next;
      });
      return Result();
    case MessageKind::AddToMap:
      write_field(call, c, args[0].str(), *m.field, [&](const Value& cur) {
        for (const auto& [k, v] : cur.map())
          if (k == args[1]) throw err::MAP_DUPLICATE_KEY(c.name, m.field->name, args[0].str(), key_string(args[1]));
        Value next = cur;
        next.map().emplace_back(args[1], args[2]);
        return next;
      });
      return Result();
    case MessageKind::RemoveFromMap:
      write_field(call, c, args[0].str(), *m.field, [&](const Value& cur) {
        Value next = cur;
        auto& mm = next.map();
        mm.erase(std::remove_if(mm.begin(), mm.end(), [&](const auto& kv) { return kv.first == args[1]; }),
                 mm.end());
        return next;
      });
      return Result();
    case MessageKind::GetRecord:
      return store.read([&](const View& v) { return Result::record(c, v.must_get(c, args[0].str())); });
    case MessageKind::GetByUuid:
      return store.read([&](const View& v) {
        ObjectPtr o = v.by_uuid(c, args[0].str());
        if (!o) throw err::UUID_INVALID(c.name, args[0].str());
        return Result(Value(o->ref));
      });
    case MessageKind::GetByNameLabel:
      return store.read([&](const View& v) { return Result(refs_of(v.by_name_label(c, args[0].str()))); });
    case MessageKind::GetAll:
      return store.read([&](const View& v) { return Result(refs_of(v.all(c))); });
    case MessageKind::GetAllRecords:
      return store.read([&](const View& v) { return Result::records(c, v.all(c)); });
    case MessageKind::GetAllWhere:
    case MessageKind::GetAllRecordsWhere: {
      Filter f = Filter::parse(c, args[0].str());
      std::vector<ObjectPtr> all = store.read([&](const View& v) { return v.all(c); });
      all.erase(std::remove_if(all.begin(), all.end(), [&](const ObjectPtr& o) { return !f.matches(*o); }),
                all.end());
      if (m.kind == MessageKind::GetAllWhere) return Result(refs_of(all));
      return Result::records(c, std::move(all));
    }
    case MessageKind::Create: {
      std::string ref = store.write([&](Txn& t) { return create_object(call, t, c, args[0].map()); });
      return Result(Value(ref));
    }
    case MessageKind::Destroy: {
      ObjectPtr gone = store.write([&](Txn& t) {
        ObjectPtr o = t.must_get(c, args[0].str());
        if (const ClassHooks* h = hooks_of(c); h && h->before_destroy) h->before_destroy(call, t, o);
        t.destroy(c, o->ref);
        return o;
      });
      if (const ClassHooks* h = hooks_of(c); h && h->after_destroy) h->after_destroy(call, gone);
      return Result();
    }
    case MessageKind::Explicit:
      break;
  }
  throw err::INTERNAL_ERROR("run_implicit called for explicit message " + m.wire_name);
}

}  // namespace xenapi
