// Waiting for events: event.from long polls and the legacy event.next queue
// of registered sessions. A waiting call holds no thread: it is parked here
// and answered (through its Deferral) by the hub's one thread when a matching
// change commits, when its timeout passes, or with SESSION_INVALID when its
// session logs out. Idle waiters cost no CPU: the thread sleeps until a
// commit or the nearest deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "classes/api/call.h"
#include "classes/events/event_log.h"

namespace xenapi {

class EventHub {
 public:
  using Clock = std::chrono::steady_clock;

  EventHub(Store& store, EventLog& log);
  ~EventHub();

  // Parks an event.from (or event.next, with `legacy`) call until it can be
  // answered; `since` = nullopt answers at once with everything.
  void wait(const std::string& session, Subscription sub, std::optional<uint64_t> since, Clock::time_point deadline,
            Deferral reply, bool legacy = false);

  // event.register / event.unregister / event.next state of a session.
  void register_classes(const std::string& session, const Subscription& sub);
  void unregister_classes(const std::string& session, const Subscription& sub);
  // The registration of a session and its position; throws
  // SESSION_NOT_REGISTERED [session] if it has none.
  std::pair<Subscription, uint64_t> registration(const std::string& session);
  // After event.next answered up to `generation`.
  void advance(const std::string& session, uint64_t generation);

  // Answers the session's waiting calls with SESSION_INVALID and forgets its
  // registration.
  void session_closed(const std::string& session);

  size_t waiting() const;
  void stop();

 private:
  struct Waiter {
    std::string session;
    Subscription sub;
    std::optional<uint64_t> since;
    Clock::time_point deadline;
    Deferral reply;
    bool legacy = false;
  };
  struct Registration {
    Subscription sub;
    uint64_t position = 0;
  };
  void run();
  void on_commit();

  Store& store_;
  EventLog& log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::shared_ptr<Waiter>> waiters_;
  std::unordered_map<std::string, Registration> registrations_;
  bool dirty_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// What event handlers need: the log and the hub, owned together.
struct Events {
  explicit Events(Store& store, size_t max_log = 1000000) : log(store, max_log), hub(store, log) {}
  EventLog log;
  EventHub hub;
};

}  // namespace xenapi
