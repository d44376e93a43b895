// message: administrator messages (alerts) attached to objects by uuid.
#include <algorithm>
#include <ctime>

#include "classes/api/handlers.h"
#include "classes/store/filter.h"

namespace xenapi {

namespace {

const dm::Class& message_class(Call& c) { return c.cls("message"); }

std::vector<ObjectPtr> messages_where(Call& c, const std::function<bool(const Object&)>& keep) {
  const dm::Class& mc = message_class(c);
  std::vector<ObjectPtr> all = c.store().read([&](const View& v) { return v.all(mc); });
  all.erase(std::remove_if(all.begin(), all.end(), [&](const ObjectPtr& o) { return !keep(*o); }), all.end());
  return all;
}

int64_t timestamp(Call& c, const Object& o) { return o.at(message_class(c), "timestamp").datetime().seconds; }

}  // namespace

XENAPI_HANDLER("message.create", [](Call& c, const std::string& name, int64_t priority, const std::string& cls,
                                    const std::string& obj_uuid, const std::string& body) -> Ref {
  const dm::Class& mc = message_class(c);
  return c.store().write([&](Txn& t) {
    std::vector<Value> v = c.store().defaults(mc);
    auto set = [&](const char* f, Value x) { v[mc.field(f)->index] = std::move(x); };
    set("name", name);
    set("priority", priority);
    set("cls", cls);
    set("obj_uuid", obj_uuid);
    set("body", body);
    set("timestamp", DateTime{static_cast<int64_t>(std::time(nullptr))});
    return Ref(t.create(mc, std::move(v)));
  });
});

XENAPI_HANDLER("message.destroy", [](Call& c, const Ref& self) {
  c.store().write([&](Txn& t) { t.destroy(message_class(c), self.ref); });
});

XENAPI_HANDLER("message.destroy_many", [](Call& c, const std::vector<Ref>& refs) {
  c.store().write([&](Txn& t) {
    for (const Ref& r : refs) t.destroy(message_class(c), r.ref);
  });
});

XENAPI_HANDLER("message.destroy_all", [](Call& c, const StringMap& filters) {
  std::optional<int64_t> before, after, priority;
  for (const auto& [k, v] : filters) {
    if (k == "before" || k == "after") {
      DateTime d;
      if (!parse_datetime(v, d)) throw err::INVALID_VALUE(k, v);
      (k == "before" ? before : after) = d.seconds;
    } else if (k == "priority") {
      try {
        priority = std::stoll(v);
      } catch (...) {
        throw err::INVALID_VALUE(k, v);
      }
    } else {
      throw err::INVALID_VALUE(k, v);
    }
  }
  const dm::Class& mc = message_class(c);
  auto doomed = messages_where(c, [&](const Object& o) {
    int64_t ts = timestamp(c, o);
    if (before && !(ts < *before)) return false;
    if (after && !(ts > *after)) return false;
    if (priority && o.at(mc, "priority").integer() != *priority) return false;
    return true;
  });
  c.store().write([&](Txn& t) {
    for (const auto& o : doomed)
      if (t.exists(mc, o->ref)) t.destroy(mc, o->ref);
  });
});

XENAPI_HANDLER("message.get", [](Call& c, const std::string& cls, const std::string& obj_uuid, DateTime since) {
  const dm::Class& mc = message_class(c);
  return Result::records(mc, messages_where(c, [&](const Object& o) {
                           return o.at(mc, "cls").str() == cls && o.at(mc, "obj_uuid").str() == obj_uuid &&
                                  timestamp(c, o) > since.seconds;
                         }));
});

XENAPI_HANDLER("message.get_since", [](Call& c, DateTime since) {
  return Result::records(message_class(c),
                         messages_where(c, [&](const Object& o) { return timestamp(c, o) > since.seconds; }));
});

XENAPI_HANDLER("message.get_all", [](Call& c) -> std::vector<Ref> {
  std::vector<Ref> out;
  for (const auto& o : messages_where(c, [](const Object&) { return true; })) out.emplace_back(o->ref);
  return out;
});

XENAPI_HANDLER("message.get_all_records", [](Call& c) {
  return Result::records(message_class(c), messages_where(c, [](const Object&) { return true; }));
});

XENAPI_HANDLER("message.get_all_records_where", [](Call& c, const std::string& expr) {
  Filter f = Filter::parse(message_class(c), expr);
  return Result::records(message_class(c), messages_where(c, [&](const Object& o) { return f.matches(o); }));
});

XENAPI_HANDLER("message.get_by_uuid", [](Call& c, const std::string& uuid) -> Ref {
  ObjectPtr o = c.store().read([&](const View& v) { return v.by_uuid(message_class(c), uuid); });
  if (!o) throw err::UUID_INVALID("message", uuid);
  return Ref(o->ref);
});

XENAPI_HANDLER("message.get_record", [](Call& c, const Ref& self) {
  return Result::record(message_class(c),
                        c.store().read([&](const View& v) { return v.must_get(message_class(c), self.ref); }));
});

}  // namespace xenapi
