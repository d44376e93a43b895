// The hub's thread: match parked calls against new commits and deadlines.
#include "classes/events/event_hub.h"

#include <algorithm>
#include <vector>

#include "classes/errors.h"

namespace xenapi {

namespace {

// How long a closed session is remembered: covers a call that passed the
// session check just before the logout and parks just after it.
constexpr auto kClosedMemory = std::chrono::minutes(5);

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

EventHub::EventHub(Store& store, EventLog& log, EventHubOptions opts) : store_(store), log_(log), opts_(opts) {
  if (opts_.max_waiters_per_session == 0) opts_.max_waiters_per_session = 1;
  // Runs under the store's write lock: only flag the change.
  store_.add_observer([this](const Commit& c) {
    for (const auto& ch : c.changes) {
      if (ch.cls->events) {
        on_commit();
        return;
      }
    }
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
    if (waiters_.empty()) return;  // nobody to tell; a waiter parked later is checked anyway
    dirty_ = true;
  }
  cv_.notify_one();
}

bool EventHub::closed(const std::string& session) { return closed_.count(session) != 0; }

void EventHub::wait(const std::string& session, Subscription sub, std::optional<uint64_t> since,
                    Clock::time_point deadline, Deferral reply, bool legacy) {
  auto w = std::make_shared<Waiter>();
  w->session = session;
  w->sub = std::move(sub);
  w->since = since;
  w->origin = since.value_or(0);
  w->reply = std::move(reply);
  w->legacy = legacy;
  std::optional<ApiError> refusal;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refusal = err::INTERNAL_ERROR("the server is shutting down");
    } else if (closed(session)) {
      refusal = err::SESSION_INVALID(session);
    } else {
      if (legacy) deadline = std::min(deadline, Clock::now() + opts_.legacy_heartbeat);
      w->deadline = deadline;
      w->id = next_id_++;
      auto& mine = by_session_[session];
      if (mine.size() >= opts_.max_waiters_per_session) {
        // Too many parked calls on one session: the oldest answers now.
        for (uint64_t id : mine) {
          auto& old = waiters_.at(id);
          if (old->evicted) continue;
          old->evicted = true;
          fresh_.push_back(old);
          break;
        }
      }
      mine.insert(w->id);
      waiters_.emplace(w->id, w);
      deadlines_.emplace(w->deadline, w->id);
      fresh_.push_back(w);  // check it at once: something may have committed meanwhile
    }
  }
  if (refusal) {
    w->reply.fail(*refusal);
    return;
  }
  cv_.notify_one();
}

bool EventHub::unlink(const std::shared_ptr<Waiter>& w) {
  auto it = waiters_.find(w->id);
  if (it == waiters_.end() || it->second != w) return false;
  waiters_.erase(it);
  deadlines_.erase({w->deadline, w->id});
  auto s = by_session_.find(w->session);
  if (s != by_session_.end()) {
    s->second.erase(w->id);
    if (s->second.empty()) by_session_.erase(s);
  }
  return true;
}

void EventHub::register_classes(const std::string& session, const Subscription& sub) {
  uint64_t now = store_.generation();
  std::lock_guard lock(mu_);
  if (closed(session)) throw err::SESSION_INVALID(session);
  auto [it, fresh] = registrations_.try_emplace(session);
  if (fresh) it->second.position = now;
  it->second.sub.add(sub);
  registration_changed(session);
}

void EventHub::registration_changed(const std::string& session) {
  if (by_session_.count(session)) dirty_ = true;  // parked event.next calls re-read it
  cv_.notify_one();
}

void EventHub::unregister_classes(const std::string& session, const Subscription& sub) {
  std::lock_guard lock(mu_);
  auto it = registrations_.find(session);
  if (it == registrations_.end()) return;
  it->second.sub.remove(sub);
  if (it->second.sub.empty()) registrations_.erase(it);
  registration_changed(session);
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

void EventHub::reset_position(const std::string& session) {
  uint64_t now = store_.generation();
  std::lock_guard lock(mu_);
  auto it = registrations_.find(session);
  if (it != registrations_.end()) it->second.position = std::max(it->second.position, now);
}

void EventHub::session_closed(const std::string& session) {
  std::vector<std::shared_ptr<Waiter>> gone;
  {
    std::lock_guard lock(mu_);
    registrations_.erase(session);
    const auto now = Clock::now();
    // Forget sessions closed long ago, oldest first: constant time per logout.
    while (!closed_order_.empty() && now - closed_order_.front().first > kClosedMemory) {
      auto old = closed_.find(closed_order_.front().second);
      if (old != closed_.end() && old->second == closed_order_.front().first) closed_.erase(old);
      closed_order_.pop_front();
    }
    closed_[session] = now;
    closed_order_.emplace_back(now, session);
    auto s = by_session_.find(session);
    if (s != by_session_.end()) {
      for (uint64_t id : s->second) gone.push_back(waiters_.at(id));
    }
    for (const auto& w : gone) unlink(w);
  }
  for (const auto& w : gone) w->reply.fail(err::SESSION_INVALID(session));
}

size_t EventHub::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

size_t EventHub::waiting(const std::string& session) const {
  std::lock_guard lock(mu_);
  auto s = by_session_.find(session);
  return s == by_session_.end() ? 0 : s->second.size();
}

size_t EventHub::registrations() const {
  std::lock_guard lock(mu_);
  return registrations_.size();
}

std::vector<EventHub::Answer> EventHub::evaluate(const std::vector<std::shared_ptr<Waiter>>& candidates,
                                                 Clock::time_point now) {
  std::vector<Answer> answers;
  // Calls waiting for the same thing get the same batch (made and encoded
  // once): typically every watcher of a class, woken by one commit.
  struct Made {
    const Subscription* sub;
    std::optional<uint64_t> since;
    bool legacy;
    std::shared_ptr<const EventBatch> batch;
  };
  std::vector<Made> made;
  store_.read([&](const View& v) {
    auto collect = [&](const Waiter& w) -> std::shared_ptr<const EventBatch> {
      for (const auto& m : made)
        if (m.since == w.since && m.legacy == w.legacy && *m.sub == w.sub) return m.batch;
      auto b = std::make_shared<const EventBatch>(log_.collect(v, w.sub, w.since, w.legacy));
      if (made.size() >= 16) made.erase(made.begin());
      made.push_back(Made{&w.sub, w.since, w.legacy, b});
      return b;
    };
    const dm::Class* pool = v.model().cls("pool");
    for (const auto& w : candidates) {
      const bool due = w->evicted || now >= w->deadline;
      try {
        if (w->unregistered) throw err::SESSION_NOT_REGISTERED(w->session);
        if (!w->since) {
          answers.push_back(Answer{w, collect(*w), std::nullopt});
          continue;
        }
        if (log_.pending(w->sub, *w->since)) {
          auto b = collect(*w);
          if (!b->events.empty()) {
            answers.push_back(Answer{w, std::move(b), std::nullopt});
            continue;
          }
          // Only objects created and destroyed meanwhile: nothing to show.
          w->since = b->generation;
        } else {
          // Nothing relevant up to now: later checks start from here.
          w->since = v.generation();
        }
        if (!due) continue;
        // Timed out (or evicted): an empty batch and a fresh token.
        auto b = collect(*w);
        if (w->legacy && pool) {
          // xapi's heartbeat: the pool's record, to those who watch it.
          EventBatch beat = *b;
          for (const auto& o : v.all(*pool))
            if (w->sub.matches(*pool, o->ref))
              beat.events.push_back(Event{v.generation(), pool, o->ref, ChangeKind::Mod, o, wall_seconds()});
          b = std::make_shared<const EventBatch>(std::move(beat));
        }
        answers.push_back(Answer{w, std::move(b), std::nullopt});
      } catch (const ApiError& e) {
        Answer a{w, nullptr, e};
        if (w->legacy) {
          // EVENTS_LOST: the session starts again from now.
          auto reset = std::make_shared<EventBatch>();
          reset->generation = v.generation();
          a.batch = std::move(reset);
        }
        answers.push_back(std::move(a));
      }
    }
    return 0;
  });
  return answers;
}

void EventHub::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    const bool deadline_due = !deadlines_.empty() && deadlines_.begin()->first <= now;
    if (!dirty_ && fresh_.empty() && !deadline_due) {
      if (deadlines_.empty()) cv_.wait(lock);
      else cv_.wait_until(lock, deadlines_.begin()->first);
      continue;
    }

    std::vector<std::shared_ptr<Waiter>> candidates;
    if (dirty_) {
      candidates.reserve(waiters_.size());
      for (const auto& [id, w] : waiters_) {
        candidates.push_back(w);
        if (!w->legacy) continue;
        // event.next follows its session's registration.
        auto r = registrations_.find(w->session);
        if (r == registrations_.end()) {
          w->unregistered = true;
        } else if (!(r->second.sub == w->sub)) {
          w->sub = r->second.sub;
          w->since = w->origin;
        }
      }
      dirty_ = false;
      fresh_.clear();
    } else {
      std::set<uint64_t> seen;
      for (auto& w : fresh_)
        if (waiters_.count(w->id) && seen.insert(w->id).second) candidates.push_back(std::move(w));
      fresh_.clear();
      for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it)
        if (seen.insert(it->second).second) candidates.push_back(waiters_.at(it->second));
    }
    lock.unlock();

    // Decide under the store's read lock (never while holding mu_: committers
    // take mu_ under the store's write lock).
    std::vector<Answer> answers = evaluate(candidates, now);

    lock.lock();
    std::vector<Answer> ready;
    ready.reserve(answers.size());
    for (auto& a : answers) {
      if (!unlink(a.w)) continue;  // answered meanwhile (logout)
      if (a.w->legacy && a.batch) {
        // event.next: the position moves past what was delivered (or, after
        // EVENTS_LOST, to now).
        auto r = registrations_.find(a.w->session);
        if (r != registrations_.end()) r->second.position = std::max(r->second.position, a.batch->generation);
      }
      ready.push_back(std::move(a));
    }
    lock.unlock();
    for (auto& a : ready) {
      if (a.error) {
        a.w->reply.fail(*a.error);
        continue;
      }
      a.w->reply.ok(Result::events(std::move(a.batch), a.w->legacy));
    }
    ready.clear();
    lock.lock();
  }
  // Shutting down: nobody waits any longer.
  std::vector<std::shared_ptr<Waiter>> left;
  for (const auto& [id, w] : waiters_) left.push_back(w);
  waiters_.clear();
  deadlines_.clear();
  by_session_.clear();
  fresh_.clear();
  lock.unlock();
  for (const auto& w : left) w->reply.fail(err::INTERNAL_ERROR("the server is shutting down"));
}

}  // namespace xenapi
