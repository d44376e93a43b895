// event: event.from, event.inject, event.get_current_id and the legacy
// event.register / event.unregister / event.next.
#include <algorithm>
#include <cmath>
#include <future>

#include "classes/api/handlers.h"
#include "classes/events/event_hub.h"

namespace xenapi {

namespace {

// The longest event.from timeout honoured (a day).
constexpr double kMaxTimeout = 86400.0;

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

// The answer if there is one now: everything (no `since`), the matching
// changes after `since`, or (with `always`) an empty batch.
std::optional<EventBatch> ready(Call& c, const Subscription& sub, std::optional<uint64_t> since, bool legacy,
                                bool always) {
  EventLog& log = events(c).log;
  return c.store().read([&](const View& v) -> std::optional<EventBatch> {
    if (since && !always && !log.pending(sub, *since)) return std::nullopt;
    EventBatch b = log.collect(v, sub, since, legacy);
    if (since && !always && b.events.empty()) return std::nullopt;
    return b;
  });
}

}  // namespace

XENAPI_HANDLER("event.from", [](Call& c, const std::vector<std::string>& classes, const std::string& token,
                                double timeout) -> Result {
  Events& ev = events(c);
  Subscription sub = Subscription::parse(c.model(), classes);
  std::optional<uint64_t> since = ev.log.parse_token(token);
  // NaN, negative or zero: answer at once.
  const double seconds = timeout > 0 ? std::min(timeout, kMaxTimeout) : 0.0;
  if (auto b = ready(c, sub, since, false, seconds <= 0))
    return Result::events(std::make_shared<EventBatch>(std::move(*b)));
  auto deadline = EventHub::Clock::now() + std::chrono::duration_cast<EventHub::Clock::duration>(
                                               std::chrono::duration<double>(seconds));
  if (c.can_defer()) {
    ev.hub.wait(c.who()->session, std::move(sub), since, deadline, c.defer());
    return Result::deferred();
  }
  return wait_here(ev.hub, c.who()->session, std::move(sub), since, deadline, false);
});

XENAPI_HANDLER("event.get_current_id", [](Call& c) -> int64_t {
  // The id of the next event: events carry the generation of their change.
  return static_cast<int64_t>(c.store().generation() + 1);
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

// Blocks until a registered class changes. A parked call is answered after
// the hub's heartbeat at the latest (the pool's record as a `mod`, or an
// empty list if the session does not watch the pool), so a dead client
// cannot keep a call, or the events it would swallow, for long.
XENAPI_HANDLER("event.next", [](Call& c) -> Result {
  Events& ev = events(c);
  const std::string& session = c.who()->session;
  auto [sub, position] = ev.hub.registration(session);
  std::optional<EventBatch> b;
  try {
    b = ready(c, sub, position, true, false);
  } catch (const ApiError& e) {
    if (e.code() == "EVENTS_LOST") ev.hub.reset_position(session);
    throw;
  }
  if (b) {
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
