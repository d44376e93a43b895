// Parser and printer for the XenAPI type notation.
#include "classes/datamodel/type.h"

#include <stdexcept>
#include <vector>

namespace xenapi::dm {

namespace {

std::vector<std::string> tokenize(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (c == '(' || c == ')') {
      out.emplace_back(1, c);
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '>') {
      out.emplace_back("->");
      i += 2;
    } else {
      size_t j = i;
      while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' &&
             !(s[j] == '-' && j + 1 < s.size() && s[j + 1] == '>'))
        ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view text) : text_(text), toks_(tokenize(text)) {}

  Type parse_all() {
    Type t = parse();
    if (pos_ != toks_.size()) fail("unexpected '" + toks_[pos_] + "'");
    return t;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument("bad type \"" + std::string(text_) + "\": " + why);
  }
  bool at(const char* t) const { return pos_ < toks_.size() && toks_[pos_] == t; }
  std::string next() {
    if (pos_ >= toks_.size()) fail("unexpected end");
    return toks_[pos_++];
  }
  void expect(const char* t) {
    if (!at(t)) fail(std::string("expected '") + t + "'");
    ++pos_;
  }

  Type parse() {
    Type t = primary();
    for (;;) {
      if (at("set") || at("option")) {
        Type outer;
        outer.kind = next() == "set" ? Type::Kind::Set : Type::Kind::Option;
        outer.elem = std::make_shared<const Type>(std::move(t));
        t = std::move(outer);
      } else {
        return t;
      }
    }
  }

  Type primary() {
    Type t;
    std::string tok = next();
    if (tok == "(") {
      Type key = parse();
      expect("->");
      Type val = parse();
      expect(")");
      expect("map");
      t.kind = Type::Kind::Map;
      t.elem = std::make_shared<const Type>(std::move(key));
      t.value = std::make_shared<const Type>(std::move(val));
      return t;
    }
    if (tok == "string") t.kind = Type::Kind::String;
    else if (tok == "int") t.kind = Type::Kind::Int;
    else if (tok == "float") t.kind = Type::Kind::Float;
    else if (tok == "bool") t.kind = Type::Kind::Bool;
    else if (tok == "datetime") t.kind = Type::Kind::DateTime;
    else if (tok == "void") t.kind = Type::Kind::Void;
    else if (tok == "enum") {
      t.kind = Type::Kind::Enum;
      t.name = next();
    } else if (tok == "an") {
      expect("event");
      expect("batch");
      t.kind = Type::Kind::EventBatch;
    } else if (tok == "<class>") {
      expect("record");
      t.kind = Type::Kind::AnyRecord;
    } else {
      if (tok == ")" || tok == "->" || tok == "set" || tok == "map") fail("unexpected '" + tok + "'");
      std::string what = next();
      if (what == "ref") t.kind = Type::Kind::Ref;
      else if (what == "record") t.kind = Type::Kind::Record;
      else fail("expected 'ref' or 'record' after '" + tok + "'");
      t.name = tok;
    }
    return t;
  }

  std::string_view text_;
  std::vector<std::string> toks_;
  size_t pos_ = 0;
};

}  // namespace

Type parse_type(std::string_view text) { return Parser(text).parse_all(); }

std::string Type::to_string() const {
  switch (kind) {
    case Kind::Void: return "void";
    case Kind::String: return "string";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Bool: return "bool";
    case Kind::DateTime: return "datetime";
    case Kind::Ref: return name + " ref";
    case Kind::Enum: return "enum " + name;
    case Kind::Set: return elem->to_string() + " set";
    case Kind::Option: return elem->to_string() + " option";
    case Kind::Map: return "(" + elem->to_string() + "->" + value->to_string() + ") map";
    case Kind::Record: return name + " record";
    case Kind::AnyRecord: return "<class> record";
    case Kind::EventBatch: return "an event batch";
  }
  return "?";
}

}  // namespace xenapi::dm
