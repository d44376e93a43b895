// Value helpers: map lookup, datetime and float formatting.
#include "classes/value.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace xenapi {

namespace {

bool key_equals(const Value& k, std::string_view key) {
  return k.is_string() && k.str() == key;
}

// Days since 1970-01-01 for a proleptic Gregorian civil date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

}  // namespace

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : map())
    if (key_equals(k, key)) return &v;
  return nullptr;
}

Value* Value::find(std::string_view key) {
  for (auto& [k, v] : map())
    if (key_equals(k, key)) return &v;
  return nullptr;
}

void Value::set_member(std::string key, Value v) {
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return;
  }
  map().emplace_back(Value(std::move(key)), std::move(v));
}

std::string Value::debug_string() const {
  switch (kind()) {
    case Kind::Null:
      return "null";
    case Kind::String:
      return "\"" + str() + "\"";
    case Kind::Int:
      return std::to_string(integer());
    case Kind::Float:
      return format_double(real());
    case Kind::Bool:
      return boolean() ? "true" : "false";
    case Kind::DateTime:
      return format_datetime(datetime());
    case Kind::Array: {
      std::string s = "[";
      for (size_t i = 0; i < arr().size(); ++i) {
        if (i) s += ", ";
        s += arr()[i].debug_string();
      }
      return s + "]";
    }
    case Kind::Map: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, v] : map()) {
        if (!first) s += ", ";
        first = false;
        s += k.debug_string() + ": " + v.debug_string();
      }
      return s + "}";
    }
  }
  return "?";
}

std::string format_datetime(DateTime t) {
  std::time_t secs = static_cast<std::time_t>(t.seconds);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool parse_datetime(std::string_view s, DateTime& out) {
  size_t p = 0;
  int year, mon, day, hh, mm, ss;
  if (!read_digits(s, p, 4, year)) return false;
  bool dashes = p < s.size() && s[p] == '-';
  if (dashes) ++p;
  if (!read_digits(s, p, 2, mon)) return false;
  if (dashes && (p >= s.size() || s[p++] != '-')) return false;
  if (!read_digits(s, p, 2, day)) return false;
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return false;
  ++p;
  if (!read_digits(s, p, 2, hh)) return false;
  if (p >= s.size() || s[p++] != ':') return false;
  if (!read_digits(s, p, 2, mm)) return false;
  if (p >= s.size() || s[p++] != ':') return false;
  if (!read_digits(s, p, 2, ss)) return false;
  if (p < s.size() && s[p] == '.') {  // fractional seconds: dropped
    ++p;
    size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    if (p == start) return false;
  }
  int64_t offset = 0;
  if (p < s.size()) {
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int sign = s[p] == '+' ? 1 : -1;
      ++p;
      int oh, om = 0;
      if (!read_digits(s, p, 2, oh)) return false;
      if (p < s.size() && s[p] == ':') ++p;
      if (p < s.size() && !read_digits(s, p, 2, om)) return false;
      offset = sign * (oh * 3600 + om * 60);
    }
  }
  if (p != s.size()) return false;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return false;
  out.seconds = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 +
                hh * 3600 + mm * 60 + ss - offset;
  return true;
}

std::string format_double(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.16g", d);
  return buf;
}

}  // namespace xenapi
