// event: event.from, event.inject, event.get_current_id and the legacy
// event.register / event.unregister / event.next.
#include <algorithm>
#include <future>

#include "classes/api/handlers.h"
#include "classes/events/event_hub.h"

namespace xenapi {

namespace {

Events& events(Call& c) {
  if (!c.env().events) throw err::INTERNAL_ERROR("the event system is not running");
  return *c.env().events;
}

// Waits for an answer from the hub on this thread (calls that cannot defer).
Result wait_here(EventHub& hub, const std::string& session, Subscription sub, std::optional<uint64_t> since,
                 EventHub::Clock::time_point deadline, bool legacy) {
  auto p = std::make_shared<std::promise<Result>>();
  auto f = p->get_future();
  hub.wait(session, std::move(sub), since, deadline,
           Deferral{[p](Result r) { p->set_value(std::move(r)); },
                    [p](const ApiError& e) { p->set_exception(std::make_exception_ptr(e)); }},
           legacy);
  return f.get();
}

// Answers at once if something matching happened after `since`.
std::optional<EventBatch> ready(Call& c, const Subscription& sub, std::optional<uint64_t> since) {
  EventLog& log = events(c).log;
  return c.store().read([&](const View& v) -> std::optional<EventBatch> {
    if (since && !log.has_changes(sub, *since)) return std::nullopt;
    EventBatch b = log.collect(v, sub, since);
    if (since && b.events.empty()) return std::nullopt;
    return b;
  });
}

}  // namespace

XENAPI_HANDLER("event.from", [](Call& c, const std::vector<std::string>& classes, const std::string& token,
                                double timeout) -> Result {
  Events& ev = events(c);
  Subscription sub = Subscription::parse(c.model(), classes);
  std::optional<uint64_t> since = ev.log.parse_token(token);
  if (auto b = ready(c, sub, since)) return Result::events(std::make_shared<EventBatch>(std::move(*b)));
  double seconds = std::clamp(timeout, 0.0, 86400.0);
  auto deadline = EventHub::Clock::now() + std::chrono::duration_cast<EventHub::Clock::duration>(
                                               std::chrono::duration<double>(seconds));
  if (c.can_defer()) {
    ev.hub.wait(c.who()->session, std::move(sub), since, deadline, c.defer());
    return Result::deferred();
  }
  return wait_here(ev.hub, c.who()->session, std::move(sub), since, deadline, false);
});

XENAPI_HANDLER("event.get_current_id", [](Call& c) -> int64_t {
  return static_cast<int64_t>(c.store().generation());
});

XENAPI_HANDLER("event.inject", [](Call& c, const std::string& cls, const std::string& ref) -> std::string {
  Events& ev = events(c);
  const dm::Class* target = c.model().cls_nocase(cls);
  if (!target || !target->db_class || !target->events) throw err::HANDLE_INVALID(cls, ref);
  uint64_t before = c.store().write([&](Txn& t) {
    uint64_t g = t.generation();
    t.touch(*target, ref);
    return g;
  });
  // A token just before the injected change: event.from returns at once.
  return ev.log.token(before);
});

XENAPI_HANDLER("event.register", [](Call& c, const std::vector<std::string>& classes) {
  events(c).hub.register_classes(c.who()->session, Subscription::parse(c.model(), classes));
});

XENAPI_HANDLER("event.unregister", [](Call& c, const std::vector<std::string>& classes) {
  events(c).hub.unregister_classes(c.who()->session, Subscription::parse(c.model(), classes));
});

XENAPI_HANDLER("event.next", [](Call& c) -> Result {
  Events& ev = events(c);
  const std::string& session = c.who()->session;
  auto [sub, position] = ev.hub.registration(session);
  if (auto b = ready(c, sub, position)) {
    ev.hub.advance(session, b->generation);
    return Result::events(std::make_shared<EventBatch>(std::move(*b)), true);
  }
  auto forever = EventHub::Clock::time_point::max();
  if (c.can_defer()) {
    ev.hub.wait(session, std::move(sub), position, forever, c.defer(), true);
    return Result::deferred();
  }
  return wait_here(ev.hub, session, std::move(sub), position, forever, true);
});

}  // namespace xenapi
