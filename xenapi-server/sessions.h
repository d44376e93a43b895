// Live sessions: login, logout, the per-call validity check, idle expiry.
// Each session is also a `session` object in the store (get_record, events
// of its tasks); this table keeps what the hot path needs in memory.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "classes/api/call.h"
#include "xenapi-server/auth.h"

namespace xenapi {

struct SessionOptions {
  std::chrono::milliseconds failure_delay{2000};   // before SESSION_AUTHENTICATION_FAILED
  std::chrono::seconds idle_timeout{24 * 3600};    // xapi's inactive_session_timeout
  size_t max_per_originator = 500;                 // oldest sessions beyond this are destroyed
};

class Sessions : public SessionService {
 public:
  Sessions(Env& env, Auth& auth, SessionOptions opts = {});

  // The caller behind a session ref, or nullptr (SESSION_INVALID). Cheap.
  std::shared_ptr<const Principal> check(const std::string& ref);

  std::string login(Call& call, const std::string& uname, const std::string& pwd,
                    const std::string& originator) override;
  void logout(Call& call, const std::string& session) override;
  void change_password(Call& call, const std::string& old_pwd, const std::string& new_pwd) override;

  // Creates a session for an already authenticated user (the local socket,
  // internal callers).
  std::string open(const User& user, const std::string& originator);
  // After a restart: takes over the saved sessions of users that still
  // exist (clients need not log in again); drops the others.
  size_t restore();
  // Destroys sessions idle for longer than the timeout; returns how many.
  size_t expire_idle();
  size_t count() const;

 private:
  struct Entry {
    std::shared_ptr<const Principal> who;
    std::string originator;
    std::atomic<int64_t> last_active;  // steady-clock seconds
    std::atomic<int64_t> last_written;
  };
  void destroy(const std::string& ref);
  Value permissions_for(dm::Role role);

  Env& env_;
  Auth& auth_;
  SessionOptions opts_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> live_;
  std::unordered_map<int, Value> permission_cache_;
};

}  // namespace xenapi
