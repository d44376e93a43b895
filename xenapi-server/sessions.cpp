// Session table and authentication flow.
#include "xenapi-server/sessions.h"

#include <algorithm>
#include <ctime>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "classes/errors.h"
#include "classes/events/event_hub.h"

namespace xenapi {

namespace {

int64_t steady_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

DateTime wall_now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Sessions::Sessions(Env& env, Auth& auth, SessionOptions opts) : env_(env), auth_(auth), opts_(opts) {}

std::shared_ptr<const Principal> Sessions::check(const std::string& ref) {
  std::shared_ptr<Entry> e;
  {
    std::shared_lock lock(mu_);
    auto it = live_.find(ref);
    if (it == live_.end()) return nullptr;
    e = it->second;
  }
  int64_t now = steady_seconds();
  e->last_active.store(now, std::memory_order_relaxed);
  // The stored last_active is refreshed at most once a minute.
  int64_t written = e->last_written.load(std::memory_order_relaxed);
  if (now - written >= 60 && e->last_written.compare_exchange_strong(written, now)) {
    // Best effort: a call that only reads must not fail because the
    // database cannot take this bookkeeping write (a full disk); it is
    // tried again a minute later.
    const dm::Class& sc = env_.store.cls("session");
    try {
      env_.store.write([&](Txn& t) {
        if (t.exists(sc, ref)) t.set(sc, ref, "last_active", Value(wall_now()));
      });
    } catch (const std::exception& ex) {
      spdlog::warn("could not record the activity of a session: {}", ex.what());
    }
  }
  return e->who;
}

Value Sessions::permissions_for(dm::Role role) {
  auto it = permission_cache_.find(static_cast<int>(role));
  if (it != permission_cache_.end()) return it->second;
  Array perms;
  for (const auto& c : env_.store.model().classes())
    for (const auto& m : c->messages)
      if (m.role != dm::Role::LocalRoot && static_cast<int>(m.role) <= static_cast<int>(role))
        perms.emplace_back(lower(m.wire_name));
  Value v(std::move(perms));
  permission_cache_.emplace(static_cast<int>(role), v);
  return v;
}

std::string Sessions::open(const User& user, const std::string& originator) {
  const dm::Class& sc = env_.store.cls("session");
  Value perms;
  {
    std::unique_lock lock(mu_);
    perms = user.superuser ? Value::empty_array() : permissions_for(user.role);
  }
  std::string ref = env_.store.write([&](Txn& t) {
    std::vector<Value> v = env_.store.defaults(sc);
    auto set = [&](const char* f, Value x) { v[sc.field(f)->index] = std::move(x); };
    DateTime now = wall_now();
    set("this_host", env_.this_host);
    set("last_active", now);
    set("validation_time", now);
    set("is_local_superuser", user.superuser);
    set("auth_user_name", user.name);
    set("rbac_permissions", perms);
    set("originator", originator);
    return t.create(sc, std::move(v));
  });

  auto e = std::make_shared<Entry>();
  auto who = std::make_shared<Principal>();
  who->session = ref;
  who->user = user.name;
  who->role = user.role;
  who->local_superuser = user.superuser;
  e->who = who;
  e->originator = originator;
  e->last_active = steady_seconds();
  e->last_written = steady_seconds();

  std::vector<std::string> evict;
  {
    std::unique_lock lock(mu_);
    live_.emplace(ref, e);
    // Bound the sessions of one originator (or, for anonymous callers, one user).
    std::string group = originator.empty() ? "user:" + user.name : "orig:" + originator;
    std::vector<std::pair<int64_t, std::string>> same;
    for (const auto& [r, x] : live_) {
      std::string g = x->originator.empty() ? "user:" + x->who->user : "orig:" + x->originator;
      if (g == group) same.emplace_back(x->last_active.load(), r);
    }
    if (same.size() > opts_.max_per_originator) {
      std::sort(same.begin(), same.end());
      for (size_t i = 0; i + opts_.max_per_originator < same.size(); ++i)
        if (same[i].second != ref) evict.push_back(same[i].second);
    }
  }
  for (const auto& r : evict) destroy(r);
  return ref;
}

std::string Sessions::login(Call& call, const std::string& uname, const std::string& pwd,
                            const std::string& originator) {
  const Origin* origin = call.origin();
  std::optional<User> user;
  if (origin && origin->transport == Origin::Transport::Unix) {
    // The local socket is pre-authenticated: its callers are the local superuser.
    user = User{uname.empty() ? "root" : uname, dm::Role::PoolAdmin, true};
  } else {
    user = auth_.verify(uname, pwd);
  }
  if (!user) {
    ApiError refusal = err::SESSION_AUTHENTICATION_FAILED(uname, "Authentication failure");
    if (call.can_defer() && env_.scheduler) {
      // Answer after the delay without holding a worker thread meanwhile.
      Deferral d = call.defer();
      env_.scheduler->after(std::chrono::duration_cast<std::chrono::milliseconds>(opts_.failure_delay),
                            [d, refusal] { d.fail(refusal); });
      return std::string();
    }
    std::this_thread::sleep_for(opts_.failure_delay);
    throw refusal;
  }
  return open(*user, originator);
}

void Sessions::destroy(const std::string& ref) {
  {
    std::unique_lock lock(mu_);
    live_.erase(ref);
  }
  if (env_.events) env_.events->hub.session_closed(ref);
  const dm::Class& sc = env_.store.cls("session");
  env_.store.write([&](Txn& t) {
    if (t.exists(sc, ref)) t.destroy(sc, ref);
  });
}

void Sessions::logout(Call& call, const std::string& session) { destroy(session); }

void Sessions::change_password(Call& call, const std::string& old_pwd, const std::string& new_pwd) {
  const Principal* who = call.who();
  if (!who || !who->local_superuser)
    throw err::USER_IS_NOT_LOCAL_SUPERUSER("only the local superuser can change the root password");
  if (!auth_.verify("root", old_pwd)) throw err::CHANGE_PASSWORD_REJECTED("the old password is not correct");
  if (new_pwd.empty()) throw err::CHANGE_PASSWORD_REJECTED("the new password must not be empty");
  try {
    auth_.set_root_password(new_pwd);
  } catch (const std::runtime_error& e) {
    throw err::CHANGE_PASSWORD_REJECTED(e.what());
  }
}

size_t Sessions::restore() {
  const dm::Class& sc = env_.store.cls("session");
  std::vector<ObjectPtr> saved = env_.store.read([&](const View& v) { return v.all(sc); });
  std::vector<std::string> drop;
  size_t kept = 0;
  for (const auto& o : saved) {
    const std::string& name = o->at(sc, "auth_user_name").str();
    const bool superuser = o->at(sc, "is_local_superuser").boolean();
    std::optional<User> user = superuser ? User{name, dm::Role::PoolAdmin, true} : auth_.find(name);
    if (!user || o->at(sc, "pool").boolean()) {
      drop.push_back(o->ref);
      continue;
    }
    auto e = std::make_shared<Entry>();
    auto who = std::make_shared<Principal>();
    who->session = o->ref;
    who->user = user->name;
    who->role = user->role;
    who->local_superuser = user->superuser;
    e->who = who;
    e->originator = o->at(sc, "originator").str();
    e->last_active = steady_seconds();
    e->last_written = steady_seconds();
    std::unique_lock lock(mu_);
    live_.emplace(o->ref, std::move(e));
    ++kept;
  }
  for (const auto& r : drop) destroy(r);
  return kept;
}

size_t Sessions::expire_idle() {
  int64_t cutoff = steady_seconds() - opts_.idle_timeout.count();
  std::vector<std::string> idle;
  {
    std::shared_lock lock(mu_);
    for (const auto& [ref, e] : live_)
      if (e->last_active.load() < cutoff) idle.push_back(ref);
  }
  for (const auto& r : idle) destroy(r);
  return idle.size();
}

size_t Sessions::count() const {
  std::shared_lock lock(mu_);
  return live_.size();
}

}  // namespace xenapi
