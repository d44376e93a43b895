// Value: the one dynamic value type of the server (store cells, call
// arguments and results). It knows the XML-RPC/JSON shapes (string, int64,
// double, bool, datetime, array, struct); the datamodel's Type says what a
// value means (a ref and an enum are strings, a set is an array, a map is a
// struct whose keys may be ints, refs or enums).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace xenapi {

// Seconds since the Unix epoch, UTC. XenAPI datetimes have second resolution.
struct DateTime {
  int64_t seconds = 0;
  friend bool operator==(DateTime a, DateTime b) { return a.seconds == b.seconds; }
};

class Value;
using Array = std::vector<Value>;
// Struct/map members in insertion order. Keys are Values so that maps keyed by
// ints keep their type in memory; on the wire every key is a string.
using Map = std::vector<std::pair<Value, Value>>;

class Value {
 public:
  enum class Kind : uint8_t { Null, String, Int, Float, Bool, DateTime, Array, Map };

  Value() = default;
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(uint32_t i) : v_(static_cast<int64_t>(i)) {}
  Value(long long i) : v_(static_cast<int64_t>(i)) {}
  Value(unsigned long i) : v_(static_cast<int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(bool b) : v_(b) {}
  Value(DateTime t) : v_(t) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Map m) : v_(std::move(m)) {}

  static Value array(std::initializer_list<Value> items) { return Value(Array(items)); }
  static Value empty_array() { return Value(Array{}); }
  static Value empty_map() { return Value(Map{}); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::Null; }
  bool is_string() const { return kind() == Kind::String; }
  bool is_int() const { return kind() == Kind::Int; }
  bool is_float() const { return kind() == Kind::Float; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_datetime() const { return kind() == Kind::DateTime; }
  bool is_array() const { return kind() == Kind::Array; }
  bool is_map() const { return kind() == Kind::Map; }

  // Accessors; calling the wrong one is a programming error (std::bad_variant_access).
  const std::string& str() const { return std::get<std::string>(v_); }
  std::string& str() { return std::get<std::string>(v_); }
  int64_t integer() const { return std::get<int64_t>(v_); }
  double real() const { return std::get<double>(v_); }
  bool boolean() const { return std::get<bool>(v_); }
  DateTime datetime() const { return std::get<DateTime>(v_); }
  const Array& arr() const { return std::get<Array>(v_); }
  Array& arr() { return std::get<Array>(v_); }
  const Map& map() const { return std::get<Map>(v_); }
  Map& map() { return std::get<Map>(v_); }

  // Map helpers (linear: XenAPI maps are small).
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set_member(std::string key, Value v);

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // Compact human-readable rendering for logs and test failures.
  std::string debug_string() const;

 private:
  std::variant<std::monostate, std::string, int64_t, double, bool, DateTime, Array, Map> v_;
};

// "YYYYMMDDTHH:MM:SSZ", the XenAPI wire form.
std::string format_datetime(DateTime t);
// Accepts the wire form (with or without Z), RFC 3339 with dashes, optional
// fractional seconds and a numeric offset. Returns false if unparsable.
bool parse_datetime(std::string_view s, DateTime& out);

// %.16g, the way xapi prints floats (and keeps a ".0"-free form).
std::string format_double(double d);

}  // namespace xenapi
