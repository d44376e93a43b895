// JSON-RPC: parsing with nlohmann-json, direct response encoding.
#include "xenapi-server/jsonrpc.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "classes/events/event_log.h"
#include "classes/store/filter.h"
#include "xenapi-server/record_cache.h"

namespace xenapi::jsonrpc {

namespace {

using json = nlohmann::json;

Value from_json(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return Value();
    case json::value_t::boolean: return Value(j.get<bool>());
    case json::value_t::number_integer: return Value(j.get<int64_t>());
    case json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) throw ParseError("integer out of range");
      return Value(static_cast<int64_t>(u));
    }
    case json::value_t::number_float: return Value(j.get<double>());
    case json::value_t::string: return Value(j.get<std::string>());
    case json::value_t::array: {
      Array a;
      a.reserve(j.size());
      for (const auto& x : j) a.push_back(from_json(x));
      return Value(std::move(a));
    }
    case json::value_t::object: {
      Map m;
      m.reserve(j.size());
      for (const auto& [k, x] : j.items()) m.emplace_back(Value(k), from_json(x));
      return Value(std::move(m));
    }
    default: throw ParseError("unsupported JSON value");
  }
}

void write_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* rep = nullptr;
    char buf[8];
    if (c == '"') rep = "\\\"";
    else if (c == '\\') rep = "\\\\";
    else if (c == '\n') rep = "\\n";
    else if (c == '\r') rep = "\\r";
    else if (c == '\t') rep = "\\t";
    else if (c < 0x20) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      rep = buf;
    }
    if (rep) {
      out.append(s.data() + run, i - run);
      out += rep;
      run = i + 1;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void write_key(std::string& out, const Value& k) {
  if (k.is_string()) write_string(out, k.str());
  else if (k.is_int()) write_string(out, std::to_string(k.integer()));
  else write_string(out, db_string(k));
}

void encode_events(std::string& out, const EventBatch& b, bool list_only) {
  if (!list_only) out += "{\"events\":";
  out += '[';
  bool first = true;
  for (const auto& e : b.events) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":\"";  // a string, as xapi sends it
    out += std::to_string(e.id);
    out += "\",\"timestamp\":\"";
    out += timestamp_text(e.timestamp);
    out += "\",\"class\":\"";
    out += e.cls->lower_name;
    out += "\",\"operation\":\"";
    out += operation_name(e.op);
    out += "\",\"ref\":";
    write_string(out, e.ref);
    if (e.snapshot) {
      out += ",\"snapshot\":";
      write_record(out, *e.cls, *e.snapshot);
    }
    out += '}';
  }
  out += ']';
  if (list_only) return;
  out += ",\"valid_ref_counts\":{";
  first = true;
  for (const auto& [c, n] : b.counts) {
    if (!first) out += ',';
    first = false;
    write_string(out, c);
    out += ':';
    out += std::to_string(n);
  }
  out += "},\"token\":";
  write_string(out, b.token);
  out += '}';
}

// Encoded once per batch, however many waiting calls it answers.
void write_events(std::string& out, const EventBatch& b, bool list_only) {
  out += b.encoded.get(list_only ? 3 : 2, [&](std::string& text) { encode_events(text, b, list_only); });
}

// Records of get_record / get_all_records, reused while their snapshot lives.
void write_cached_record(std::string& out, const dm::Class& c, const ObjectPtr& o) {
  static RecordCache cache;
  cache.append(out, o, [&](std::string& text) { write_record(text, c, *o); });
}

void write_result(std::string& out, const Result& r) {
  switch (r.shape) {
    case Result::Shape::Value:
    case Result::Shape::Deferred:
      write_value(out, r.value);
      return;
    case Result::Shape::Events:
      write_events(out, *r.batch, r.event_list);
      return;
    case Result::Shape::Record:
      write_cached_record(out, *r.cls, r.objects.front());
      return;
    case Result::Shape::RecordMap: {
      out += '{';
      bool first = true;
      for (const auto& o : r.objects) {
        if (!first) out += ',';
        first = false;
        write_string(out, o->ref);
        out += ':';
        write_cached_record(out, *r.cls, o);
      }
      out += '}';
      return;
    }
  }
}

void open(std::string& out, const MethodCall& call) {
  out += call.v2 ? "{\"jsonrpc\":\"2.0\"," : "{";
}

void close(std::string& out, const MethodCall& call) {
  out += ",\"id\":";
  out += call.id;
  out += '}';
}

}  // namespace

MethodCall parse_call(std::string_view body) {
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    throw ParseError(std::string("malformed JSON: ") + e.what());
  }
  if (!j.is_object()) throw ParseError("a JSON-RPC request is an object");
  MethodCall call;
  auto version = j.find("jsonrpc");
  call.v2 = version != j.end() && version->is_string() && version->get<std::string>() == "2.0";
  auto method = j.find("method");
  if (method == j.end() || !method->is_string()) throw ParseError("missing method");
  call.method = method->get<std::string>();
  auto id = j.find("id");
  if (id == j.end() || !(id->is_string() || id->is_number_integer()))
    throw ParseError("missing or invalid id (a string or an integer)");
  call.id = id->dump();
  auto params = j.find("params");
  if (params == j.end() || params->is_null()) {
    if (!call.v2) throw ParseError("missing params");
  } else if (params->is_array()) {
    for (const auto& p : *params) call.params.push_back(from_json(p));
  } else if (params->is_object() && call.v2) {
    call.params.push_back(from_json(*params));
  } else {
    throw ParseError("params must be an array");
  }
  return call;
}

void write_value(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: out += "null"; return;
    case Value::Kind::String: write_string(out, v.str()); return;
    case Value::Kind::Int: out += std::to_string(v.integer()); return;
    case Value::Kind::Float:
      if (std::isfinite(v.real())) {
        std::string d = format_double(v.real());
        out += d;
        if (d.find_first_of(".eEn") == std::string::npos) out += ".0";
      } else {
        out += "null";
      }
      return;
    case Value::Kind::Bool: out += v.boolean() ? "true" : "false"; return;
    case Value::Kind::DateTime: write_string(out, format_datetime(v.datetime())); return;
    case Value::Kind::Array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.arr()) {
        if (!first) out += ',';
        first = false;
        write_value(out, x);
      }
      out += ']';
      return;
    }
    case Value::Kind::Map: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.map()) {
        if (!first) out += ',';
        first = false;
        write_key(out, k);
        out += ':';
        write_value(out, x);
      }
      out += '}';
      return;
    }
  }
}

void write_record(std::string& out, const dm::Class& c, const Object& o) {
  out += '{';
  bool first = true;
  for (uint16_t i : c.published) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += c.fields[i].name;
    out += "\":";
    write_value(out, o.values[i]);
  }
  out += '}';
}

void write_success(std::string& out, const MethodCall& call, const Result& r) {
  open(out, call);
  out += "\"result\":";
  write_result(out, r);
  if (!call.v2) out += ",\"error\":null";
  close(out, call);
}

void write_failure(std::string& out, const MethodCall& call, const std::vector<std::string>& d) {
  open(out, call);
  if (call.v2) {
    out += "\"error\":{\"code\":1,\"message\":";
    write_string(out, d.empty() ? std::string("INTERNAL_ERROR") : d.front());
    out += ",\"data\":[";
    for (size_t i = 1; i < d.size(); ++i) {
      if (i > 1) out += ',';
      write_string(out, d[i]);
    }
    out += "]}";
  } else {
    out += "\"result\":null,\"error\":[";
    for (size_t i = 0; i < d.size(); ++i) {
      if (i) out += ',';
      write_string(out, d[i]);
    }
    out += ']';
  }
  close(out, call);
}

void write_plain(std::string& out, const MethodCall& call, const Value& v) {
  open(out, call);
  out += "\"result\":";
  write_value(out, v);
  if (!call.v2) out += ",\"error\":null";
  close(out, call);
}

}  // namespace xenapi::jsonrpc
