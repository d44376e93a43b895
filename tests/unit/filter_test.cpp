// Unit tests of get_all_records_where expressions (classes/store/filter.h): grammar, column and wire names, value representations, errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "value_printer.h"
#include "classes/datamodel/datamodel.h"
#include "classes/errors.h"
#include "classes/store/filter.h"
#include "classes/store/store.h"

namespace xenapi::testing {
namespace {

class FilterTest : public ::testing::Test {
 protected:
  Store store{dm::Datamodel::standard(), counting_ids()};
  const dm::Class& vm = store.cls("VM");
  Object o = make_vm();

  Object make_vm() {
    Object x;
    x.ref = "OpaqueRef:vm";
    x.values = store.defaults(vm);
    put(x, "name_label", Value("web"));
    put(x, "name_description", Value("web server"));
    put(x, "memory_static_max", Value(int64_t{1073741824}));
    put(x, "is_a_template", Value(true));
    put(x, "power_state", Value("Halted"));
    put(x, "HVM_shadow_multiplier", Value(1.0));
    put(x, "tags", Value::array({Value("a"), Value("b")}));
    put(x, "platform", Value(Map{{Value("k"), Value("v")}}));
    put(x, "other_config", Value(Map{{Value("a"), Value("1")}, {Value("b"), Value("2")}}));
    put(x, "domid", Value(int64_t{-1}));
    return x;
  }
  void put(Object& x, const char* field, Value v) { x.values[vm.field(field)->index] = std::move(v); }

  bool matches(const std::string& expr) { return Filter::parse(vm, expr).matches(o); }

  // The ErrorDescription of a parse failure, or empty if it parsed.
  std::vector<std::string> parse_error(const dm::Class& c, const std::string& expr) {
    try {
      Filter::parse(c, expr);
    } catch (const ApiError& e) {
      return e.description();
    }
    return {};
  }
};

TEST_F(FilterTest, TrueAndFalse) {
  EXPECT_TRUE(matches("true"));
  EXPECT_FALSE(matches("false"));
  EXPECT_TRUE(matches("  true  "));
}

TEST_F(FilterTest, FieldEqualsLiteralInBothOrders) {
  EXPECT_TRUE(matches(R"(field "name__label" = "web")"));
  EXPECT_TRUE(matches(R"("web" = field "name__label")"));
  EXPECT_FALSE(matches(R"(field "name__label" = "db")"));
  EXPECT_FALSE(matches(R"("db" = field "name__label")"));
  EXPECT_TRUE(matches(R"(field "name__label"="web")"));
}

TEST_F(FilterTest, LiteralsAndFieldsCompareWithEachOther) {
  EXPECT_TRUE(matches(R"("a" = "a")"));
  EXPECT_FALSE(matches(R"("a" = "b")"));
  EXPECT_TRUE(matches(R"(field "name__label" = field "name__label")"));
  EXPECT_FALSE(matches(R"(field "name__label" = field "name__description")"));
}

TEST_F(FilterTest, ComparisonIsExactAndCaseSensitive) {
  EXPECT_FALSE(matches(R"(field "name__label" = "Web")"));
  EXPECT_FALSE(matches(R"(field "name__label" = "we")"));
  EXPECT_FALSE(matches(R"(field "name__label" = "web ")"));
}

TEST_F(FilterTest, DbColumnNamesWithDoubleUnderscore) {
  EXPECT_TRUE(matches(R"(field "memory__static_max" = "1073741824")"));
  EXPECT_TRUE(matches(R"(field "name__description" = "web server")"));
  EXPECT_TRUE(matches(R"(field "HVM__shadow_multiplier" = "1.")"));
}

TEST_F(FilterTest, WireNamesAreAcceptedToo) {
  EXPECT_TRUE(matches(R"(field "name_label" = "web")"));
  EXPECT_TRUE(matches(R"(field "memory_static_max" = "1073741824")"));
  EXPECT_FALSE(matches(R"(field "memory_static_max" = "1")"));
}

TEST_F(FilterTest, BoolsIntsEnumsFloatsDatetimesRefs) {
  EXPECT_TRUE(matches(R"(field "is_a_template" = "true")"));
  EXPECT_FALSE(matches(R"(field "is_a_template" = "false")"));
  EXPECT_FALSE(matches(R"(field "is_control_domain" = "true")"));
  EXPECT_TRUE(matches(R"(field "is_control_domain" = "false")"));
  EXPECT_TRUE(matches(R"(field "domid" = "-1")"));
  EXPECT_TRUE(matches(R"(field "power_state" = "Halted")"));
  EXPECT_FALSE(matches(R"(field "power_state" = "Running")"));
  EXPECT_FALSE(matches(R"(field "power_state" = "halted")"));
  EXPECT_TRUE(matches(R"(field "HVM_shadow_multiplier" = "1.")"));
  EXPECT_TRUE(matches(R"(field "snapshot_time" = "19700101T00:00:00Z")"));
  EXPECT_TRUE(matches(R"(field "affinity" = "OpaqueRef:NULL")"));
}

TEST_F(FilterTest, SetsAndMapsUseSExpressions) {
  EXPECT_TRUE(matches(R"~(field "tags" = "('a' 'b')")~"));
  EXPECT_FALSE(matches(R"~(field "tags" = "('b' 'a')")~"));
  EXPECT_TRUE(matches(R"~(field "platform" = "(('k' 'v'))")~"));
  EXPECT_TRUE(matches(R"~(field "other_config" = "(('a' '1') ('b' '2'))")~"));
  EXPECT_TRUE(matches(R"~(field "blocked_operations" = "()")~"));
  EXPECT_TRUE(matches(R"~(field "VBDs" = "()")~"));
}

TEST_F(FilterTest, AndOrAreLeftAssociativeWithEqualPrecedence) {
  // ((true or false) and false): with 'and' binding tighter it would be true.
  EXPECT_FALSE(matches("true or false and false"));
  // ((false and true) or true)
  EXPECT_TRUE(matches("false and true or true"));
  EXPECT_TRUE(matches("true or (false and false)"));
  EXPECT_FALSE(matches("false and (true or true)"));
  EXPECT_TRUE(matches("true and true and true"));
  EXPECT_FALSE(matches("true and true and false"));
  EXPECT_TRUE(matches("false or false or true"));
  EXPECT_TRUE(matches(R"(field "name__label" = "web" and field "power_state" = "Halted")"));
  EXPECT_FALSE(matches(R"(field "name__label" = "web" and field "power_state" = "Running")"));
  EXPECT_TRUE(matches(R"(field "name__label" = "db" or field "power_state" = "Halted")"));
}

TEST_F(FilterTest, NotAppliesToTheNextTerm) {
  EXPECT_TRUE(matches("not false"));
  EXPECT_FALSE(matches("not true"));
  EXPECT_TRUE(matches("not not true"));
  EXPECT_TRUE(matches("not true or true"));  // (not true) or true
  EXPECT_FALSE(matches("not (true or true)"));
  EXPECT_TRUE(matches(R"(not field "name__label" = "db")"));
  EXPECT_FALSE(matches(R"(not (field "name__label" = "web"))"));
}

TEST_F(FilterTest, Parentheses) {
  EXPECT_TRUE(matches("(true)"));
  EXPECT_TRUE(matches("((((true))))"));
  EXPECT_FALSE(matches("(true and (false or (not true)))"));
  EXPECT_TRUE(matches(R"~((field "name__label" = "web") and (field "tags" = "('a' 'b')"))~"));
}

TEST_F(FilterTest, BackslashIsAnOrdinaryCharacterInALiteral) {
  // xapi's lexer reads a literal as '"' [^'"']* '"': no escapes, so a backslash stands for itself.
  put(o, "name_label", Value(R"(C:\temp\)"));
  EXPECT_TRUE(matches(R"(field "name__label" = "C:\temp\")"));
  put(o, "name_label", Value(R"(a\b)"));
  EXPECT_TRUE(matches(R"(field "name__label" = "a\b")"));
  EXPECT_FALSE(matches(R"(field "name__label" = "ab")"));
}

TEST_F(FilterTest, SyntaxErrorsAreInvalidValueWithTheExpression) {
  const std::vector<std::string> bad = {
      "",
      "(",
      "true)",
      "(true",
      "true true",
      "true and",
      "or true",
      "not",
      "maybe",
      "field",
      R"(field name__label = "x")",
      R"(field "name__label")",
      R"(field "name__label" =)",
      R"("x")",
      R"("x" = )",
      R"("unterminated = "x")",
      R"(field "name__label" == "x")",
      "true & false",
      "'a' = 'a'",
  };
  for (const auto& expr : bad) {
    auto e = parse_error(vm, expr);
    ASSERT_EQ(e.size(), 3u) << "expression: " << expr;
    EXPECT_EQ(e[0], "INVALID_VALUE") << expr;
    EXPECT_EQ(e[1], expr);
    EXPECT_FALSE(e[2].empty()) << expr;
  }
}

TEST_F(FilterTest, UnknownAndInternalFieldsAreInvalidValue) {
  auto e = parse_error(vm, R"(field "no_such_field" = "x")");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "INVALID_VALUE");
  EXPECT_EQ(e[1], R"(field "no_such_field" = "x")");
  EXPECT_NE(e[2].find("no_such_field"), std::string::npos) << e[2];

  // A field of another class.
  EXPECT_EQ(parse_error(vm, R"~(field "host_CPUs" = "()")~").at(0), "INVALID_VALUE");
  // task.session is kept by the server but never published.
  const std::string expr = R"(field "session" = "OpaqueRef:NULL")";
  e = parse_error(store.cls("task"), expr);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "INVALID_VALUE");
  EXPECT_EQ(e[1], expr);
}

TEST_F(FilterTest, DeeplyNestedExpressionDoesNotCrash) {
  // Within the 300 KiB request limit; the parser may accept or refuse it, but must not crash.
  const int depth = 100000;
  const std::string parens = std::string(depth, '(') + "true" + std::string(depth, ')');
  std::string nots;
  for (int i = 0; i < depth; ++i) nots += "not ";
  nots += "true";
  EXPECT_EXIT(
      {
        for (const std::string* expr : std::vector<const std::string*>{&parens, &nots}) {
          try {
            Filter::parse(vm, *expr).matches(o);
          } catch (const ApiError&) {
          }
        }
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(DbString, Scalars) {
  EXPECT_EQ(db_string(Value()), "");
  EXPECT_EQ(db_string(Value("text")), "text");
  EXPECT_EQ(db_string(Value(int64_t{42})), "42");
  EXPECT_EQ(db_string(Value(int64_t{-9000000000LL})), "-9000000000");
  EXPECT_EQ(db_string(Value(true)), "true");
  EXPECT_EQ(db_string(Value(false)), "false");
  EXPECT_EQ(db_string(Value(DateTime{0})), "19700101T00:00:00Z");
  EXPECT_EQ(db_string(Value(DateTime{1704164645})), "20240102T03:04:05Z");
}

TEST(DbString, FloatsAsOcamlPrintsThem) {
  EXPECT_EQ(db_string(Value(1.0)), "1.");
  EXPECT_EQ(db_string(Value(0.0)), "0.");
  EXPECT_EQ(db_string(Value(-3.0)), "-3.");
  EXPECT_EQ(db_string(Value(1.5)), "1.5");
  EXPECT_EQ(db_string(Value(0.1)), "0.1");
}

TEST(DbString, SetsAndMaps) {
  EXPECT_EQ(db_string(Value::empty_array()), "()");
  EXPECT_EQ(db_string(Value::array({Value("a")})), "('a')");
  EXPECT_EQ(db_string(Value::array({Value("a"), Value("b")})), "('a' 'b')");
  EXPECT_EQ(db_string(Value::array({Value(int64_t{1}), Value(int64_t{2})})), "('1' '2')");
  EXPECT_EQ(db_string(Value::empty_map()), "()");
  EXPECT_EQ(db_string(Value(Map{{Value("k"), Value("v")}})), "(('k' 'v'))");
  EXPECT_EQ(db_string(Value(Map{{Value("a"), Value("1")}, {Value("b"), Value("2")}})), "(('a' '1') ('b' '2'))");
  EXPECT_EQ(db_string(Value(Map{{Value(int64_t{0}), Value(0.5)}})), "(('0' '0.5'))");
}

TEST(DbString, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(db_string(Value::array({Value("it's")})), R"(('it\'s'))");
  EXPECT_EQ(db_string(Value::array({Value(R"(a\b)")})), R"(('a\\b'))");
}

}  // namespace
}  // namespace xenapi::testing
