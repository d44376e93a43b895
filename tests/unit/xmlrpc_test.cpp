// Unit tests of the XML-RPC codec (xenapi-server/xmlrpc.h): every value type parsed and written, envelopes, escaping, limits.
#include <gtest/gtest.h>

#include <xmlrpc-c/base.h>

#include <cstdint>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "value_printer.h"
#include "classes/api/handlers.h"
#include "classes/datamodel/datamodel.h"
#include "classes/store/store.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi::testing {
namespace {

using xmlrpc::ParseError;

const std::string kEmoji = "\xF0\x9F\x98\x80";   // U+1F600 GRINNING FACE
const std::string kEmoji2 = "\xF0\x9F\x98\x81";  // U+1F601
const std::string kFDD0 = "\xEF\xB7\x90";        // U+FDD0, a noncharacter

std::string call_with(const std::string& params_xml, const std::string& method = "test.method") {
  return "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params>" + params_xml +
         "</params></methodCall>";
}
std::string one_param(const std::string& value_xml) { return call_with("<param>" + value_xml + "</param>"); }

// Parses a call whose single parameter is `value_xml` (a <value> element).
Value parse_value(const std::string& value_xml) {
  xmlrpc::MethodCall c = xmlrpc::parse_call(one_param(value_xml));
  EXPECT_EQ(c.params.size(), 1u) << value_xml;
  return c.params.empty() ? Value() : c.params[0];
}

std::string written(const Value& v) {
  std::string out;
  xmlrpc::write_value(out, v);
  return out;
}

// Reads a response with xmlrpc-c's own parser: an independent check that our
// output is well-formed XML-RPC. Returns the fault string or "" when fine.
std::string xmlrpc_c_rejects(const std::string& response) {
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  xmlrpc_value* result = nullptr;
  int fault_code = 0;
  const char* fault_string = nullptr;
  xmlrpc_parse_response2(&env, response.data(), response.size(), &result, &fault_code, &fault_string);
  std::string problem;
  if (env.fault_occurred) problem = std::string("parse error: ") + env.fault_string;
  else if (fault_string) problem = std::string("fault: ") + fault_string;
  if (result) xmlrpc_DECREF(result);
  if (fault_string) std::free(const_cast<char*>(fault_string));
  xmlrpc_env_clean(&env);
  return problem;
}

// ------------------------------------------------------------------ parsing

TEST(XmlrpcParse, MethodNameAndParamsInOrder) {
  auto c = xmlrpc::parse_call(call_with("<param><value>a</value></param><param><value><i4>2</i4></value></param>"
                                        "<param><value><boolean>1</boolean></value></param>",
                                        "VM.get_record"));
  EXPECT_EQ(c.method, "VM.get_record");
  ASSERT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.params[0], Value("a"));
  EXPECT_EQ(c.params[1], Value(int64_t{2}));
  EXPECT_EQ(c.params[2], Value(true));
}

TEST(XmlrpcParse, NoParamsElementOrEmptyParams) {
  EXPECT_TRUE(xmlrpc::parse_call(call_with("")).params.empty());
  auto c = xmlrpc::parse_call("<?xml version=\"1.0\"?><methodCall><methodName>system.listMethods</methodName>"
                              "</methodCall>");
  EXPECT_EQ(c.method, "system.listMethods");
  EXPECT_TRUE(c.params.empty());
}

TEST(XmlrpcParse, UntypedValueIsAString) {
  EXPECT_EQ(parse_value("<value>hello</value>"), Value("hello"));
  EXPECT_EQ(parse_value("<value>OpaqueRef:abc</value>"), Value("OpaqueRef:abc"));
  // Digits in an untyped value are still a string: the dispatcher coerces.
  EXPECT_EQ(parse_value("<value>123</value>"), Value("123"));
  EXPECT_EQ(parse_value("<value> a b </value>"), Value(" a b "));
}

TEST(XmlrpcParse, TypedString) {
  EXPECT_EQ(parse_value("<value><string>hello world</string></value>"), Value("hello world"));
}

TEST(XmlrpcParse, EmptyStrings) {
  EXPECT_EQ(parse_value("<value/>"), Value(""));
  EXPECT_EQ(parse_value("<value></value>"), Value(""));
  EXPECT_EQ(parse_value("<value><string></string></value>"), Value(""));
  EXPECT_EQ(parse_value("<value><string/></value>"), Value(""));
}

TEST(XmlrpcParse, IntegersInEveryTag) {
  EXPECT_EQ(parse_value("<value><i4>123</i4></value>"), Value(int64_t{123}));
  EXPECT_EQ(parse_value("<value><int>-7</int></value>"), Value(int64_t{-7}));
  EXPECT_EQ(parse_value("<value><i8>42</i8></value>"), Value(int64_t{42}));
  EXPECT_EQ(parse_value("<value><i4>2147483647</i4></value>"), Value(int64_t{2147483647}));
  EXPECT_EQ(parse_value("<value><int>-2147483648</int></value>"), Value(int64_t{-2147483648LL}));
}

TEST(XmlrpcParse, Int64BeyondThirtyTwoBits) {
  EXPECT_EQ(parse_value("<value><i8>4294967296</i8></value>"), Value(int64_t{4294967296LL}));
  EXPECT_EQ(parse_value("<value><i8>-8589934592</i8></value>"), Value(int64_t{-8589934592LL}));
  EXPECT_EQ(parse_value("<value><i8>9223372036854775807</i8></value>"),
            Value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(parse_value("<value><i8>-9223372036854775808</i8></value>"),
            Value(std::numeric_limits<int64_t>::min()));
}

TEST(XmlrpcParse, Booleans) {
  EXPECT_EQ(parse_value("<value><boolean>1</boolean></value>"), Value(true));
  EXPECT_EQ(parse_value("<value><boolean>0</boolean></value>"), Value(false));
}

TEST(XmlrpcParse, Doubles) {
  EXPECT_EQ(parse_value("<value><double>1.5</double></value>"), Value(1.5));
  EXPECT_EQ(parse_value("<value><double>-0.25</double></value>"), Value(-0.25));
  EXPECT_EQ(parse_value("<value><double>3</double></value>"), Value(3.0));
  Value v = parse_value("<value><double>0.1</double></value>");
  ASSERT_TRUE(v.is_float());
  EXPECT_DOUBLE_EQ(v.real(), 0.1);
}

TEST(XmlrpcParse, DateTimeInXapiFormWithZ) {
  // 2024-01-02 03:04:05 UTC
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>20240102T03:04:05Z</dateTime.iso8601></value>"),
            Value(DateTime{1704164645}));
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601></value>"),
            Value(DateTime{0}));
}

TEST(XmlrpcParse, DateTimeWithoutZ) {
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>"),
            Value(DateTime{1704164645}));
}

TEST(XmlrpcParse, DateTimeRfc3339WithDashesAndOffsets) {
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>2024-01-02T03:04:05Z</dateTime.iso8601></value>"),
            Value(DateTime{1704164645}));
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>2024-01-02T05:04:05+02:00</dateTime.iso8601></value>"),
            Value(DateTime{1704164645}));
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>2024-01-01T22:34:05-04:30</dateTime.iso8601></value>"),
            Value(DateTime{1704164645}));
  EXPECT_EQ(parse_value("<value><dateTime.iso8601>2024-01-02T03:04:05.250Z</dateTime.iso8601></value>"),
            Value(DateTime{1704164645}));
}

TEST(XmlrpcParse, SeveralDateTimesInOneCall) {
  auto c = xmlrpc::parse_call(
      call_with("<param><value><dateTime.iso8601>2024-01-02T03:04:05Z</dateTime.iso8601></value></param>"
                "<param><value><array><data><value><dateTime.iso8601>19700101T00:00:01Z</dateTime.iso8601></value>"
                "</data></array></value></param>"));
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0], Value(DateTime{1704164645}));
  EXPECT_EQ(c.params[1], Value::array({Value(DateTime{1})}));
}

TEST(XmlrpcParse, Arrays) {
  EXPECT_EQ(parse_value("<value><array><data><value>a</value><value><i4>1</i4></value>"
                        "<value><boolean>0</boolean></value></data></array></value>"),
            Value::array({Value("a"), Value(int64_t{1}), Value(false)}));
  EXPECT_EQ(parse_value("<value><array><data></data></array></value>"), Value::empty_array());
  EXPECT_EQ(parse_value("<value><array><data/></array></value>"), Value::empty_array());
}

TEST(XmlrpcParse, StructsKeepMemberOrder) {
  Value v = parse_value(
      "<value><struct><member><name>zeta</name><value>1</value></member>"
      "<member><name>alpha</name><value><i4>2</i4></value></member></struct></value>");
  EXPECT_EQ(v, Value(Map{{Value("zeta"), Value("1")}, {Value("alpha"), Value(int64_t{2})}}));
  EXPECT_EQ(parse_value("<value><struct></struct></value>"), Value::empty_map());
  EXPECT_EQ(parse_value("<value><struct/></value>"), Value::empty_map());
}

TEST(XmlrpcParse, NestedStructsAndArrays) {
  Value v = parse_value(
      "<value><struct><member><name>outer</name><value><struct><member><name>inner</name><value><array><data>"
      "<value><struct><member><name>deep</name><value><i8>5000000000</i8></value></member></struct></value>"
      "</data></array></value></member></struct></value></member></struct></value>");
  Value deep(Map{{Value("deep"), Value(int64_t{5000000000LL})}});
  Value inner(Map{{Value("inner"), Value::array({deep})}});
  EXPECT_EQ(v, Value(Map{{Value("outer"), inner}}));
}

TEST(XmlrpcParse, NilIsNull) {
  EXPECT_TRUE(parse_value("<value><nil/></value>").is_null());
}

TEST(XmlrpcParse, Base64IsDecodedToAString) {
  EXPECT_EQ(parse_value("<value><base64>aGVsbG8gd29ybGQ=</base64></value>"), Value("hello world"));
  EXPECT_EQ(parse_value("<value><base64></base64></value>"), Value(""));
}

TEST(XmlrpcParse, EntitiesAndBmpCharacterReferences) {
  EXPECT_EQ(parse_value("<value>a&lt;b&amp;c&gt;d&quot;e&apos;f</value>"), Value("a<b&c>d\"e'f"));
  EXPECT_EQ(parse_value("<value>&#233;&#x41;</value>"), Value("\xC3\xA9"
                                                              "A"));
  EXPECT_EQ(parse_value("<value>caf\xC3\xA9 \xE2\x82\xAC</value>"), Value("caf\xC3\xA9 \xE2\x82\xAC"));
}

TEST(XmlrpcParse, NonBmpLiteralSurvives) {
  EXPECT_EQ(parse_value("<value>" + kEmoji + "</value>"), Value(kEmoji));
  EXPECT_EQ(parse_value("<value><string>x" + kEmoji + "y</string></value>"), Value("x" + kEmoji + "y"));
  // The highest code point.
  EXPECT_EQ(parse_value("<value>\xF4\x8F\xBF\xBF</value>"), Value("\xF4\x8F\xBF\xBF"));
}

TEST(XmlrpcParse, NonBmpCharacterReferenceSurvives) {
  EXPECT_EQ(parse_value("<value>&#x1F600;</value>"), Value(kEmoji));
  EXPECT_EQ(parse_value("<value>&#128512;</value>"), Value(kEmoji));
  EXPECT_EQ(parse_value("<value>a" + kEmoji + "b&#x1F601;c</value>"), Value("a" + kEmoji + "b" + kEmoji2 + "c"));
}

TEST(XmlrpcParse, NonBmpInStructNamesArraysAndMethodName) {
  auto c = xmlrpc::parse_call(
      call_with("<param><value><struct><member><name>k" + kEmoji + "</name><value>v&#x1F601;</value></member>"
                "</struct></value></param><param><value><array><data><value>" + kEmoji2 +
                    "</value></data></array></value></param>",
                "x.y" + kEmoji));
  EXPECT_EQ(c.method, "x.y" + kEmoji);
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0], Value(Map{{Value("k" + kEmoji), Value("v" + kEmoji2)}}));
  EXPECT_EQ(c.params[1], Value::array({Value(kEmoji2)}));
}

TEST(XmlrpcParse, NoncharacterFDD0Survives) {
  // Alone (no rewriting needed), with a non-BMP character (the escaping path) and as a reference.
  EXPECT_EQ(parse_value("<value>a" + kFDD0 + "b</value>"), Value("a" + kFDD0 + "b"));
  EXPECT_EQ(parse_value("<value>" + kFDD0 + kEmoji + kFDD0 + "</value>"), Value(kFDD0 + kEmoji + kFDD0));
  EXPECT_EQ(parse_value("<value>&#xFDD0;" + kEmoji + "</value>"), Value(kFDD0 + kEmoji));
  // Private-use characters the escaping uses internally are left alone too.
  const std::string pua = "\xEE\x80\x80\xEE\x90\x80\xEE\xA0\x80";  // U+E000 U+E400 U+E800
  EXPECT_EQ(parse_value("<value>" + pua + kEmoji + kFDD0 + pua + "</value>"), Value(pua + kEmoji + kFDD0 + pua));
}

TEST(XmlrpcParse, InvalidUtf8IsAParseError) {
  const std::vector<std::string> bad = {
      "\xC3\x28",              // bad continuation
      "\xFF",                  // never valid
      "\xE2\x82",              // truncated
      "\xC0\xAF",              // overlong
      "\x80",                  // lone continuation byte
      "\xED\xA0\x80",          // UTF-16 surrogate
      "\xF8\x88\x80\x80\x80",  // 5-byte form
      "\xF0\x28\x8C\x28",      // broken 4-byte form
  };
  for (const auto& b : bad) {
    EXPECT_THROW(xmlrpc::parse_call(one_param("<value>x" + b + "y</value>")), ParseError)
        << "bytes of length " << b.size();
  }
}

TEST(XmlrpcParse, InvalidUtf8BeyondU10FFFFIsAParseError) {
  // F4 90 80 80 would be U+110000 and F7 BF BF BF U+1FFFFF: neither is a character.
  EXPECT_THROW(xmlrpc::parse_call(one_param("<value>\xF4\x90\x80\x80</value>")), ParseError);
  EXPECT_THROW(xmlrpc::parse_call(one_param("<value>\xF7\xBF\xBF\xBF</value>")), ParseError);
  // An overlong 4-byte form of a BMP character.
  EXPECT_THROW(xmlrpc::parse_call(one_param("<value>\xF0\x8F\xBF\xBF</value>")), ParseError);
}

std::string nested_arrays(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "<value><array><data>";
  s += "<value>x</value>";
  for (int i = 0; i < depth; ++i) s += "</data></array></value>";
  return s;
}

TEST(XmlrpcParse, ModerateNestingParses) {
  Value v = parse_value(nested_arrays(20));
  int depth = 0;
  while (v.is_array()) {
    ASSERT_EQ(v.arr().size(), 1u);
    Value next = v.arr()[0];
    v = next;
    ++depth;
  }
  EXPECT_EQ(depth, 20);
  EXPECT_EQ(v, Value("x"));
}

TEST(XmlrpcParse, DeepNestingIsAParseErrorNotACrash) {
  EXPECT_THROW(xmlrpc::parse_call(one_param(nested_arrays(200))), ParseError);
  EXPECT_THROW(xmlrpc::parse_call(one_param(nested_arrays(20000))), ParseError);
  std::string structs;
  for (int i = 0; i < 200; ++i) structs += "<value><struct><member><name>k</name>";
  structs += "<value>x</value>";
  for (int i = 0; i < 200; ++i) structs += "</member></struct></value>";
  EXPECT_THROW(xmlrpc::parse_call(one_param(structs)), ParseError);
}

TEST(XmlrpcParse, HugeStringParses) {
  std::string big(250 * 1000, 'a');
  Value v = parse_value("<value>" + big + "</value>");
  ASSERT_TRUE(v.is_string());
  EXPECT_EQ(v.str().size(), big.size());
  EXPECT_EQ(v.str(), big);
}

TEST(XmlrpcParse, HugeNonBmpBodyWithinTheHttpLimitParses) {
  // 240 KB of U+1F600: under the 300 KiB request limit, so it must parse like any other body.
  std::string big;
  for (int i = 0; i < 60000; ++i) big += kEmoji;
  std::string body = one_param("<value>" + big + "</value>");
  ASSERT_LT(body.size(), 300u * 1024);
  xmlrpc::MethodCall c;
  ASSERT_NO_THROW(c = xmlrpc::parse_call(body));
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(c.params[0], Value(big));
}

TEST(XmlrpcParse, GarbageIsAParseError) {
  const std::vector<std::string> bodies = {
      "",
      "hello",
      "{\"method\": \"VM.get_all\"}",
      "<methodCall>",
      "<methodCall><methodName>x</methodName><params><param><value>a</value></param></params>",
      "<notACall/>",
      "<methodResponse><params><param><value>x</value></param></params></methodResponse>",
      "<methodCall><params></params></methodCall>",
      one_param("<value><i4>abc</i4></value>"),
      one_param("<value><boolean>yes</boolean></value>"),
      one_param("<value><double>x1</double></value>"),
      one_param("<value><dateTime.iso8601>not a date</dateTime.iso8601></value>"),
      one_param("<value><frobnicate>1</frobnicate></value>"),
      one_param("<value><struct><member><value>no name</value></member></struct></value>"),
      std::string("<methodCall>\0</methodCall>", 26),
  };
  for (const auto& b : bodies) EXPECT_THROW(xmlrpc::parse_call(b), ParseError) << b;
}

// ------------------------------------------------------------------ writing

TEST(XmlrpcWrite, StringsAreBareValues) {
  EXPECT_EQ(written(Value("abc")), "<value>abc</value>");
  EXPECT_EQ(written(Value("")), "<value></value>");
  EXPECT_EQ(written(Value(kEmoji)), "<value>" + kEmoji + "</value>");
}

TEST(XmlrpcWrite, XmlSpecialCharactersAreEscaped) {
  EXPECT_EQ(written(Value("a<b>c&d\"e'f")), "<value>a&lt;b&gt;c&amp;d&quot;e'f</value>");
  EXPECT_EQ(written(Value("&amp;")), "<value>&amp;amp;</value>");
}

TEST(XmlrpcWrite, ControlCharactersOtherThanTabLfCrAreDropped) {
  std::string s = std::string("a\x01") + "b\x1F" + "c\td\ne\rf" + std::string(1, '\0') + "g\x0B\x0C";
  EXPECT_EQ(written(Value(s)), "<value>abc\td\ne\rfg</value>");
}

TEST(XmlrpcWrite, IntsAreBareDecimalValues) {
  EXPECT_EQ(written(Value(int64_t{123})), "<value>123</value>");
  EXPECT_EQ(written(Value(int64_t{-5})), "<value>-5</value>");
  EXPECT_EQ(written(Value(int64_t{1099511627776LL})), "<value>1099511627776</value>");
  EXPECT_EQ(written(Value(std::numeric_limits<int64_t>::min())), "<value>-9223372036854775808</value>");
}

TEST(XmlrpcWrite, DoublesUseTheDoubleTag) {
  EXPECT_EQ(written(Value(1.5)), "<value><double>1.5</double></value>");
  EXPECT_EQ(written(Value(0.1)), "<value><double>0.1</double></value>");
  EXPECT_EQ(written(Value(2.0)), "<value><double>2</double></value>");
  EXPECT_EQ(written(Value(-0.25)), "<value><double>-0.25</double></value>");
}

TEST(XmlrpcWrite, BooleansAreOneAndZero) {
  EXPECT_EQ(written(Value(true)), "<value><boolean>1</boolean></value>");
  EXPECT_EQ(written(Value(false)), "<value><boolean>0</boolean></value>");
}

TEST(XmlrpcWrite, DateTimesInXapiForm) {
  EXPECT_EQ(written(Value(DateTime{0})), "<value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601></value>");
  EXPECT_EQ(written(Value(DateTime{1704164645})),
            "<value><dateTime.iso8601>20240102T03:04:05Z</dateTime.iso8601></value>");
}

TEST(XmlrpcWrite, ArraysAndEmptyArrays) {
  EXPECT_EQ(written(Value::array({Value("a"), Value(int64_t{1})})),
            "<value><array><data><value>a</value><value>1</value></data></array></value>");
  EXPECT_EQ(written(Value::empty_array()), "<value><array><data></data></array></value>");
}

TEST(XmlrpcWrite, StructsEmptyStructsAndKeys) {
  EXPECT_EQ(written(Value(Map{{Value("k"), Value("v")}, {Value("a<b"), Value(int64_t{2})}})),
            "<value><struct><member><name>k</name><value>v</value></member>"
            "<member><name>a&lt;b</name><value>2</value></member></struct></value>");
  EXPECT_EQ(written(Value::empty_map()), "<value><struct></struct></value>");
  // Int keys (e.g. VCPUs_CPU) are stringified.
  EXPECT_EQ(written(Value(Map{{Value(int64_t{3}), Value(int64_t{7})}})),
            "<value><struct><member><name>3</name><value>7</value></member></struct></value>");
}

TEST(XmlrpcWrite, NestedStructs) {
  Value v(Map{{Value("a"), Value(Map{{Value("b"), Value(Map{{Value("c"), Value::empty_array()}})}})}});
  EXPECT_EQ(written(v),
            "<value><struct><member><name>a</name><value><struct><member><name>b</name><value><struct>"
            "<member><name>c</name><value><array><data></data></array></value></member></struct></value>"
            "</member></struct></value></member></struct></value>");
}

TEST(XmlrpcWrite, NullIsAnEmptyValueNeverNil) {
  EXPECT_EQ(written(Value()), "<value></value>");
}

TEST(XmlrpcWrite, OutputIsCompact) {
  Value v(Map{{Value("list"), Value::array({Value(1.5), Value(true), Value(DateTime{5}), Value::empty_map()})},
              {Value("s"), Value("x y")}});
  std::string out;
  xmlrpc::write_success(out, Result(v));
  EXPECT_FALSE(std::regex_search(out, std::regex(">\\s+<"))) << out;
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(xmlrpc_c_rejects(out), "");
}

TEST(XmlrpcWrite, SuccessEnvelope) {
  std::string out;
  xmlrpc::write_success(out, Result(Value("OpaqueRef:1")));
  EXPECT_EQ(out,
            "<methodResponse><params><param><value><struct>"
            "<member><name>Status</name><value>Success</value></member>"
            "<member><name>Value</name><value>OpaqueRef:1</value></member>"
            "</struct></value></param></params></methodResponse>");
  EXPECT_EQ(xmlrpc_c_rejects(out), "");
}

TEST(XmlrpcWrite, VoidSuccessHasAnEmptyStringValue) {
  std::string out;
  xmlrpc::write_success(out, Result());
  EXPECT_EQ(out,
            "<methodResponse><params><param><value><struct>"
            "<member><name>Status</name><value>Success</value></member>"
            "<member><name>Value</name><value></value></member>"
            "</struct></value></param></params></methodResponse>");
}

TEST(XmlrpcWrite, FailureEnvelope) {
  std::string out;
  xmlrpc::write_failure(out, {"HANDLE_INVALID", "VM", "OpaqueRef:<x>&"});
  EXPECT_EQ(out,
            "<methodResponse><params><param><value><struct>"
            "<member><name>Status</name><value>Failure</value></member>"
            "<member><name>ErrorDescription</name><value><array><data>"
            "<value>HANDLE_INVALID</value><value>VM</value><value>OpaqueRef:&lt;x&gt;&amp;</value>"
            "</data></array></value></member>"
            "</struct></value></param></params></methodResponse>");
  EXPECT_EQ(xmlrpc_c_rejects(out), "");
}

TEST(XmlrpcWrite, PlainEnvelopeIsUnwrapped) {
  std::string out;
  xmlrpc::write_plain(out, Value::array({Value("VM.get_all"), Value("host.get_all")}));
  EXPECT_EQ(out,
            "<methodResponse><params><param><value><array><data><value>VM.get_all</value>"
            "<value>host.get_all</value></data></array></value></param></params></methodResponse>");
  EXPECT_EQ(xmlrpc_c_rejects(out), "");
}

class XmlrpcRecord : public ::testing::Test {
 protected:
  Store store{dm::Datamodel::standard(), counting_ids()};
  const dm::Class& vm = store.cls("VM");
  Object object() {
    Object o;
    o.ref = "OpaqueRef:vm";
    o.values = store.defaults(vm);
    o.values[vm.field("name_label")->index] = Value("a & b");
    o.values[vm.field("memory_static_max")->index] = Value(int64_t{1} << 33);
    return o;
  }
};

TEST_F(XmlrpcRecord, RecordHasPublishedFieldsByWireName) {
  Object o = object();
  std::string out;
  xmlrpc::write_record(out, vm, o);
  EXPECT_EQ(out.rfind("<value><struct><member><name>uuid</name><value>00000000-0000-4000-8000-", 0), 0u) << out;
  EXPECT_NE(out.find("<member><name>name_label</name><value>a &amp; b</value></member>"), std::string::npos);
  EXPECT_NE(out.find("<member><name>memory_static_max</name><value>8589934592</value></member>"), std::string::npos);
  EXPECT_EQ(out.find("name__label"), std::string::npos);
  EXPECT_EQ(out.find("memory__static_max"), std::string::npos);
  EXPECT_EQ(out.find("is_snapshot_from_vmpp"), std::string::npos);  // removed field
  EXPECT_EQ(out.substr(out.size() - 17), "</struct></value>");
  // The same members, in the same order, as record_value.
  EXPECT_EQ(out, written(record_value(vm, o)));
}

TEST_F(XmlrpcRecord, ValueFragments) {
  EXPECT_EQ(xmlrpc::value_fragment(Result()), "<value></value>");
  EXPECT_EQ(xmlrpc::value_fragment(Result(Value("OpaqueRef:9f"))), "<value>OpaqueRef:9f</value>");
  EXPECT_EQ(xmlrpc::value_fragment(Result(Value(int64_t{12}))), "<value>12</value>");
  auto o = std::make_shared<Object>(object());
  std::string rec;
  xmlrpc::write_record(rec, vm, *o);
  EXPECT_EQ(xmlrpc::value_fragment(Result::record(vm, o)), rec);
  EXPECT_EQ(xmlrpc::value_fragment(Result::records(vm, {o})),
            "<value><struct><member><name>OpaqueRef:vm</name>" + rec + "</member></struct></value>");
  EXPECT_EQ(xmlrpc::value_fragment(Result::records(vm, {})), "<value><struct></struct></value>");
}

TEST_F(XmlrpcRecord, RecordResponsesAreWellFormed) {
  auto o = std::make_shared<Object>(object());
  std::string out;
  xmlrpc::write_success(out, Result::records(vm, {o}));
  EXPECT_EQ(xmlrpc_c_rejects(out), "");
}

// ------------------------------------------------------------------ make_call and round trips

TEST(XmlrpcMakeCall, ExactShape) {
  EXPECT_EQ(xmlrpc::make_call("VM.get_record", {Value("OpaqueRef:s"), Value(int64_t{5})}),
            "<?xml version=\"1.0\"?><methodCall><methodName>VM.get_record</methodName><params>"
            "<param><value>OpaqueRef:s</value></param><param><value><i8>5</i8></value></param>"
            "</params></methodCall>");
  EXPECT_EQ(xmlrpc::make_call("system.listMethods", {}),
            "<?xml version=\"1.0\"?><methodCall><methodName>system.listMethods</methodName><params>"
            "</params></methodCall>");
}

TEST(XmlrpcMakeCall, EveryTypeRoundTripsThroughParseCall) {
  std::vector<Value> params = {
      Value("plain"),
      Value(""),
      Value("<&>\"'"),
      Value("x" + kEmoji + kFDD0),
      Value(int64_t{0}),
      Value(int64_t{-42}),
      Value(std::numeric_limits<int64_t>::max()),
      Value(std::numeric_limits<int64_t>::min()),
      Value(int64_t{1} << 40),
      Value(true),
      Value(false),
      Value(1.5),
      Value(-1e10),
      Value(DateTime{0}),
      Value(DateTime{1704164645}),
      Value::empty_array(),
      Value::empty_map(),
      Value::array({Value("a"), Value(2.5), Value::array({Value(true)})}),
      Value(Map{{Value("k"), Value(Map{{Value("inner"), Value(DateTime{60})}})}, {Value("e"), Value("")}}),
  };
  auto c = xmlrpc::parse_call(xmlrpc::make_call("Class.method", params));
  EXPECT_EQ(c.method, "Class.method");
  ASSERT_EQ(c.params.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(c.params[i], params[i]) << i << ": " << params[i].debug_string() << " vs " << c.params[i].debug_string();
}

TEST(XmlrpcMakeCall, IntsInsideArraysAndStructsKeepTheirType) {
  // make_call types a top-level int as <i8>; one inside a set or map must not turn into a string.
  std::vector<Value> params = {
      Value::array({Value("a"), Value(int64_t{1}), Value::array({Value(int64_t{-2})})}),
      Value(Map{{Value("k"), Value(Map{{Value("inner"), Value(int64_t{3000000000LL})}})}}),
  };
  auto c = xmlrpc::parse_call(xmlrpc::make_call("Class.method", params));
  ASSERT_EQ(c.params.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(c.params[i], params[i]) << i << ": " << params[i].debug_string() << " vs " << c.params[i].debug_string();
}

TEST(XmlrpcMakeCall, NullBecomesAnEmptyString) {
  auto c = xmlrpc::parse_call(xmlrpc::make_call("m", {Value()}));
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(c.params[0], Value(""));
}

TEST(XmlrpcMakeCall, MethodNameIsEscaped) {
  std::string body = xmlrpc::make_call("a<b&c", {});
  EXPECT_NE(body.find("<methodName>a&lt;b&amp;c</methodName>"), std::string::npos);
}

TEST(XmlrpcRoundTrip, WrittenIntsReadBackAsStringsOtherTypesKeepTheirTag) {
  // What a client gets: ints are untyped (strings), the rest keep their type.
  Value v(Map{{Value("i"), Value(int64_t{7})},
              {Value("d"), Value(2.5)},
              {Value("b"), Value(true)},
              {Value("t"), Value(DateTime{86400})},
              {Value("s"), Value::array({Value("x")})}});
  Value back = parse_value(written(v));
  EXPECT_EQ(back, Value(Map{{Value("i"), Value("7")},
                            {Value("d"), Value(2.5)},
                            {Value("b"), Value(true)},
                            {Value("t"), Value(DateTime{86400})},
                            {Value("s"), Value::array({Value("x")})}}));
}

}  // namespace
}  // namespace xenapi::testing
