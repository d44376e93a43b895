// The dispatcher: every cross-cutting rule of a XenAPI call, in one place and
// driven by the datamodel. In order: method lookup (Class.message,
// Class_message, Async.), session check, removed messages, arity, argument
// types, RBAC, not-implemented, reference validity, then the handler - inline
// for quick calls, on a worker for blocking ones, as a task for Async.
// Transports (XML-RPC, JSON-RPC) only decode requests and encode Responses.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classes/api/call.h"
#include "classes/errors.h"
#include "xenapi-server/sessions.h"
#include "xenapi-server/thread_pool.h"

namespace xenapi {

struct Request {
  std::string method;
  std::vector<Value> params;
  Origin origin;
};

struct Response {
  enum class Kind : uint8_t { Success, Failure, Plain };
  Kind kind = Kind::Success;
  Result result;                   // Success
  std::vector<std::string> error;  // Failure: [code, params...]
  Value plain;                     // Plain: unwrapped value (system.listMethods)

  static Response success(Result r);
  static Response failure(std::vector<std::string> d);
  static Response failure(const ApiError& e) { return failure(e.description()); }
};

struct DispatcherOptions {
  size_t workers = 16;        // threads for blocking and Async calls
  size_t max_queue = 10000;   // queued jobs beyond this are refused
};

class Dispatcher {
 public:
  Dispatcher(Env& env, Sessions& sessions, DispatcherOptions opts = {});
  ~Dispatcher();

  // Runs a call; `done` is called exactly once, possibly on a worker thread.
  void dispatch(Request req, std::function<void(Response)> done);
  // Runs a call to completion on the calling thread.
  Response call(Request req);

  // Every callable synchronous wire name, for system.listMethods.
  const std::vector<std::string>& method_names() const { return method_names_; }
  void stop();

 private:
  struct Prepared;
  // Either an immediate response, or a call ready to run.
  bool prepare(Request& req, Response& immediate, Prepared& out);
  using Done = std::shared_ptr<std::function<void(Response)>>;
  // Runs the handler; with `done`, the handler may defer and nullopt is returned.
  std::optional<Response> execute(Prepared& p, const Origin& origin, const Done& done);
  Response execute_now(Prepared& p, const Origin& origin);
  void check_refs(const Prepared& p) const;
  Response start_async(Prepared& p, const Origin& origin);

  Env& env_;
  Sessions& sessions_;
  ThreadPool pool_;
  std::vector<std::string> method_names_;
};

// Converts a wire value to the declared type: ints from digit strings, floats
// from ints, datetimes from strings, enums by name, records restricted to
// their constructor fields. Throws FIELD_TYPE_ERROR [name] or
// INVALID_VALUE [name, value].
Value coerce(const dm::Datamodel& model, const dm::Type& t, Value v, const std::string& name);

}  // namespace xenapi
