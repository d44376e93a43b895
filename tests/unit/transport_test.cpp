// Unit tests of the transport's pure parts: loopback detection (--https-only), listen addresses, the port file, certificate generation, the TLS context and the record text cache.
#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "xenapi-server/http_server.h"
#include "xenapi-server/listeners.h"
#include "xenapi-server/record_cache.h"
#include "xenapi-server/tls.h"

namespace xenapi::testing {
namespace {

TEST(Transport, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) EXPECT_TRUE(is_loopback_address(a)) << a;
  for (const char* a : {"10.0.0.1", "192.168.1.1", "::ffff:10.0.0.1", "fe80::1", "0.0.0.0", "::", "", "junk"})
    EXPECT_FALSE(is_loopback_address(a)) << a;
}

TEST(Transport, SplitHostPort) {
  std::string h;
  uint16_t p = 1;
  EXPECT_TRUE(split_host_port("127.0.0.1:0", h, p));
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 0);
  EXPECT_TRUE(split_host_port("[::1]:443", h, p));
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, 443);
  for (const char* bad : {"", "127.0.0.1", ":80", "host:", "host:65536", "host:-1", "host:80x"})
    EXPECT_FALSE(split_host_port(bad, h, p)) << bad;
}

TEST(Transport, PortFileNamesOpenListenersOnly) {
  Listening l;
  l.http = BoundAddress{"127.0.0.1", 8080};
  auto j = nlohmann::json::parse(port_file_json(l));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"http": {"address": "127.0.0.1", "port": 8080}})"));
  l.https = BoundAddress{"::1", 8443};
  l.unix_path = "/run/x.sock";
  j = nlohmann::json::parse(port_file_json(l));
  EXPECT_EQ(j["https"]["address"], "::1");
  EXPECT_EQ(j["https"]["port"], 8443);
  EXPECT_EQ(j["unix"], "/run/x.sock");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/xenapi-tls-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;
};

using Certificates = TempDir;

X509* read_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return x;
}

TEST_F(Certificates, GeneratedOnceWithTheNamesAndAPrivateKey) {
  tls::CertificateNames names = tls::default_names({"192.0.2.7", "0.0.0.0", "mgmt.example"});
  EXPECT_NE(std::find(names.dns.begin(), names.dns.end(), "localhost"), names.dns.end());
  EXPECT_NE(std::find(names.dns.begin(), names.dns.end(), "mgmt.example"), names.dns.end());
  EXPECT_NE(std::find(names.ips.begin(), names.ips.end(), "192.0.2.7"), names.ips.end());
  EXPECT_EQ(std::find(names.ips.begin(), names.ips.end(), "0.0.0.0"), names.ips.end());

  auto files = tls::ensure_self_signed(dir, names);
  EXPECT_TRUE(files.generated);
  struct stat st {};
  ASSERT_EQ(::stat(files.key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  X509* x = read_cert(files.cert);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(X509_check_ip_asc(x, "192.0.2.7", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(x, "::1", 0), 1);
  EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(x, "mgmt.example", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(x, "other.example", 0, 0, nullptr), 1);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(x)), 1);
  EXPECT_GT(days, 3640);
  EXPECT_LT(days, 3660);
  X509_free(x);

  // The second start reuses both files untouched.
  auto again = tls::ensure_self_signed(dir, names);
  EXPECT_FALSE(again.generated);
  EXPECT_NO_THROW(tls::make_server_context(again.cert, again.key));
}

TEST_F(Certificates, ContextPolicy) {
  auto files = tls::ensure_self_signed(dir, tls::default_names({}));
  auto ctx = tls::make_server_context(files.cert, files.key);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
  EXPECT_TRUE(SSL_CTX_get_options(ctx->native_handle()) & SSL_OP_NO_RENEGOTIATION);
}

TEST_F(Certificates, MismatchedOrMissingFilesAreErrors) {
  std::filesystem::create_directories(dir + "/a");
  std::filesystem::create_directories(dir + "/b");
  auto a = tls::ensure_self_signed(dir + "/a", tls::default_names({}));
  auto b = tls::ensure_self_signed(dir + "/b", tls::default_names({}));
  EXPECT_THROW(tls::make_server_context(a.cert, b.key), std::runtime_error);
  EXPECT_THROW(tls::make_server_context(dir + "/none.pem", a.key), std::runtime_error);
  EXPECT_THROW(tls::make_server_context(a.cert, dir + "/none.pem"), std::runtime_error);
}

TEST(RecordCache, ReusesTextOnlyForTheSameLiveSnapshot) {
  RecordCache cache;
  int encodes = 0;
  auto encode_as = [&](const std::string& text) {
    return [&encodes, text](std::string& out) {
      ++encodes;
      out += text;
    };
  };
  auto a = std::make_shared<const Object>();
  std::string out;
  cache.append(out, a, encode_as("A1"));
  cache.append(out, a, encode_as("ignored"));
  EXPECT_EQ(out, "A1A1");
  EXPECT_EQ(encodes, 1);

  // A later snapshot is another object: encoded afresh.
  auto b = std::make_shared<const Object>();
  out.clear();
  cache.append(out, b, encode_as("B1"));
  EXPECT_EQ(out, "B1");

  // Snapshots that died are never served, whatever address a new one gets.
  for (int i = 0; i < 100; ++i) {
    auto c = std::make_shared<const Object>();
    out.clear();
    cache.append(out, c, encode_as("C" + std::to_string(i)));
    EXPECT_EQ(out, "C" + std::to_string(i));
  }
}

TEST(RecordCache, StaysWithinItsSize) {
  RecordCache cache(32 * 1024);  // 1 KiB per shard
  std::vector<ObjectPtr> live;
  for (int i = 0; i < 200; ++i) {
    live.push_back(std::make_shared<const Object>());
    std::string out;
    cache.append(out, live.back(), [](std::string& o) { o += std::string(600, 'x'); });
    EXPECT_EQ(out.size(), 600u);
  }
  // Still correct when nothing more fits.
  std::string out;
  cache.append(out, live.front(), [](std::string& o) { o += std::string(600, 'x'); });
  EXPECT_EQ(out, std::string(600, 'x'));
}

}  // namespace
}  // namespace xenapi::testing
