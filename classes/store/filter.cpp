// Parser and evaluator for get_all_records_where expressions.
#include "classes/store/filter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <vector>

#include "classes/errors.h"

namespace xenapi {

struct Filter::Node {
  enum class Op { True, False, Eq, And, Or, Not } op;
  int depth = 1;  // height of the tree below and including this node
  // Eq operands: a literal, or a field (when field != nullptr).
  const dm::Field* lf = nullptr;
  std::string lv;
  const dm::Field* rf = nullptr;
  std::string rv;
  std::shared_ptr<const Node> a, b;
};

namespace {

void sexpr_string(std::string& out, const std::string& s) {
  out += '\'';
  for (char c : s) {
    if (c == '\\' || c == '"' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
}

std::string ocaml_float(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f.", d);
    return buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", d);
  return buf;
}

struct Token {
  enum class Kind { Word, Str, LParen, RParen, Eq, End } kind;
  std::string text;
};

class Parser {
 public:
  Parser(const dm::Class& c, std::string_view s) : c_(c), s_(s) {}

  std::shared_ptr<const Filter::Node> parse() {
    advance();
    auto n = expr();
    if (tok_.kind != Token::Kind::End) fail("unexpected text after the expression");
    return n;
  }

 private:
  using NodeP = std::shared_ptr<const Filter::Node>;
  using Op = Filter::Node::Op;

  [[noreturn]] void fail(const std::string& why) { throw err::INVALID_VALUE(std::string(s_), why); }
  // Parsing, evaluation and destruction recurse over the tree: bound it.
  void check_depth(int d) {
    if (d > kMaxDepth) fail("expression nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
  }
  static constexpr int kMaxDepth = 512;
  int nesting_ = 0;

  void advance() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ >= s_.size()) {
      tok_ = {Token::Kind::End, ""};
      return;
    }
    char c = s_[pos_];
    if (c == '(') { ++pos_; tok_ = {Token::Kind::LParen, "("}; return; }
    if (c == ')') { ++pos_; tok_ = {Token::Kind::RParen, ")"}; return; }
    if (c == '=') { ++pos_; tok_ = {Token::Kind::Eq, "="}; return; }
    if (c == '"') {
      std::string lit;
      ++pos_;
      // As in xapi's lexer, a literal runs to the next quote: no escapes.
      while (pos_ < s_.size() && s_[pos_] != '"') lit += s_[pos_++];
      if (pos_ >= s_.size()) fail("unterminated string");
      ++pos_;
      tok_ = {Token::Kind::Str, lit};
      return;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    if (pos_ == start) fail(std::string("unexpected character '") + c + "'");
    tok_ = {Token::Kind::Word, std::string(s_.substr(start, pos_ - start))};
  }

  NodeP expr() {
    NodeP left = term();
    while (tok_.kind == Token::Kind::Word && (tok_.text == "and" || tok_.text == "or")) {
      Op op = tok_.text == "and" ? Op::And : Op::Or;
      advance();
      auto n = std::make_shared<Filter::Node>();
      n->op = op;
      n->a = left;
      n->b = term();
      n->depth = 1 + std::max(n->a->depth, n->b->depth);
      check_depth(n->depth);
      left = n;
    }
    return left;
  }

  NodeP term() {
    auto n = std::make_shared<Filter::Node>();
    if (tok_.kind == Token::Kind::LParen) {
      check_depth(++nesting_);
      advance();
      NodeP inner = expr();
      --nesting_;
      if (tok_.kind != Token::Kind::RParen) fail("expected ')'");
      advance();
      return inner;
    }
    if (tok_.kind == Token::Kind::Word && tok_.text == "true") {
      advance();
      n->op = Op::True;
      return n;
    }
    if (tok_.kind == Token::Kind::Word && tok_.text == "false") {
      advance();
      n->op = Op::False;
      return n;
    }
    if (tok_.kind == Token::Kind::Word && tok_.text == "not") {
      check_depth(++nesting_);
      advance();
      n->op = Op::Not;
      n->a = term();
      --nesting_;
      n->depth = 1 + n->a->depth;
      check_depth(n->depth);
      return n;
    }
    n->op = Op::Eq;
    value(n->lf, n->lv);
    if (tok_.kind != Token::Kind::Eq) fail("expected '='");
    advance();
    value(n->rf, n->rv);
    return n;
  }

  void value(const dm::Field*& f, std::string& lit) {
    if (tok_.kind == Token::Kind::Str) {
      lit = tok_.text;
      advance();
      return;
    }
    if (tok_.kind == Token::Kind::Word && tok_.text == "field") {
      advance();
      if (tok_.kind != Token::Kind::Str) fail("expected a quoted field name after 'field'");
      f = c_.field_by_column(tok_.text);
      if (!f) f = c_.field(tok_.text);  // the wire name is accepted too
      if (!f || f->internal) fail("unknown field " + tok_.text + " of class " + c_.name);
      advance();
      return;
    }
    fail("expected a quoted value or field \"name\"");
  }

  const dm::Class& c_;
  std::string_view s_;
  size_t pos_ = 0;
  Token tok_{Token::Kind::End, ""};
};

bool eval(const Filter::Node& n, const Object& o) {
  using Op = Filter::Node::Op;
  switch (n.op) {
    case Op::True: return true;
    case Op::False: return false;
    case Op::Not: return !eval(*n.a, o);
    case Op::And: return eval(*n.a, o) && eval(*n.b, o);
    case Op::Or: return eval(*n.a, o) || eval(*n.b, o);
    case Op::Eq: {
      std::string l = n.lf ? db_string(o.values[n.lf->index]) : n.lv;
      std::string r = n.rf ? db_string(o.values[n.rf->index]) : n.rv;
      return l == r;
    }
  }
  return false;
}

}  // namespace

std::string db_string(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: return "";
    case Value::Kind::String: return v.str();
    case Value::Kind::Int: return std::to_string(v.integer());
    case Value::Kind::Float: return ocaml_float(v.real());
    case Value::Kind::Bool: return v.boolean() ? "true" : "false";
    case Value::Kind::DateTime: return format_datetime(v.datetime());
    case Value::Kind::Array: {
      std::string out = "(";
      bool first = true;
      for (const auto& x : v.arr()) {
        if (!first) out += ' ';
        first = false;
        sexpr_string(out, db_string(x));
      }
      return out + ")";
    }
    case Value::Kind::Map: {
      std::string out = "(";
      bool first = true;
      for (const auto& [k, x] : v.map()) {
        if (!first) out += ' ';
        first = false;
        out += '(';
        sexpr_string(out, db_string(k));
        out += ' ';
        sexpr_string(out, db_string(x));
        out += ')';
      }
      return out + ")";
    }
  }
  return "";
}

Filter Filter::parse(const dm::Class& c, std::string_view expr) {
  Filter f;
  f.root_ = Parser(c, expr).parse();
  return f;
}

bool Filter::matches(const Object& o) const { return eval(*root_, o); }

}  // namespace xenapi
