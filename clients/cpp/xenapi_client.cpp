// XML-RPC client transport and value conversion.
#include "clients/cpp/xenapi_client.h"

#include <xmlrpc-c/client.hpp>
#include <xmlrpc-c/client_transport.hpp>

#include <ctime>
#include <map>

namespace xenapi::client {

namespace {

xmlrpc_c::value to_xmlrpc(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: return xmlrpc_c::value_nil();
    case Value::Kind::String: return xmlrpc_c::value_string(v.str());
    case Value::Kind::Int: return xmlrpc_c::value_i8(v.integer());
    case Value::Kind::Float: return xmlrpc_c::value_double(v.real());
    case Value::Kind::Bool: return xmlrpc_c::value_boolean(v.boolean());
    case Value::Kind::DateTime: return xmlrpc_c::value_datetime(static_cast<time_t>(v.datetime().seconds));
    case Value::Kind::Array: {
      std::vector<xmlrpc_c::value> items;
      for (const auto& x : v.arr()) items.push_back(to_xmlrpc(x));
      return xmlrpc_c::value_array(items);
    }
    case Value::Kind::Map: {
      std::map<std::string, xmlrpc_c::value> members;
      for (const auto& [k, x] : v.map())
        members[k.is_string() ? k.str() : k.is_int() ? std::to_string(k.integer()) : k.debug_string()] = to_xmlrpc(x);
      return xmlrpc_c::value_struct(members);
    }
  }
  return xmlrpc_c::value_nil();
}

Value from_xmlrpc(const xmlrpc_c::value& v) {
  switch (v.type()) {
    case xmlrpc_c::value::TYPE_INT: return Value(static_cast<int64_t>(static_cast<int>(xmlrpc_c::value_int(v))));
    case xmlrpc_c::value::TYPE_I8: return Value(static_cast<int64_t>(static_cast<xmlrpc_int64>(xmlrpc_c::value_i8(v))));
    case xmlrpc_c::value::TYPE_BOOLEAN: return Value(static_cast<bool>(xmlrpc_c::value_boolean(v)));
    case xmlrpc_c::value::TYPE_DOUBLE: return Value(static_cast<double>(xmlrpc_c::value_double(v)));
    case xmlrpc_c::value::TYPE_DATETIME:
      return Value(DateTime{static_cast<int64_t>(static_cast<time_t>(xmlrpc_c::value_datetime(v)))});
    case xmlrpc_c::value::TYPE_STRING: return Value(static_cast<std::string>(xmlrpc_c::value_string(v)));
    case xmlrpc_c::value::TYPE_ARRAY: {
      Array a;
      for (const auto& x : xmlrpc_c::value_array(v).vectorValueValue()) a.push_back(from_xmlrpc(x));
      return Value(std::move(a));
    }
    case xmlrpc_c::value::TYPE_STRUCT: {
      Map m;
      std::map<std::string, xmlrpc_c::value> members = xmlrpc_c::value_struct(v);
      for (const auto& [k, x] : members) m.emplace_back(Value(k), from_xmlrpc(x));
      return Value(std::move(m));
    }
    default: return Value();
  }
}

std::string join(const std::vector<std::string>& xs) {
  std::string s;
  for (const auto& x : xs) s += (s.empty() ? "" : " ") + x;
  return s;
}

}  // namespace

Failure::Failure(std::vector<std::string> details)
    : std::runtime_error(join(details)), details_(std::move(details)) {}

struct Session::Impl {
  xmlrpc_c::clientXmlTransport_curl transport;
  xmlrpc_c::client_xml client{&transport};
};

Session::Session(std::string url) : impl_(new Impl), url_(std::move(url)) {}

Session::~Session() {
  try {
    if (!session_.empty()) logout();
  } catch (...) {
  }
  delete impl_;
}

Value Session::call_raw(const std::string& method, const std::vector<Value>& args) {
  xmlrpc_c::paramList params;
  for (const auto& a : args) params.add(to_xmlrpc(a));
  xmlrpc_c::rpcPtr rpc(method, params);
  xmlrpc_c::carriageParm_curl0 carriage(url_);
  rpc->call(&impl_->client, &carriage);
  Value result = from_xmlrpc(rpc->getResult());
  if (!result.is_map()) return result;
  const Value* status = result.find("Status");
  if (!status) return result;
  if (status->is_string() && status->str() == "Success") {
    const Value* v = result.find("Value");
    return v ? *v : Value();
  }
  std::vector<std::string> details;
  if (const Value* d = result.find("ErrorDescription"); d && d->is_array())
    for (const auto& x : d->arr()) details.push_back(x.is_string() ? x.str() : x.debug_string());
  throw Failure(std::move(details));
}

void Session::login(const std::string& user, const std::string& password, const std::string& originator) {
  Value r = call_raw("session.login_with_password", {Value(user), Value(password), Value("2.21"), Value(originator)});
  session_ = r.str();
}

void Session::logout() {
  if (session_.empty()) return;
  std::string s = std::move(session_);
  session_.clear();
  call_raw("session.logout", {Value(s)});
}

Value Session::call(const std::string& method, std::vector<Value> args) {
  args.insert(args.begin(), Value(session_));
  return call_raw(method, args);
}

}  // namespace xenapi::client
