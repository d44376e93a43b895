// Waiting for events: event.from long polls and the legacy event.next calls
// of registered sessions. A waiting call holds no thread: it is parked here
// and answered (through its Deferral) by the hub's one thread when a matching
// change commits, when its timeout passes, or with SESSION_INVALID when its
// session logs out. Idle waiters cost no CPU: the thread sleeps until a
// commit or the nearest deadline. A commit wakes the thread once; it checks
// each waiter against the new log entries only (a waiter that saw nothing
// relevant moves its position forward, so it never rescans old entries and a
// quiet watcher never falls behind the trimmed log).
//
// Memory a client can pin is bounded: the log is trimmed whatever positions
// clients hold (they get EVENTS_LOST), a session parks at most
// max_waiters_per_session calls (beyond that the oldest one is answered at
// once, as if its timeout had passed), and a parked event.next is answered
// after legacy_heartbeat at the latest (with the pool's `mod`, like xapi's
// heartbeat, or with an empty list if the session does not watch the pool).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "classes/api/call.h"
#include "classes/events/event_log.h"

namespace xenapi {

struct EventHubOptions {
  size_t max_waiters_per_session = 256;
  std::chrono::milliseconds legacy_heartbeat{30000};
};

class EventHub {
 public:
  using Clock = std::chrono::steady_clock;

  EventHub(Store& store, EventLog& log, EventHubOptions opts = {});
  ~EventHub();

  // Parks an event.from (or event.next, with `legacy`) call until it can be
  // answered; `since` = nullopt answers at once with everything. A legacy
  // call's deadline is capped at the heartbeat. Answers SESSION_INVALID at
  // once if the session has logged out meanwhile.
  void wait(const std::string& session, Subscription sub, std::optional<uint64_t> since, Clock::time_point deadline,
            Deferral reply, bool legacy = false);

  // event.register / event.unregister / event.next state of a session. A
  // registration starts at the current generation; unregistering everything
  // forgets it (a later register starts afresh, and a parked event.next
  // fails with SESSION_NOT_REGISTERED). A parked event.next follows changes
  // of its registration, as xapi's does.
  void register_classes(const std::string& session, const Subscription& sub);
  void unregister_classes(const std::string& session, const Subscription& sub);
  // The registration of a session and its position; throws
  // SESSION_NOT_REGISTERED [session] if it has none.
  std::pair<Subscription, uint64_t> registration(const std::string& session);
  // After event.next answered up to `generation`.
  void advance(const std::string& session, uint64_t generation);
  // After EVENTS_LOST: the session continues from the current generation
  // (the client re-reads everything).
  void reset_position(const std::string& session);

  // Answers the session's waiting calls with SESSION_INVALID and forgets its
  // registration; calls it parks later are refused the same way.
  void session_closed(const std::string& session);

  size_t waiting() const;
  size_t waiting(const std::string& session) const;
  size_t registrations() const;
  const EventHubOptions& options() const { return opts_; }
  void stop();

 private:
  struct Waiter {
    uint64_t id = 0;
    std::string session;
    Subscription sub;
    std::optional<uint64_t> since;  // read and moved only by the hub thread
    uint64_t origin = 0;            // `since` when parked
    Clock::time_point deadline;
    Deferral reply;
    bool legacy = false;
    bool evicted = false;       // answer at once, as if due
    bool unregistered = false;  // event.next whose registration is gone
  };
  struct Registration {
    Subscription sub;
    uint64_t position = 0;
  };
  struct Answer {
    std::shared_ptr<Waiter> w;
    std::shared_ptr<const EventBatch> batch;  // shared by calls that wait for the same thing
    std::optional<ApiError> error;
  };
  void run();
  void on_commit();
  // Decides which candidates can be answered (store read lock held inside).
  std::vector<Answer> evaluate(const std::vector<std::shared_ptr<Waiter>>& candidates, Clock::time_point now);
  // Unlinks a waiter; false if it was already gone (mu_ held).
  bool unlink(const std::shared_ptr<Waiter>& w);
  bool closed(const std::string& session);  // mu_ held
  void registration_changed(const std::string& session);  // mu_ held

  Store& store_;
  EventLog& log_;
  EventHubOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Waiter>> waiters_;          // oldest first
  std::set<std::pair<Clock::time_point, uint64_t>> deadlines_;   // nearest first
  std::unordered_map<std::string, std::set<uint64_t>> by_session_;
  std::vector<std::shared_ptr<Waiter>> fresh_;  // parked since the last pass: check once
  std::unordered_map<std::string, Registration> registrations_;
  std::unordered_map<std::string, Clock::time_point> closed_;  // recently closed sessions
  std::deque<std::pair<Clock::time_point, std::string>> closed_order_;  // the same, oldest first
  bool dirty_ = false;  // a commit since the last pass: check every waiter
  bool stopping_ = false;
  std::thread thread_;
};

// What event handlers need: the log and the hub, owned together.
struct Events {
  explicit Events(Store& store, size_t max_log = EventLog::kDefaultMaxEntries, EventHubOptions hub_opts = {})
      : log(store, max_log), hub(store, log, hub_opts) {}
  EventLog log;
  EventHub hub;
};

}  // namespace xenapi
