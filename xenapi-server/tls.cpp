// Certificate generation (OpenSSL's C API) and the HTTPS server context.
#include "xenapi-server/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace xenapi::tls {

namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy and AEAD only. TLS
// 1.3 suites are OpenSSL's defaults, which are all strong.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_error(const std::string& what) {
  std::string out = what;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  return out;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void add_extension(X509* x, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || !X509_add_ext(x, ext.get(), -1)) throw std::runtime_error(openssl_error("certificate extension " + value));
}

// Host names go into an OpenSSL config string: allow only what DNS allows, so
// a strange host name cannot inject other entries.
bool plausible_dns_name(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  return true;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Writes `write(FILE*)` to path through a temporary file with the given mode,
// so a crash never leaves a half-written key or certificate behind.
template <typename Fn>
void write_file(const std::string& path, mode_t mode, Fn write) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // the umask must not widen or narrow it
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    throw std::runtime_error("cannot open " + tmp + ": " + std::strerror(errno));
  }
  bool ok = write(f) && std::fflush(f) == 0 && ::fsync(fd) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error(openssl_error("cannot write " + path));
  }
}

}  // namespace

CertificateNames default_names(const std::vector<std::string>& addresses) {
  CertificateNames n;
  auto add_dns = [&](const std::string& s) {
    if (plausible_dns_name(s) && std::find(n.dns.begin(), n.dns.end(), s) == n.dns.end()) n.dns.push_back(s);
  };
  auto add_ip = [&](const std::string& s) {
    if (s != "0.0.0.0" && s != "::" && is_ip(s) && std::find(n.ips.begin(), n.ips.end(), s) == n.ips.end())
      n.ips.push_back(s);
  };
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0]) {
    add_dns(host);
    // The FQDN from the resolver's local sources (/etc/hosts): no network use.
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host, nullptr, &hints, &res) == 0 && res) {
      if (res->ai_canonname) add_dns(res->ai_canonname);
      ::freeaddrinfo(res);
    }
  }
  add_dns("localhost");
  add_ip("127.0.0.1");
  add_ip("::1");
  for (const auto& a : addresses) is_ip(a) ? add_ip(a) : add_dns(a);
  n.common_name = n.dns.empty() ? "localhost" : n.dns.front();
  if (n.common_name.size() > 64) n.common_name = "localhost";  // X.509 limits CN to 64 characters
  return n;
}

void generate_self_signed(const std::string& cert_file, const std::string& key_file, const CertificateNames& names) {
  // EC P-256: every TLS 1.2+ client accepts it, and handshakes cost a fraction of RSA's.
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error(openssl_error("cannot generate an EC P-256 key"));

  X509Ptr x(X509_new());
  if (!x || !X509_set_version(x.get(), X509_VERSION_3)) throw std::runtime_error(openssl_error("X509_new"));
  BnPtr serial(BN_new());
  if (!serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())))
    throw std::runtime_error(openssl_error("certificate serial number"));
  // An hour back tolerates clients whose clocks lag a little.
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_time_adj_ex(X509_getm_notAfter(x.get()), 3650, 0, nullptr);
  X509_NAME* subject = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(names.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), subject);
  if (!X509_set_pubkey(x.get(), key.get())) throw std::runtime_error(openssl_error("X509_set_pubkey"));

  std::string san;
  for (const auto& d : names.dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& i : names.ips) san += (san.empty() ? "IP:" : ",IP:") + i;
  add_extension(x.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(x.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(x.get(), NID_ext_key_usage, "serverAuth");
  add_extension(x.get(), NID_subject_key_identifier, "hash");
  add_extension(x.get(), NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add_extension(x.get(), NID_subject_alt_name, san);
  if (!X509_sign(x.get(), key.get(), EVP_sha256())) throw std::runtime_error(openssl_error("X509_sign"));

  write_file(key_file, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  write_file(cert_file, 0644, [&](FILE* f) { return PEM_write_X509(f, x.get()) == 1; });
}

CertificateFiles ensure_self_signed(const std::string& dir, const CertificateNames& names) {
  CertificateFiles files{dir + "/tls-cert.pem", dir + "/tls-key.pem", false};
  std::error_code ec;
  if (std::filesystem::exists(files.cert, ec) && std::filesystem::exists(files.key, ec)) return files;
  generate_self_signed(files.cert, files.key, names);
  files.generated = true;
  return files;
}

std::shared_ptr<boost::asio::ssl::context> make_server_context(const std::string& cert_file,
                                                               const std::string& key_file) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  // Peers that close without close_notify are ordinary end-of-stream, not errors.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                             SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!SSL_CTX_set_cipher_list(c, kTls12Ciphers)) throw std::runtime_error(openssl_error("TLS cipher list"));
  static const unsigned char kSessionContext[] = "xenapi-server";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1)
    throw std::runtime_error(openssl_error("cannot load TLS certificate " + cert_file));
  if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error(openssl_error("cannot load TLS key " + key_file));
  if (SSL_CTX_check_private_key(c) != 1)
    throw std::runtime_error(openssl_error("TLS key " + key_file + " does not match certificate " + cert_file));
  return ctx;
}

}  // namespace xenapi::tls
