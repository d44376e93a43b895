// xenapi-cli: call any XenAPI message from the shell and print the result.
//
//   xenapi-cli --url http://127.0.0.1:8080/ --password-file pw VM.get_all_records
//   xenapi-cli ... VM.set_name_label OpaqueRef:... "new name"
//
// Arguments are strings unless prefixed: i:42, f:1.5, b:true, d:20240101T00:00:00Z,
// a map {key=value,key2=value2}, a string set [a,b,c]. The session is added
// automatically except for --no-session calls (system.listMethods).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "clients/cpp/xenapi_client.h"

namespace {

using xenapi::Value;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

Value parse_arg(const std::string& a) {
  auto rest = [&](size_t n) { return a.substr(n); };
  if (a.rfind("i:", 0) == 0) return Value(static_cast<int64_t>(std::stoll(rest(2))));
  if (a.rfind("f:", 0) == 0) return Value(std::stod(rest(2)));
  if (a.rfind("b:", 0) == 0) return Value(rest(2) == "true" || rest(2) == "1");
  if (a.rfind("d:", 0) == 0) {
    xenapi::DateTime d;
    if (!xenapi::parse_datetime(rest(2), d)) throw std::invalid_argument("bad datetime " + a);
    return Value(d);
  }
  if (a.rfind("s:", 0) == 0) return Value(rest(2));
  if (a.size() >= 2 && a.front() == '{' && a.back() == '}') {
    xenapi::Map m;
    for (const auto& kv : split(a.substr(1, a.size() - 2), ',')) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("map entries are key=value: " + kv);
      m.emplace_back(Value(kv.substr(0, eq)), Value(kv.substr(eq + 1)));
    }
    return Value(std::move(m));
  }
  if (a.size() >= 2 && a.front() == '[' && a.back() == ']') {
    xenapi::Array items;
    for (const auto& x : split(a.substr(1, a.size() - 2), ',')) items.emplace_back(x);
    return Value(std::move(items));
  }
  return Value(a);
}

void print(const Value& v, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  switch (v.kind()) {
    case Value::Kind::Array:
      if (v.arr().empty()) {
        std::cout << "[]\n";
        return;
      }
      std::cout << "\n";
      for (const auto& x : v.arr()) {
        std::cout << pad << "- ";
        print(x, indent + 2);
      }
      return;
    case Value::Kind::Map:
      if (v.map().empty()) {
        std::cout << "{}\n";
        return;
      }
      std::cout << "\n";
      for (const auto& [k, x] : v.map()) {
        std::cout << pad << (k.is_string() ? k.str() : k.debug_string()) << ": ";
        print(x, indent + 2);
      }
      return;
    case Value::Kind::String:
      std::cout << v.str() << "\n";
      return;
    default:
      std::cout << v.debug_string() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = "http://127.0.0.1:8080/", user = "root", password, password_file, method;
  std::vector<std::string> args;
  bool no_session = false;
  CLI::App app{"xenapi-cli: call a XenAPI message", "xenapi-cli"};
  app.add_option("--url", url, "Server URL")->capture_default_str();
  app.add_option("--user", user, "User name")->capture_default_str();
  app.add_option("--password", password, "Password");
  app.add_option("--password-file", password_file, "File whose first line is the password");
  app.add_flag("--no-session", no_session, "Do not log in (system.listMethods)");
  app.add_option("method", method, "Class.message, e.g. VM.get_all_records")->required();
  app.add_option("args", args, "Arguments after the session");
  CLI11_PARSE(app, argc, argv);

  if (!password_file.empty()) {
    std::ifstream in(password_file);
    std::getline(in, password);
  }
  try {
    xenapi::client::Session s(url);
    std::vector<Value> values;
    for (const auto& a : args) values.push_back(parse_arg(a));
    Value result;
    if (no_session) {
      result = s.call_raw(method, values);
    } else {
      s.login(user, password, "xenapi-cli");
      result = s.call(method, values);
    }
    print(result, 0);
    return 0;
  } catch (const xenapi::client::Failure& f) {
    std::cerr << "Failure:";
    for (const auto& d : f.details()) std::cerr << " " << d;
    std::cerr << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
