// XML-RPC wire codec. Requests are parsed with xmlrpc-c; responses are
// written straight from Values and store objects into the output buffer, in
// xapi's compact form: no whitespace between tags, strings and int64s as bare
// <value>text</value>, datetimes as YYYYMMDDTHH:MM:SSZ.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "classes/api/call.h"
#include "classes/value.h"

namespace xenapi::xmlrpc {

struct MethodCall {
  std::string method;
  std::vector<Value> params;
};

// A body that is not a well-formed XML-RPC call (answered with HTTP 400).
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a <methodCall>. Untyped values become strings, <i4>/<int>/<i8>
// ints, <nil/> Null; characters outside the Basic Multilingual Plane and
// RFC 3339 datetimes are accepted (xmlrpc-c alone rejects them).
MethodCall parse_call(std::string_view body);

// {Status: Success, Value: result}
void write_success(std::string& out, const Result& r);
// {Status: Failure, ErrorDescription: [code, params...]}
void write_failure(std::string& out, const std::vector<std::string>& description);
// An unwrapped single-value response (system.listMethods).
void write_plain(std::string& out, const Value& v);

// <value>...</value> of one value / record (async task results, tests).
void write_value(std::string& out, const Value& v);
void write_record(std::string& out, const dm::Class& c, const Object& o);
std::string value_fragment(const Result& r);

// Builds a <methodCall> document (client side and tests).
std::string make_call(std::string_view method, const std::vector<Value>& params);

}  // namespace xenapi::xmlrpc
