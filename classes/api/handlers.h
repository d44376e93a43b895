// Handlers of explicit messages, written as ordinary typed C++ functions and
// registered next to their code:
//
//   XENAPI_HANDLER("VM.get_possible_hosts",
//                  [](Call& c, const Ref& vm) -> std::vector<Ref> { ... });
//
// Arguments arrive already checked against the declaration (types, arity,
// refs); the adapter converts them to the C++ parameter types, and the
// start-up check (Handlers::check) fails if a declared message and its
// handler disagree on types, if an implemented message has no handler, or if
// a handler has no declaration. Per-class hooks let classes add rules to the
// implicit create/destroy/set messages.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "classes/api/call.h"
#include "classes/errors.h"

namespace xenapi {

// A reference argument or result: any class.
struct Ref {
  std::string ref;
  Ref() = default;
  Ref(std::string r) : ref(std::move(r)) {}
  bool is_null() const { return ref.empty() || ref == dm::kNullRef; }
  friend bool operator==(const Ref& a, const Ref& b) { return a.ref == b.ref; }
};

using StringMap = std::map<std::string, std::string>;

namespace handler_detail {

template <typename T>
struct Conv;  // Value <-> T and the declared types T may stand for

template <>
struct Conv<Value> {
  static bool fits(const dm::Type&) { return true; }
  static Value from(const Value& v) { return v; }
  static Value to(Value v) { return v; }
};
template <>
struct Conv<std::string> {
  static bool fits(const dm::Type& t) {
    return t.is(dm::Type::Kind::String) || t.is(dm::Type::Kind::Enum) || t.is(dm::Type::Kind::Ref);
  }
  static std::string from(const Value& v) { return v.str(); }
  static Value to(std::string s) { return Value(std::move(s)); }
};
template <>
struct Conv<Ref> {
  static bool fits(const dm::Type& t) { return t.is(dm::Type::Kind::Ref); }
  static Ref from(const Value& v) { return Ref(v.str()); }
  static Value to(Ref r) { return Value(std::move(r.ref)); }
};
template <>
struct Conv<int64_t> {
  static bool fits(const dm::Type& t) { return t.is(dm::Type::Kind::Int); }
  static int64_t from(const Value& v) { return v.integer(); }
  static Value to(int64_t i) { return Value(i); }
};
template <>
struct Conv<double> {
  static bool fits(const dm::Type& t) { return t.is(dm::Type::Kind::Float); }
  static double from(const Value& v) { return v.real(); }
  static Value to(double d) { return Value(d); }
};
template <>
struct Conv<bool> {
  static bool fits(const dm::Type& t) { return t.is(dm::Type::Kind::Bool); }
  static bool from(const Value& v) { return v.boolean(); }
  static Value to(bool b) { return Value(b); }
};
template <>
struct Conv<DateTime> {
  static bool fits(const dm::Type& t) { return t.is(dm::Type::Kind::DateTime); }
  static DateTime from(const Value& v) { return v.datetime(); }
  static Value to(DateTime d) { return Value(d); }
};
template <>
struct Conv<StringMap> {
  static bool fits(const dm::Type& t) {
    return t.is(dm::Type::Kind::Map) && Conv<std::string>::fits(*t.elem) && Conv<std::string>::fits(*t.value);
  }
  static StringMap from(const Value& v) {
    StringMap m;
    for (const auto& [k, x] : v.map()) m[k.str()] = x.str();
    return m;
  }
  static Value to(const StringMap& m) {
    Map out;
    for (const auto& [k, x] : m) out.emplace_back(Value(k), Value(x));
    return Value(std::move(out));
  }
};
template <typename T>
struct Conv<std::vector<T>> {
  static bool fits(const dm::Type& t) { return t.is(dm::Type::Kind::Set) && Conv<T>::fits(*t.elem); }
  static std::vector<T> from(const Value& v) {
    std::vector<T> out;
    for (const auto& x : v.arr()) out.push_back(Conv<T>::from(x));
    return out;
  }
  static Value to(std::vector<T> xs) {
    Array a;
    for (auto& x : xs) a.push_back(Conv<T>::to(std::move(x)));
    return Value(std::move(a));
  }
};

template <typename T>
using Bare = std::remove_cv_t<std::remove_reference_t<T>>;

template <typename F>
struct Traits : Traits<decltype(&F::operator())> {};
template <typename C, typename R, typename... A>
struct Traits<R (C::*)(Call&, A...) const> {
  using Result = R;
  using Args = std::tuple<Bare<A>...>;
};
template <typename R, typename... A>
struct Traits<R (*)(Call&, A...)> {
  using Result = R;
  using Args = std::tuple<Bare<A>...>;
};

}  // namespace handler_detail

using HandlerFn = std::function<Result(Call&, std::vector<Value>&)>;

struct HandlerEntry {
  std::string wire_name;
  HandlerFn fn;
  // Checks the declaration against the C++ signature; returns "" if they fit.
  std::function<std::string(const dm::Message&)> check;
  std::string where;  // file:line
};

class Handlers {
 public:
  static Handlers& global();
  void add(HandlerEntry e);
  const HandlerEntry* find(std::string_view wire_name) const;
  // Problems between the declarations and the registered handlers; empty if none.
  std::vector<std::string> check(const dm::Datamodel& model) const;

 private:
  std::map<std::string, HandlerEntry, std::less<>> entries_;
};

template <typename F>
HandlerEntry make_handler(std::string wire_name, F f, std::string where) {
  using namespace handler_detail;
  using Tr = Traits<std::decay_t<F>>;
  using Args = typename Tr::Args;
  using R = typename Tr::Result;
  constexpr size_t n = std::tuple_size_v<Args>;
  HandlerEntry e;
  e.wire_name = std::move(wire_name);
  e.where = std::move(where);
  e.fn = [f](Call& call, std::vector<Value>& args) -> Result {
    return [&]<size_t... I>(std::index_sequence<I...>) -> Result {
      if constexpr (std::is_void_v<R>) {
        f(call, Conv<std::tuple_element_t<I, Args>>::from(args[I])...);
        return Result();
      } else if constexpr (std::is_same_v<R, Result>) {
        return f(call, Conv<std::tuple_element_t<I, Args>>::from(args[I])...);
      } else {
        return Result(Conv<R>::to(f(call, Conv<std::tuple_element_t<I, Args>>::from(args[I])...)));
      }
    }(std::make_index_sequence<n>{});
  };
  e.check = [](const dm::Message& m) -> std::string {
    if (m.params.size() != n)
      return "declared with " + std::to_string(m.params.size()) + " parameters, handler takes " +
             std::to_string(n);
    std::string problem;
    [&]<size_t... I>(std::index_sequence<I...>) {
      ((problem.empty() && !Conv<std::tuple_element_t<I, Args>>::fits(m.params[I].type)
            ? (problem = "parameter " + m.params[I].name + " (" + m.params[I].type.to_string() +
                         ") does not fit the handler's C++ type")
            : problem),
       ...);
    }(std::make_index_sequence<n>{});
    if (!problem.empty()) return problem;
    if constexpr (std::is_void_v<R>) {
      if (!m.result.is(dm::Type::Kind::Void)) return "handler returns void, declared " + m.result.to_string();
    } else if constexpr (!std::is_same_v<R, Result>) {
      if (!Conv<R>::fits(m.result)) return "result " + m.result.to_string() + " does not fit the handler";
    }
    return "";
  };
  return e;
}

struct HandlerRegistration {
  template <typename F>
  HandlerRegistration(const char* wire_name, F f, const char* file, int line) {
    Handlers::global().add(make_handler(wire_name, std::move(f), std::string(file) + ":" + std::to_string(line)));
  }
};

#define XENAPI_CONCAT_(a, b) a##b
#define XENAPI_CONCAT(a, b) XENAPI_CONCAT_(a, b)
#define XENAPI_HANDLER(wire_name, ...) \
  static const ::xenapi::HandlerRegistration XENAPI_CONCAT(xenapi_handler_, __LINE__)(wire_name, __VA_ARGS__, __FILE__, __LINE__)

// Rules a class adds to its implicit create/destroy/set messages. All run
// inside the write transaction; throwing an ApiError aborts it.
struct ClassHooks {
  // Before the object is stored: validate, complete `values`, create companions.
  std::function<void(Call&, Txn&, std::vector<Value>& values)> before_create;
  // After it is stored (relations are in place).
  std::function<void(Call&, Txn&, const std::string& ref)> after_create;
  // Before it is destroyed: refuse, or destroy what depends on it.
  std::function<void(Call&, Txn&, const ObjectPtr& obj)> before_destroy;
  // After the destroying transaction committed, outside any store lock:
  // release what the object held outside the store (backend domains, files).
  std::function<void(Call&, const ObjectPtr& obj)> after_destroy;
  // Before an implicit setter (set_/add_/remove_/add_to_/remove_from_) writes `next`.
  std::function<void(Call&, Txn&, const ObjectPtr& obj, const dm::Field& f, const Value& next)> before_set;
  // Recomputes derived fields (allowed_operations) of one object; runs inside
  // every transaction that creates or changes an object of the class.
  std::function<void(Txn&, const std::string& ref)> derive;
};

class Hooks {
 public:
  static Hooks& global();
  void add(const std::string& cls, ClassHooks h);
  const ClassHooks* find(const std::string& cls) const;

 private:
  std::map<std::string, ClassHooks> hooks_;
};

struct HooksRegistration {
  HooksRegistration(const char* cls, ClassHooks h) { Hooks::global().add(cls, std::move(h)); }
};
#define XENAPI_CLASS_HOOKS(cls, ...) \
  static const ::xenapi::HooksRegistration XENAPI_CONCAT(xenapi_hooks_, __LINE__)(cls, __VA_ARGS__)

// Makes the store keep every class's derived fields current.
void install_derivations(Store& store);

// Runs an implicit message (getters, setters, get_record, get_all*, create,
// destroy, ...). Arguments are checked and coerced already.
Result run_implicit(Call& call, std::vector<Value>& args);

// Runs create() for class c from a coerced record (wire names -> values):
// fills defaults, rejects missing required fields and invalid refs, runs
// hooks. `fixed` sets any further fields (server-maintained ones). Used by
// the implicit create and by server code.
std::string create_object(Call& call, Txn& txn, const dm::Class& c, const Map& record, const Map& fixed = {});

}  // namespace xenapi
