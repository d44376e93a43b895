// Golden wire transcripts: each wire/<case>.req.xml is parsed, dispatched in process and encoded; the bytes must equal wire/<case>.resp.xml.
//
// Every case runs against a fresh in-process server (tests/unit/harness.h), whose store hands out
// predictable refs, so responses are deterministic. In a request, @SESSION@ stands for the
// harness's logged-in root session; in a response, that ref is written back as @SESSION@.
// Both files start with a one-line XML comment saying what the case is; the response's is not compared.
// XENAPI_REGENERATE_GOLDEN=1 rewrites the .resp.xml files (review them before keeping them).
#include <gtest/gtest.h>

#include <xmlrpc-c/base.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi::testing {
namespace {

namespace fs = std::filesystem;

const std::string kWireDir = std::string(XENAPI_GOLDEN_DIR) + "/wire";
constexpr std::string_view kReq = ".req.xml";
constexpr std::string_view kResp = ".resp.xml";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

// A golden file without its first line, if that line is an XML comment saying what the file is.
std::string without_comment_line(const std::string& s) {
  if (s.rfind("<!--", 0) != 0) return s;
  size_t nl = s.find('\n');
  return nl == std::string::npos ? std::string() : s.substr(nl + 1);
}

// Case names: the files wire/<name>.req.xml, sorted.
std::vector<std::string> cases() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kWireDir, ec)) {
    std::string f = e.path().filename().string();
    if (ends_with(f, kReq)) out.push_back(f.substr(0, f.size() - kReq.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What the server answers to one request body, as bytes on the wire (plus a final newline).
std::string transcript(const std::string& request_body) {
  Harness h;
  std::string body = request_body;
  replace_all(body, "@SESSION@", h.session());
  xmlrpc::MethodCall call = xmlrpc::parse_call(body);
  Request req;
  req.method = call.method;
  req.params = std::move(call.params);
  Response r = h.dispatcher().call(std::move(req));
  std::string out;
  switch (r.kind) {
    case Response::Kind::Success: xmlrpc::write_success(out, r.result); break;
    case Response::Kind::Failure: xmlrpc::write_failure(out, r.error); break;
    case Response::Kind::Plain: xmlrpc::write_plain(out, r.plain); break;
  }
  replace_all(out, h.session(), "@SESSION@");
  return out + "\n";
}

// "" if xmlrpc-c reads `response` as a methodResponse (no fault), else the problem.
std::string xmlrpc_c_problem(const std::string& response) {
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  xmlrpc_value* result = nullptr;
  int fault_code = 0;
  const char* fault_string = nullptr;
  xmlrpc_parse_response2(&env, response.data(), response.size(), &result, &fault_code, &fault_string);
  std::string problem;
  if (env.fault_occurred) problem = env.fault_string;
  else if (fault_string) problem = std::string("fault: ") + fault_string;
  if (result) xmlrpc_DECREF(result);
  if (fault_string) std::free(const_cast<char*>(fault_string));
  xmlrpc_env_clean(&env);
  return problem;
}

class WireTranscript : public ::testing::TestWithParam<std::string> {};

TEST_P(WireTranscript, ResponseMatchesTheReviewedCopy) {
  const std::string base = kWireDir + "/" + GetParam();
  const std::string request = read_file(base + std::string(kReq));
  ASSERT_FALSE(request.empty()) << base << kReq << " is empty";
  std::string live;
  ASSERT_NO_THROW(live = transcript(request)) << "the request does not parse";
  EXPECT_EQ(xmlrpc_c_problem(live), "") << "the response is not well-formed XML-RPC";
  const std::string resp_path = base + std::string(kResp);
  if (std::getenv("XENAPI_REGENERATE_GOLDEN")) {
    std::ofstream(resp_path, std::ios::binary) << "<!-- Wire case response to " << GetParam()
                                               << ".req.xml (XENAPI_REGENERATE_GOLDEN=1 writes it; review it). -->\n"
                                               << live;
    GTEST_SKIP() << "regenerated " << resp_path;
  }
  const std::string golden = without_comment_line(read_file(resp_path));
  ASSERT_FALSE(golden.empty()) << resp_path << " is missing; run with XENAPI_REGENERATE_GOLDEN=1 and review it";
  if (golden == live) return;
  size_t at = 0;
  while (at < golden.size() && at < live.size() && golden[at] == live[at]) ++at;
  const size_t from = at < 80 ? 0 : at - 80;
  ADD_FAILURE() << "first difference at byte " << at << "\n  golden: ..." << golden.substr(from, 200)
                << "\n  live:   ..." << live.substr(from, 200);
}

TEST_P(WireTranscript, IsDeterministic) {
  const std::string request = read_file(kWireDir + "/" + GetParam() + std::string(kReq));
  std::string a, b;
  ASSERT_NO_THROW(a = transcript(request));
  ASSERT_NO_THROW(b = transcript(request));
  EXPECT_EQ(a, b);
}

std::string case_name(const ::testing::TestParamInfo<std::string>& i) {
  std::string n = i.param;
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Wire, WireTranscript, ::testing::ValuesIn(cases()), case_name);

TEST(WireFiles, EveryResponseHasARequestAndThereAreCases) {
  EXPECT_GE(cases().size(), 15u);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kWireDir, ec)) {
    std::string f = e.path().filename().string();
    if (!ends_with(f, kResp)) continue;
    std::string name = f.substr(0, f.size() - kResp.size());
    EXPECT_TRUE(fs::exists(kWireDir + "/" + name + std::string(kReq))) << f << " has no request";
  }
}

}  // namespace
}  // namespace xenapi::testing
