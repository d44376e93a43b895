// The hub's thread: match parked calls against new commits and deadlines.
#include "classes/events/event_hub.h"

#include <algorithm>
#include <vector>

#include "classes/errors.h"

namespace xenapi {

EventHub::EventHub(Store& store, EventLog& log) : store_(store), log_(log) {
  // Runs under the store's write lock: only flag the change.
  store_.add_observer([this](const Commit& c) {
    bool events = false;
    for (const auto& ch : c.changes) events = events || ch.cls->events;
    if (events) on_commit();
  });
  thread_ = std::thread([this] { run(); });
}

EventHub::~EventHub() { stop(); }

void EventHub::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventHub::on_commit() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_one();
}

void EventHub::wait(const std::string& session, Subscription sub, std::optional<uint64_t> since,
                    Clock::time_point deadline, Deferral reply, bool legacy) {
  auto w = std::make_shared<Waiter>(Waiter{session, std::move(sub), since, deadline, std::move(reply), legacy});
  {
    std::lock_guard lock(mu_);
    waiters_.push_back(std::move(w));
    dirty_ = true;  // check it at once: something may have committed meanwhile
  }
  cv_.notify_one();
}

void EventHub::register_classes(const std::string& session, const Subscription& sub) {
  uint64_t now = store_.generation();
  std::lock_guard lock(mu_);
  auto [it, fresh] = registrations_.try_emplace(session);
  if (fresh) it->second.position = now;
  it->second.sub.add(sub);
}

void EventHub::unregister_classes(const std::string& session, const Subscription& sub) {
  std::lock_guard lock(mu_);
  auto it = registrations_.find(session);
  if (it != registrations_.end()) it->second.sub.remove(sub);
}

std::pair<Subscription, uint64_t> EventHub::registration(const std::string& session) {
  std::lock_guard lock(mu_);
  auto it = registrations_.find(session);
  if (it == registrations_.end()) throw err::SESSION_NOT_REGISTERED(session);
  return {it->second.sub, it->second.position};
}

void EventHub::advance(const std::string& session, uint64_t generation) {
  std::lock_guard lock(mu_);
  auto it = registrations_.find(session);
  if (it != registrations_.end()) it->second.position = std::max(it->second.position, generation);
}

void EventHub::session_closed(const std::string& session) {
  std::vector<std::shared_ptr<Waiter>> gone;
  {
    std::lock_guard lock(mu_);
    registrations_.erase(session);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if ((*it)->session == session) {
        gone.push_back(*it);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& w : gone) w->reply.fail(err::SESSION_INVALID(session));
}

size_t EventHub::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

void EventHub::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) break;
    if (!dirty_) {
      auto next = Clock::time_point::max();
      for (const auto& w : waiters_) next = std::min(next, w->deadline);
      if (next == Clock::time_point::max()) cv_.wait(lock, [&] { return stopping_ || dirty_; });
      else cv_.wait_until(lock, next, [&] { return stopping_ || dirty_; });
      if (stopping_) break;
    }
    dirty_ = false;
    std::vector<std::shared_ptr<Waiter>> candidates(waiters_.begin(), waiters_.end());
    lock.unlock();

    // Decide under the store's read lock (never while holding mu_: committers
    // take mu_ under the store's write lock).
    struct Answer {
      std::shared_ptr<Waiter> w;
      std::optional<EventBatch> batch;
      std::optional<ApiError> error;
    };
    std::vector<Answer> answers;
    const auto now = Clock::now();
    store_.read([&](const View& v) {
      for (const auto& w : candidates) {
        bool due = now >= w->deadline;
        try {
          if (!w->since || due || log_.has_changes(w->sub, *w->since)) {
            EventBatch b = log_.collect(v, w->sub, w->since);
            if (b.events.empty() && !due && w->since) {
              // Only objects created and destroyed meanwhile: nothing to show yet.
              w->since = b.generation;
              continue;
            }
            answers.push_back(Answer{w, std::move(b), std::nullopt});
          }
        } catch (const ApiError& e) {
          answers.push_back(Answer{w, std::nullopt, e});
        }
      }
      return 0;
    });

    lock.lock();
    std::vector<Answer> ready;
    for (auto& a : answers) {
      auto it = std::find(waiters_.begin(), waiters_.end(), a.w);
      if (it == waiters_.end()) continue;  // answered meanwhile (logout)
      waiters_.erase(it);
      ready.push_back(std::move(a));
    }
    lock.unlock();
    for (auto& a : ready) {
      if (a.error) {
        a.w->reply.fail(*a.error);
        continue;
      }
      if (a.w->legacy) {
        // event.next: the position moves past what was delivered.
        advance(a.w->session, a.batch->generation);
      }
      Result r = Result::events(std::make_shared<EventBatch>(std::move(*a.batch)), a.w->legacy);
      a.w->reply.ok(std::move(r));
    }
    lock.lock();
  }
  // Shutting down: answer everyone still waiting with what they would get on timeout.
  std::vector<std::shared_ptr<Waiter>> left(waiters_.begin(), waiters_.end());
  waiters_.clear();
  lock.unlock();
  for (const auto& w : left) w->reply.fail(err::INTERNAL_ERROR("the server is shutting down"));
}

}  // namespace xenapi
