// Dispatch of XenAPI calls: checks, coercion, handlers, Async tasks.
#include "xenapi-server/dispatcher.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <future>
#include <optional>
#include <set>

#include "classes/api/handlers.h"
#include "classes/task/task.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi {

namespace {

using K = dm::Type::Kind;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  errno = 0;
  long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  out = static_cast<int64_t>(v);
  return true;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    char32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

std::string short_value(const Value& v) {
  if (v.is_string()) return v.str();
  return v.debug_string();
}


}  // namespace

Value coerce(const dm::Datamodel& model, const dm::Type& t, Value v, const std::string& name) {
  auto type_error = [&]() { return err::FIELD_TYPE_ERROR(name); };
  switch (t.kind) {
    case K::String:
    case K::Ref:
      if (!v.is_string()) throw type_error();
      if (!valid_utf8(v.str())) throw err::INVALID_VALUE("Invalid UTF-8 string in parameter", v.str());
      return v;
    case K::Int: {
      if (v.is_int()) return v;
      int64_t i;
      if (v.is_string() && parse_int(v.str(), i)) return Value(i);
      if (v.is_float() && std::isfinite(v.real()) && v.real() == std::trunc(v.real()) && std::fabs(v.real()) < 9.2e18)
        return Value(static_cast<int64_t>(v.real()));
      throw type_error();
    }
    case K::Float: {
      if (v.is_float()) return v;
      if (v.is_int()) return Value(static_cast<double>(v.integer()));
      if (v.is_string() && !v.str().empty()) {
        char* end = nullptr;
        double d = std::strtod(v.str().c_str(), &end);
        if (end && *end == 0) return Value(d);
      }
      throw type_error();
    }
    case K::Bool:
      if (v.is_bool()) return v;
      throw type_error();
    case K::DateTime: {
      if (v.is_datetime()) return v;
      DateTime d;
      if (v.is_string() && parse_datetime(v.str(), d)) return Value(d);
      throw type_error();
    }
    case K::Enum: {
      if (!v.is_string()) throw type_error();
      if (!valid_utf8(v.str())) throw err::INVALID_VALUE("Invalid UTF-8 string in parameter", v.str());
      for (const auto& e : t.enumeration->values)
        if (e == v.str()) return v;
      std::string l = lower(v.str());
      for (const auto& e : t.enumeration->values)
        if (lower(e) == l) return Value(e);
      throw err::INVALID_VALUE(name, v.str());
    }
    case K::Set:
    case K::Option: {
      if (!v.is_array()) throw type_error();
      Array out;
      out.reserve(v.arr().size());
      for (auto& x : v.arr()) out.push_back(coerce(model, *t.elem, std::move(x), name));
      if (t.kind == K::Option && out.size() > 1) throw type_error();
      return Value(std::move(out));
    }
    case K::Map: {
      if (!v.is_map()) throw type_error();
      Map out;
      out.reserve(v.map().size());
      for (auto& [k, x] : v.map()) {
        Value key = coerce(model, *t.elem, std::move(k), name);
        out.emplace_back(std::move(key), coerce(model, *t.value, std::move(x), name));
      }
      return Value(std::move(out));
    }
    case K::Record: {
      if (!v.is_map()) throw type_error();
      const dm::Class* c = model.cls(t.name);
      if (!c) return v;  // a plain struct type
      Map out;
      for (auto& [k, x] : v.map()) {
        if (!k.is_string()) continue;
        const dm::Field* f = c->field(k.str());
        if (!f || !f->in_constructor() || x.is_null()) continue;  // unknown keys are ignored
        out.emplace_back(k, coerce(model, f->type, std::move(x), f->name));
      }
      return Value(std::move(out));
    }
    case K::AnyRecord:
    case K::EventBatch:
    case K::Void:
      return v;
  }
  return v;
}

Response Response::success(Result r) {
  Response x;
  x.kind = Kind::Success;
  x.result = std::move(r);
  return x;
}

Response Response::failure(std::vector<std::string> d) {
  Response x;
  x.kind = Kind::Failure;
  x.error = std::move(d);
  return x;
}

struct Dispatcher::Prepared {
  const dm::Message* msg = nullptr;
  std::string task;    // the task of an Async call
  std::string called;  // name as called (alias spelling kept)
  std::vector<Value> args;
  std::shared_ptr<const Principal> who;
  bool async = false;
};

Dispatcher::Dispatcher(Env& env, Sessions& sessions, DispatcherOptions opts)
    : env_(env), sessions_(sessions), pool_(opts.workers, opts.max_queue) {
  for (const auto& c : env_.store.model().classes())
    for (const auto& m : c->messages)
      if (m.implemented && !m.life.is_removed()) method_names_.push_back(m.wire_name);
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::stop() { pool_.stop(); }

bool Dispatcher::prepare(Request& req, Response& immediate, Prepared& p) {
  const dm::Datamodel& model = env_.store.model();
  const std::string& method = req.method;

  if (method == "system.listMethods") {
    Array names;
    names.reserve(method_names_.size());
    for (const auto& n : method_names_) names.emplace_back(n);
    immediate.kind = Response::Kind::Plain;
    immediate.plain = Value(std::move(names));
    return false;
  }

  std::string name = method;
  if (name.rfind("Async.", 0) == 0) {
    p.async = true;
    name = name.substr(6);
  }
  const dm::Message* msg = model.message(name);
  if (msg && p.async && msg->wire_name != name) msg = nullptr;  // Class_message is sync only
  if (!msg) {
    // As xapi: with arguments, an unknown name is first checked for a session.
    if (!req.params.empty() && req.params[0].is_string() && !sessions_.check(req.params[0].str())) {
      immediate = Response::failure(err::SESSION_INVALID(req.params[0].str()));
      return false;
    }
    immediate = Response::failure(err::MESSAGE_METHOD_UNKNOWN(method));
    return false;
  }
  if (p.async && !msg->async) {
    immediate = Response::failure({"Fault", "No async mode for this operation (rpc: " + name + ")"});
    return false;
  }
  p.msg = msg;
  p.called = name;

  size_t first = 0;
  if (msg->session) {
    if (req.params.empty()) {
      immediate = Response::failure(err::MESSAGE_PARAMETER_COUNT_MISMATCH(name, msg->required_params, -1));
      return false;
    }
    const Value& s = req.params[0];
    p.who = s.is_string() ? sessions_.check(s.str()) : nullptr;
    if (!p.who) {
      immediate = Response::failure(err::SESSION_INVALID(short_value(s)));
      return false;
    }
    first = 1;
  }
  if (msg->life.is_removed()) {
    immediate = Response::failure(err::MESSAGE_REMOVED());
    return false;
  }

  const size_t given = req.params.size() - first;
  const size_t total = msg->params.size();
  const size_t required = msg->required_params;
  if (required == total ? given != total : given < required) {
    immediate = Response::failure(err::MESSAGE_PARAMETER_COUNT_MISMATCH(name, required, given));
    return false;
  }

  try {
    p.args.reserve(total);
    for (size_t i = 0; i < total; ++i) {
      const dm::Param& param = msg->params[i];
      if (i < given) p.args.push_back(coerce(model, param.type, std::move(req.params[first + i]), param.name));
      else p.args.push_back(*param.default_value);
    }

    dm::Role needed = msg->role;
    std::string permission = lower(msg->wire_name);
    if ((msg->kind == dm::MessageKind::AddToMap || msg->kind == dm::MessageKind::RemoveFromMap) && msg->field &&
        p.args[1].is_string()) {
      if (auto r = msg->field->key_role(p.args[1].str())) {
        needed = *r;
        permission += "/key:" + lower(p.args[1].str());
      }
    }
    if (p.who && !p.who->may(needed)) {
      std::string roles;
      for (dm::Role r : {dm::Role::PoolAdmin, dm::Role::PoolOperator, dm::Role::VmPowerAdmin, dm::Role::VmAdmin,
                         dm::Role::VmOperator, dm::Role::ReadOnly}) {
        if (static_cast<int>(r) < static_cast<int>(needed) || needed == dm::Role::LocalRoot) continue;
        roles += std::string(roles.empty() ? "" : ", ") + dm::role_name(r);
      }
      throw err::RBAC_PERMISSION_DENIED(permission, "No permission in user session. (Roles with this permission: " +
                                                        (roles.empty() ? std::string("local root only") : roles) + ")");
    }
    if (!msg->implemented) throw err::NOT_IMPLEMENTED(msg->wire_name);

    // References are checked now for a synchronous call, inside the task for Async.
    if (!p.async) check_refs(p);
  } catch (const ApiError& e) {
    immediate = Response::failure(e);
    return false;
  }
  return true;
}

// The object a message is about must exist; other refs may be NULL.
void Dispatcher::check_refs(const Prepared& p) const {
  const dm::Datamodel& model = env_.store.model();
  const dm::Message* msg = p.msg;
  env_.store.read([&](const View& v) {
    bool self_seen = false;
    for (size_t i = 0; i < msg->params.size(); ++i) {
      const dm::Type& t = msg->params[i].type;
      if (!t.is(K::Ref)) continue;
      const std::string& ref = p.args[i].str();
      bool is_self = !self_seen && t.name == msg->cls->name;
      if (is_self) self_seen = true;
      if (!is_self && ref == dm::kNullRef) continue;
      const dm::Class* target = model.cls(t.name);
      if (!target || !target->db_class || !v.exists(*target, ref)) throw err::HANDLE_INVALID(t.name, ref);
    }
  });
}

std::optional<Response> Dispatcher::execute(Prepared& p, const Origin& origin, const Done& done) {
  Call call(env_, *p.msg, p.who.get(), &origin);
  call.task = p.task;
  if (done) {
    call.set_deferral(Deferral{[done](Result r) { (*done)(Response::success(std::move(r))); },
                               [done](const ApiError& e) { (*done)(Response::failure(e)); }});
  }
  try {
    Result r;
    if (p.msg->kind == dm::MessageKind::Explicit) {
      const HandlerEntry* h = Handlers::global().find(p.msg->wire_name);
      if (!h) throw err::NOT_IMPLEMENTED(p.msg->wire_name);
      r = h->fn(call, p.args);
    } else {
      r = run_implicit(call, p.args);
    }
    if (call.deferred()) return std::nullopt;
    return Response::success(std::move(r));
  } catch (const ApiError& e) {
    if (call.deferred()) return std::nullopt;  // the deferral owns the answer
    return Response::failure(e);
  } catch (const std::exception& e) {
    if (call.deferred()) return std::nullopt;
    return Response::failure(err::INTERNAL_ERROR(e.what()));
  }
}

Response Dispatcher::execute_now(Prepared& p, const Origin& origin) {
  return *execute(p, origin, nullptr);
}

namespace {

// Operations that look for cancellation while they run.
bool cancellable(const std::string& wire_name) {
  static const std::set<std::string> ops = {"VM.start", "VM.start_on", "VM.clone", "VM.copy", "VM.snapshot",
                                             "VM.checkpoint", "VM.provision", "VDI.copy", "VDI.clone", "VDI.snapshot"};
  return ops.count(wire_name) > 0;
}

}  // namespace

Response Dispatcher::start_async(Prepared& p, const Origin& origin) {
  try {
    Call call(env_, *p.msg, p.who.get(), &origin);
    p.task = create_task(call, "Async." + p.msg->wire_name, "", cancellable(p.msg->wire_name));
  } catch (const ApiError& e) {
    return Response::failure(e);
  }
  const std::string task = p.task;
  auto job = [this, p = std::move(p), origin, task]() mutable {
    Store& store = env_.store;
    if (store.read([&](const View& v) { return cancel_requested(v, task); })) {
      finish_task(store, task, "cancelled", "", err::TASK_CANCELLED(task).description());
      return;
    }
    Response r;
    try {
      check_refs(p);
      r = execute_now(p, origin);
    } catch (const ApiError& e) {
      r = Response::failure(e);
    }
    if (r.kind == Response::Kind::Success) {
      finish_task(store, task, "success", xmlrpc::value_fragment(r.result), {});
    } else {
      bool cancelled = !r.error.empty() && r.error.front() == "TASK_CANCELLED";
      finish_task(store, task, cancelled ? "cancelled" : "failure", "", r.error);
    }
  };
  if (!pool_.submit(std::move(job))) {
    env_.store.write([&](Txn& t) { t.destroy(env_.store.cls("task"), task); });
    return Response::failure(err::TOO_MANY_PENDING_TASKS());
  }
  return Response::success(Result(Value(task)));
}

void Dispatcher::dispatch(Request req, std::function<void(Response)> done) {
  Response immediate;
  auto p = std::make_shared<Prepared>();
  if (!prepare(req, immediate, *p)) {
    done(std::move(immediate));
    return;
  }
  if (p->async) {
    done(start_async(*p, req.origin));
    return;
  }
  auto shared_done = std::make_shared<std::function<void(Response)>>(std::move(done));
  auto run = [this, p, origin = std::move(req.origin), shared_done]() mutable {
    if (auto r = execute(*p, origin, shared_done)) (*shared_done)(std::move(*r));
  };
  if (!p->msg->blocking) {
    run();
    return;
  }
  if (!pool_.submit(std::move(run))) (*shared_done)(Response::failure(err::TOO_MANY_PENDING_TASKS()));
}

Response Dispatcher::call(Request req) {
  Response immediate;
  Prepared p;
  if (!prepare(req, immediate, p)) return immediate;
  if (p.async) return start_async(p, req.origin);
  return execute_now(p, req.origin);
}

}  // namespace xenapi
