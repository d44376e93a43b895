// JSON-RPC 1.0 and 2.0 codec (POST /jsonrpc). Requests are parsed with
// nlohmann-json; responses are written straight from Values and store
// objects. int64s are JSON integers, datetimes strings, and failures follow
// each version's shape:
//   1.0  {"result": null, "error": ["CODE", "p1", ...], "id": id}
//   2.0  {"jsonrpc": "2.0", "error": {"code": 1, "message": "CODE", "data": [...]}, "id": id}
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "classes/api/call.h"
#include "classes/value.h"

namespace xenapi::jsonrpc {

struct MethodCall {
  std::string method;
  std::vector<Value> params;
  std::string id;  // the request id, re-encoded as JSON (a string or an integer)
  bool v2 = false;
};

// Not a valid JSON-RPC request: bad JSON, missing method, missing or invalid
// id, (1.0) missing params. Answered with an HTTP error.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

MethodCall parse_call(std::string_view body);

void write_success(std::string& out, const MethodCall& call, const Result& r);
void write_failure(std::string& out, const MethodCall& call, const std::vector<std::string>& description);
// A bare result (system.listMethods), never turned into an error shape.
void write_plain(std::string& out, const MethodCall& call, const Value& v);

// JSON text of one value or record (tests, events).
void write_value(std::string& out, const Value& v);
void write_record(std::string& out, const dm::Class& c, const Object& o);

}  // namespace xenapi::jsonrpc
