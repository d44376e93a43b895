// What a message handler sees: the environment (store, backend, this host),
// the message being run, the caller, and the shape of its result.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "classes/datamodel/datamodel.h"
#include "classes/errors.h"
#include "classes/store/store.h"
#include "hypervisor-backend/backend.h"

namespace xenapi {

struct EventBatch;
struct Events;

// The authenticated caller of a message.
struct Principal {
  std::string session;     // session ref
  std::string user;        // "root", or a name from the users file
  dm::Role role = dm::Role::ReadOnly;
  bool local_superuser = false;  // bypasses RBAC, like xapi's local root

  bool may(dm::Role needed) const {
    if (local_superuser) return true;
    return needed != dm::Role::LocalRoot && static_cast<int>(role) >= static_cast<int>(needed);
  }
};

// Product identity reported in host.software_version and friends.
struct ProductInfo {
  std::string name = "xenapi-server";
  std::string version = "0.1.0";
  std::string brand = "xenapi-server";
  std::string platform_name = "XCP";
  std::string platform_version = "3.4.0";
  std::string product_version = "8.4.0";
  std::string build_number = "0";
  int64_t api_major = 2;
  int64_t api_minor = 21;
};

// Where a call came from.
struct Origin {
  enum class Transport : uint8_t { Internal, Http, Https, Unix };
  Transport transport = Transport::Internal;
  std::string peer;        // "127.0.0.1:51234"
  std::string originator;  // "originator" header, if any
  std::string user_agent;
};

class Call;

// Authentication and session lifetime, provided by the server layer.
class SessionService {
 public:
  virtual ~SessionService() = default;
  // Authenticates and creates a session; throws SESSION_AUTHENTICATION_FAILED
  // (after a delay) for bad credentials.
  virtual std::string login(Call& call, const std::string& uname, const std::string& pwd,
                            const std::string& originator) = 0;
  // Destroys a session and everything waiting on it.
  virtual void logout(Call& call, const std::string& session) = 0;
  // Changes the password of the caller's user (root: the root password).
  virtual void change_password(Call& call, const std::string& old_pwd, const std::string& new_pwd) = 0;
};

// Runs work later without holding a thread (delayed failures, long polls).
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

// Long-lived services shared by every call.
struct Env {
  Store& store;
  hv::HypervisorBackend& backend;
  ProductInfo product;
  std::string this_host;  // ref of the host this server runs on (after bootstrap)
  std::string address;    // management address clients use to reach us
  SessionService* sessions = nullptr;
  Scheduler* scheduler = nullptr;  // null: delays block the calling thread
  Events* events = nullptr;        // event log and waiting calls
};

// The result of a message. Records are encoded straight from store objects.
struct Result {
  // Deferred: the handler will answer later through Call::defer().
  // Events: an event.from batch {events, valid_ref_counts, token}, or (with
  // event_list) just the events array of event.next.
  enum class Shape : uint8_t { Value, Record, RecordMap, Deferred, Events };
  Shape shape = Shape::Value;
  Value value;
  const dm::Class* cls = nullptr;
  std::vector<ObjectPtr> objects;
  std::shared_ptr<const EventBatch> batch;
  bool event_list = false;

  Result() : value(std::string()) {}  // void
  Result(Value v) : value(std::move(v)) {}
  static Result record(const dm::Class& c, ObjectPtr o) {
    Result r;
    r.shape = Shape::Record;
    r.cls = &c;
    r.objects.push_back(std::move(o));
    return r;
  }
  // A (ref -> record) map.
  static Result records(const dm::Class& c, std::vector<ObjectPtr> os) {
    Result r;
    r.shape = Shape::RecordMap;
    r.cls = &c;
    r.objects = std::move(os);
    return r;
  }
  static Result events(std::shared_ptr<const EventBatch> b, bool list_only = false) {
    Result r;
    r.shape = Shape::Events;
    r.batch = std::move(b);
    r.event_list = list_only;
    return r;
  }
  static Result deferred() {
    Result r;
    r.shape = Shape::Deferred;
    return r;
  }
  // Materialises a record result as a plain Value (tests, async results).
  Value to_value() const;
};

// A record (published fields, by wire name) as a plain map Value.
Value record_value(const dm::Class& c, const Object& o);

// How a deferred call is finished: exactly one of the two, exactly once.
struct Deferral {
  std::function<void(Result)> ok;
  std::function<void(const ApiError&)> fail;
};

class Call {
 public:
  Call(Env& env, const dm::Message& msg, const Principal* who, const Origin* origin = nullptr)
      : env_(env), msg_(msg), who_(who), origin_(origin) {}

  Env& env() { return env_; }
  Store& store() { return env_.store; }
  const dm::Datamodel& model() const { return env_.store.model(); }
  const dm::Class& cls(std::string_view name) const { return env_.store.cls(name); }
  const dm::Message& message() const { return msg_; }
  const Principal* who() const { return who_; }
  // nullptr for calls made inside the server.
  const Origin* origin() const { return origin_; }
  std::string task;  // set when running as an Async task

  // Long operations report progress (0.0 .. 1.0) to their task, if any.
  void progress(double fraction);
  // Throws TASK_CANCELLED [task] once the caller has asked to cancel.
  void check_cancelled();
  // A stable key for this call in current_operations: the task ref, or a
  // fresh ref-like id for synchronous calls.
  const std::string& operation_key();

  // Whether this call may answer later instead of blocking its thread.
  bool can_defer() const { return static_cast<bool>(deferral_.ok); }
  // Takes over the answer: the handler returns Result::deferred() and calls
  // one of the returned functions later, from any thread.
  Deferral defer() {
    deferred_ = true;
    return deferral_;
  }
  bool deferred() const { return deferred_; }
  void set_deferral(Deferral d) { deferral_ = std::move(d); }

 private:
  Env& env_;
  const dm::Message& msg_;
  const Principal* who_;
  const Origin* origin_;
  Deferral deferral_;
  bool deferred_ = false;
  std::string op_key_;
};

}  // namespace xenapi
