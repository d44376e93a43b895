// An in-process server for unit tests: the standard datamodel, a store with
// predictable refs, the simulator backend, a logged-in root session and the
// real dispatcher. No sockets.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "classes/api/call.h"
#include "classes/api/handlers.h"
#include "classes/events/event_hub.h"
#include "classes/host/bootstrap.h"
#include "classes/vm/vm_events.h"
#include "hypervisor-backend/simulator/sim_backend.h"
#include "xenapi-server/auth.h"
#include "xenapi-server/dispatcher.h"
#include "xenapi-server/sessions.h"

namespace xenapi::testing {

// A fresh temporary folder, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "xenapi-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline constexpr const char* kRootPassword = "test-root-password";

class Harness {
 public:
  // The event log size and hub options default to those of Events.
  explicit Harness(bool bootstrap = true, size_t event_log_size = EventLog::kDefaultMaxEntries,
                   EventHubOptions hub_options = {})
      : store_(dm::Datamodel::standard(), counting_ids()),
        backend_(hv::SimConfig{"testhost", dir_.path() + "/sr-local"}),
        auth_(make_auth(dir_)),
        events_(store_, event_log_size, hub_options),
        env_{store_, backend_, ProductInfo{}, "", "127.0.0.1", nullptr, nullptr, &events_},
        sessions_(env_, *auth_, SessionOptions{std::chrono::milliseconds(10)}),
        dispatcher_(env_, sessions_) {
    env_.sessions = &sessions_;
    install_derivations(store_);
    if (bootstrap) env_.this_host = bootstrap_host(env_);
    vm::install_backend_events(env_);
    session_ = value(raw("session.login_with_password", {Value("root"), Value(kRootPassword)})).str();
  }

  Store& store() { return store_; }
  Env& env() { return env_; }
  Sessions& sessions() { return sessions_; }
  Dispatcher& dispatcher() { return dispatcher_; }
  Events& events() { return events_; }
  hv::SimBackend& backend() { return backend_; }
  const dm::Datamodel& model() const { return store_.model(); }
  const std::string& session() const { return session_; }
  const std::string& dir() const { return dir_.path(); }

  // Calls exactly as a client would (no session added).
  Response raw(const std::string& method, std::vector<Value> params) {
    Request r;
    r.method = method;
    r.params = std::move(params);
    return dispatcher_.call(std::move(r));
  }
  // Calls with the root session first; returns the response.
  Response call(const std::string& method, std::vector<Value> params = {}) {
    params.insert(params.begin(), Value(session_));
    return raw(method, std::move(params));
  }
  // Calls with the root session and expects success.
  Value ok(const std::string& method, std::vector<Value> params = {}) { return value(call(method, std::move(params))); }
  // Calls with the root session and expects failure; returns [code, params...].
  std::vector<std::string> fail(const std::string& method, std::vector<Value> params = {}) {
    Response r = call(method, std::move(params));
    EXPECT_EQ(r.kind, Response::Kind::Failure) << method << " succeeded unexpectedly";
    return r.error;
  }

  static Value value(const Response& r) {
    if (r.kind == Response::Kind::Failure) {
      std::string d;
      for (const auto& s : r.error) d += s + " ";
      ADD_FAILURE() << "call failed: " << d;
      return Value();
    }
    if (r.kind == Response::Kind::Plain) return r.plain;
    return r.result.to_value();
  }

 private:
  static std::unique_ptr<Auth> make_auth(const TempDir& dir) {
    std::string pw = dir.path() + "/root-password";
    std::ofstream(pw) << kRootPassword << "\n";
    return std::make_unique<Auth>(AuthConfig{dir.path(), pw, "", 1000});
  }

  TempDir dir_;
  Store store_;
  hv::SimBackend backend_;
  std::unique_ptr<Auth> auth_;
  Events events_;
  Env env_;
  Sessions sessions_;
  Dispatcher dispatcher_;
  std::string session_;
};

// Builds a Map value from (key, value) pairs.
inline Value map_of(std::vector<std::pair<std::string, Value>> kv) {
  Map m;
  for (auto& [k, v] : kv) m.emplace_back(Value(k), std::move(v));
  return Value(std::move(m));
}

}  // namespace xenapi::testing
