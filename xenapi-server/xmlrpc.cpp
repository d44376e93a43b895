// XML-RPC: request parsing through xmlrpc-c, direct response encoding.
#include "xenapi-server/xmlrpc.h"

#include <xmlrpc-c/base.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "classes/events/event_log.h"
#include "classes/store/filter.h"
#include "xenapi-server/record_cache.h"

namespace xenapi::xmlrpc {

namespace {

// ---------------------------------------------------------------- parsing

// xmlrpc-c 1.33 rejects characters outside the Basic Multilingual Plane. Before
// parsing, each such character (literal or as a character reference) is
// replaced by a marker (U+FDD0, a noncharacter) and two private-use characters
// that carry its 20 bits; literal markers are escaped too. Strings are decoded
// again after parsing. Bodies without such characters are parsed untouched.
constexpr char32_t kMarker = 0xFDD0;
constexpr char32_t kHiBase = 0xE000;    // U+E000..U+E3FF: high 10 bits
constexpr char32_t kLoBase = 0xE400;    // U+E400..U+E7FF: low 10 bits
constexpr char32_t kLiteral = 0xE800;   // marker, literal, literal: a real U+FDD0

void put_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void put_escaped(std::string& out, char32_t cp) {
  put_utf8(out, kMarker);
  if (cp == kMarker) {
    put_utf8(out, kLiteral);
    put_utf8(out, kLiteral);
  } else {
    char32_t v = cp - 0x10000;
    put_utf8(out, kHiBase + (v >> 10));
    put_utf8(out, kLoBase + (v & 0x3FF));
  }
}

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 if invalid.
size_t get_utf8(std::string_view s, size_t i, char32_t& cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  if (c < 0x80) { cp = c; return 1; }
  if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 2; }
  else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 3; }
  else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; n = 4; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool needs_rewrite(std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c >= 0xF0) return true;                                         // 4-byte UTF-8
    if (c == 0xEF && i + 2 < body.size() && static_cast<unsigned char>(body[i + 1]) == 0xB7 &&
        static_cast<unsigned char>(body[i + 2]) == 0x90)
      return true;                                                      // literal marker
    if (c == '&' && i + 1 < body.size() && body[i + 1] == '#') return true;  // character reference
  }
  return body.find("dateTime.iso8601") != std::string_view::npos;
}

// Rewrites a datetime element's text into xmlrpc-c's accepted form.
void rewrite_datetimes(std::string& s) {
  static constexpr std::string_view open = "<dateTime.iso8601>";
  size_t pos = 0;
  while ((pos = s.find(open, pos)) != std::string::npos) {
    size_t start = pos + open.size();
    size_t end = s.find('<', start);
    if (end == std::string::npos) return;
    DateTime d;
    std::string text = s.substr(start, end - start);
    if (parse_datetime(text, d)) {
      std::string canon = format_datetime(d);
      canon.pop_back();  // xmlrpc-c wants no trailing Z
      s.replace(start, end - start, canon);
      end = start + canon.size();
    }
    pos = end;
  }
}

std::string rewrite(std::string_view body, bool& escaped) {
  std::string out;
  out.reserve(body.size() + 64);
  for (size_t i = 0; i < body.size();) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '&' && i + 2 < body.size() && body[i + 1] == '#') {
      size_t semi = body.find(';', i);
      if (semi != std::string_view::npos && semi - i < 12) {
        std::string_view num = body.substr(i + 2, semi - i - 2);
        bool hex = !num.empty() && (num[0] == 'x' || num[0] == 'X');
        std::string digits(hex ? num.substr(1) : num);
        char* endp = nullptr;
        unsigned long cp = digits.empty() ? 0 : std::strtoul(digits.c_str(), &endp, hex ? 16 : 10);
        if (endp && *endp == 0 && (cp > 0xFFFF || cp == kMarker) && cp <= 0x10FFFF) {
          put_escaped(out, static_cast<char32_t>(cp));
          escaped = true;
          i = semi + 1;
          continue;
        }
      }
    } else if (c >= 0xEF) {
      char32_t cp;
      size_t n = get_utf8(body, i, cp);
      if (n && (cp > 0xFFFF || cp == kMarker)) {
        put_escaped(out, cp);
        escaped = true;
        i += n;
        continue;
      }
    }
    out += body[i++];
  }
  rewrite_datetimes(out);
  return out;
}

void unescape(std::string& s) {
  static constexpr std::string_view marker = "\xEF\xB7\x90";
  if (s.find(marker) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, marker.size(), marker) == 0) {
      char32_t a = 0, b = 0;
      size_t na = get_utf8(s, i + 3, a);
      size_t nb = na ? get_utf8(s, i + 3 + na, b) : 0;
      if (na && nb) {
        if (a == kLiteral && b == kLiteral) put_utf8(out, kMarker);
        else put_utf8(out, 0x10000 + (((a - kHiBase) & 0x3FF) << 10) + ((b - kLoBase) & 0x3FF));
        i += 3 + na + nb;
        continue;
      }
    }
    out += s[i++];
  }
  s = std::move(out);
}

struct Env {
  xmlrpc_env env;
  Env() { xmlrpc_env_init(&env); }
  ~Env() { xmlrpc_env_clean(&env); }
  void check(const char* what) {
    if (env.fault_occurred) throw ParseError(std::string(what) + ": " + env.fault_string);
  }
};

struct ValueRef {
  xmlrpc_value* v;
  ~ValueRef() {
    if (v) xmlrpc_DECREF(v);
  }
};

Value convert(Env& e, xmlrpc_value* v, bool escaped) {
  switch (xmlrpc_value_type(v)) {
    case XMLRPC_TYPE_INT: {
      int i;
      xmlrpc_read_int(&e.env, v, &i);
      e.check("int");
      return Value(static_cast<int64_t>(i));
    }
    case XMLRPC_TYPE_I8: {
      xmlrpc_int64 i;
      xmlrpc_read_i8(&e.env, v, &i);
      e.check("i8");
      return Value(static_cast<int64_t>(i));
    }
    case XMLRPC_TYPE_BOOL: {
      xmlrpc_bool b;
      xmlrpc_read_bool(&e.env, v, &b);
      e.check("boolean");
      return Value(static_cast<bool>(b));
    }
    case XMLRPC_TYPE_DOUBLE: {
      double d;
      xmlrpc_read_double(&e.env, v, &d);
      e.check("double");
      return Value(d);
    }
    case XMLRPC_TYPE_DATETIME: {
      time_t t;
      xmlrpc_read_datetime_sec(&e.env, v, &t);
      e.check("dateTime.iso8601");
      return Value(DateTime{static_cast<int64_t>(t)});
    }
    case XMLRPC_TYPE_STRING: {
      size_t len;
      const char* s;
      xmlrpc_read_string_lp(&e.env, v, &len, &s);
      e.check("string");
      std::string out(s, len);
      std::free(const_cast<char*>(s));
      if (escaped) unescape(out);
      return Value(std::move(out));
    }
    case XMLRPC_TYPE_BASE64: {
      size_t len;
      const unsigned char* b;
      xmlrpc_read_base64(&e.env, v, &len, &b);
      e.check("base64");
      std::string out(reinterpret_cast<const char*>(b), len);
      std::free(const_cast<unsigned char*>(b));
      return Value(std::move(out));
    }
    case XMLRPC_TYPE_ARRAY: {
      int n = xmlrpc_array_size(&e.env, v);
      e.check("array");
      Array a;
      a.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        xmlrpc_value* item;
        xmlrpc_array_read_item(&e.env, v, i, &item);
        e.check("array item");
        ValueRef hold{item};
        a.push_back(convert(e, item, escaped));
      }
      return Value(std::move(a));
    }
    case XMLRPC_TYPE_STRUCT: {
      int n = xmlrpc_struct_size(&e.env, v);
      e.check("struct");
      Map m;
      m.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        xmlrpc_value *key, *val;
        xmlrpc_struct_read_member(&e.env, v, static_cast<unsigned>(i), &key, &val);
        e.check("struct member");
        ValueRef hk{key}, hv{val};
        Value k = convert(e, key, escaped);
        m.emplace_back(std::move(k), convert(e, val, escaped));
      }
      return Value(std::move(m));
    }
    case XMLRPC_TYPE_NIL:
      return Value();
    default:
      throw ParseError("unsupported XML-RPC value type");
  }
}

// ---------------------------------------------------------------- writing

// XML-escapes s. Bytes that are not UTF-8 become U+FFFD, so the document
// stays well-formed whatever a string holds.
void escape(std::string& out, std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* rep = nullptr;
    size_t len = 1;
    switch (c) {
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '&': rep = "&amp;"; break;
      case '"': rep = "&quot;"; break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          rep = "";  // not representable in XML 1.0
        } else if (c >= 0x80) {
          char32_t cp;
          len = get_utf8(s, i, cp);
          if (len == 0) {
            rep = "\xEF\xBF\xBD";
            len = 1;
          }
        }
        break;
    }
    if (rep) {
      out.append(s.data() + run, i - run);
      out.append(rep);
      run = i + len;
    }
    i += len;
  }
  out.append(s.data() + run, s.size() - run);
}

void write_key(std::string& out, const Value& k) {
  if (k.is_string()) escape(out, k.str());
  else if (k.is_int()) out += std::to_string(k.integer());
  else escape(out, db_string(k));
}

constexpr std::string_view kSuccessHead =
    "<methodResponse><params><param><value><struct><member><name>Status</name><value>Success</value></member>"
    "<member><name>Value</name>";
constexpr std::string_view kFailureHead =
    "<methodResponse><params><param><value><struct><member><name>Status</name><value>Failure</value></member>"
    "<member><name>ErrorDescription</name>";
constexpr std::string_view kEnvelopeTail = "</member></struct></value></param></params></methodResponse>";

}  // namespace

MethodCall parse_call(std::string_view body) {
  // The HTTP layer bounds bodies; the rewrite above may grow them up to 9/4.
  static const bool limits_set = [] {
    xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 8u << 20);
    return true;
  }();
  (void)limits_set;
  bool escaped = false;
  std::string rewritten;
  if (needs_rewrite(body)) {
    rewritten = rewrite(body, escaped);
    body = rewritten;
  }
  Env e;
  const char* name = nullptr;
  xmlrpc_value* params = nullptr;
  xmlrpc_parse_call(&e.env, body.data(), body.size(), &name, &params);
  e.check("XML-RPC call");
  std::unique_ptr<const char, void (*)(const char*)> hold_name(name, [](const char* p) {
    std::free(const_cast<char*>(p));
  });
  ValueRef hold{params};
  MethodCall call;
  call.method = name ? name : "";
  if (escaped) unescape(call.method);
  Value p = params ? convert(e, params, escaped) : Value::empty_array();
  call.params = std::move(p.arr());
  return call;
}

void write_value(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null:
      out += "<value></value>";
      return;
    case Value::Kind::String:
      out += "<value>";
      escape(out, v.str());
      out += "</value>";
      return;
    case Value::Kind::Int:
      out += "<value>";
      out += std::to_string(v.integer());
      out += "</value>";
      return;
    case Value::Kind::Float:
      out += "<value><double>";
      out += format_double(v.real());
      out += "</double></value>";
      return;
    case Value::Kind::Bool:
      out += v.boolean() ? "<value><boolean>1</boolean></value>" : "<value><boolean>0</boolean></value>";
      return;
    case Value::Kind::DateTime:
      out += "<value><dateTime.iso8601>";
      out += format_datetime(v.datetime());
      out += "</dateTime.iso8601></value>";
      return;
    case Value::Kind::Array:
      out += "<value><array><data>";
      for (const auto& x : v.arr()) write_value(out, x);
      out += "</data></array></value>";
      return;
    case Value::Kind::Map:
      out += "<value><struct>";
      for (const auto& [k, x] : v.map()) {
        out += "<member><name>";
        write_key(out, k);
        out += "</name>";
        write_value(out, x);
        out += "</member>";
      }
      out += "</struct></value>";
      return;
  }
}

void write_record(std::string& out, const dm::Class& c, const Object& o) {
  out += "<value><struct>";
  for (uint16_t i : c.published) {
    out += "<member><name>";
    out += c.fields[i].name;
    out += "</name>";
    write_value(out, o.values[i]);
    out += "</member>";
  }
  out += "</struct></value>";
}

namespace {

void encode_events(std::string& out, const EventBatch& b, bool list_only) {
  if (!list_only) out += "<value><struct><member><name>events</name>";
  out += "<value><array><data>";
  for (const auto& e : b.events) {
    out += "<value><struct><member><name>id</name><value>";
    out += std::to_string(e.id);
    out += "</value></member><member><name>timestamp</name><value>";
    out += timestamp_text(e.timestamp);
    out += "</value></member><member><name>class</name><value>";
    out += e.cls->lower_name;
    out += "</value></member><member><name>operation</name><value>";
    out += operation_name(e.op);
    out += "</value></member><member><name>ref</name><value>";
    escape(out, e.ref);
    out += "</value></member>";
    if (e.snapshot) {
      out += "<member><name>snapshot</name>";
      write_record(out, *e.cls, *e.snapshot);
      out += "</member>";
    }
    out += "</struct></value>";
  }
  out += "</data></array></value>";
  if (list_only) return;
  out += "</member><member><name>valid_ref_counts</name><value><struct>";
  for (const auto& [c, n] : b.counts) {
    out += "<member><name>";
    out += c;
    out += "</name><value><i4>";
    out += std::to_string(n);
    out += "</i4></value></member>";
  }
  out += "</struct></value></member><member><name>token</name><value>";
  escape(out, b.token);
  out += "</value></member></struct></value>";
}

// Encoded once per batch, however many waiting calls it answers.
void write_events(std::string& out, const EventBatch& b, bool list_only) {
  out += b.encoded.get(list_only ? 1 : 0, [&](std::string& text) { encode_events(text, b, list_only); });
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
    case Result::Shape::RecordMap:
      out += "<value><struct>";
      for (size_t i = 0; i < r.objects.size(); ++i) {
        const auto& o = r.objects[i];
        const size_t before = out.size();
        out += "<member><name>";
        escape(out, o->ref);
        out += "</name>";
        write_cached_record(out, *r.cls, o);
        out += "</member>";
        // The connection's buffer starts small after a large answer: size it
        // for all the records at once (from the first, with an eighth to spare)
        // instead of growing it by doubling, which copies the text twice over.
        if (i == 0 && r.objects.size() > 8) {
          const size_t each = out.size() - before;
          out.reserve(out.size() + each * (r.objects.size() - 1) / 8 * 9 + 64);
        }
      }
      out += "</struct></value>";
      return;
  }
}

}  // namespace

void write_success(std::string& out, const Result& r) {
  out += kSuccessHead;
  write_result(out, r);
  out += kEnvelopeTail;
}

void write_failure(std::string& out, const std::vector<std::string>& description) {
  out += kFailureHead;
  out += "<value><array><data>";
  for (const auto& s : description) {
    out += "<value>";
    escape(out, s);
    out += "</value>";
  }
  out += "</data></array></value>";
  out += kEnvelopeTail;
}

void write_plain(std::string& out, const Value& v) {
  out += "<methodResponse><params><param>";
  write_value(out, v);
  out += "</param></params></methodResponse>";
}

std::string value_fragment(const Result& r) {
  std::string out;
  write_result(out, r);
  return out;
}

namespace {

// Client side: ints keep their type (<i8>) at any depth.
void write_typed(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Int:
      out += "<value><i8>" + std::to_string(v.integer()) + "</i8></value>";
      return;
    case Value::Kind::Array:
      out += "<value><array><data>";
      for (const auto& x : v.arr()) write_typed(out, x);
      out += "</data></array></value>";
      return;
    case Value::Kind::Map:
      out += "<value><struct>";
      for (const auto& [k, x] : v.map()) {
        out += "<member><name>";
        write_key(out, k);
        out += "</name>";
        write_typed(out, x);
        out += "</member>";
      }
      out += "</struct></value>";
      return;
    default:
      write_value(out, v);
  }
}

}  // namespace

std::string make_call(std::string_view method, const std::vector<Value>& params) {
  std::string out = "<?xml version=\"1.0\"?><methodCall><methodName>";
  escape(out, method);
  out += "</methodName><params>";
  for (const auto& p : params) {
    out += "<param>";
    write_typed(out, p);
    out += "</param>";
  }
  out += "</params></methodCall>";
  return out;
}

}  // namespace xenapi::xmlrpc
