// TLS for the HTTPS listener: the server's certificate (configured, or a
// self-signed one generated on first start) and the OpenSSL context policy.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace xenapi::tls {

struct CertificateFiles {
  std::string cert;  // PEM certificate (chain)
  std::string key;   // PEM private key
  bool generated = false;  // created by this start
};

// Names a generated certificate covers: host names go into SubjectAltName as
// DNS entries, addresses as IP entries.
struct CertificateNames {
  std::string common_name;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
};

// The names a self-signed certificate of this host should carry: the host
// name (and its FQDN when known), localhost, the loopback addresses and each
// of `addresses` that is a specific (not wildcard) IP.
CertificateNames default_names(const std::vector<std::string>& addresses);

// Returns `dir`/tls-cert.pem and `dir`/tls-key.pem, first generating them
// (EC P-256 key, mode 0600; self-signed certificate valid ~10 years) when
// either is missing. Throws std::runtime_error on I/O or OpenSSL failures.
CertificateFiles ensure_self_signed(const std::string& dir, const CertificateNames& names);

// Generates a key and self-signed certificate into the given files.
void generate_self_signed(const std::string& cert_file, const std::string& key_file,
                          const CertificateNames& names);

// A server context: TLS 1.2 minimum, forward-secret AEAD ciphers only, no
// renegotiation, the certificate and key loaded and checked against each
// other. Throws std::runtime_error naming the file that failed.
std::shared_ptr<boost::asio::ssl::context> make_server_context(const std::string& cert_file,
                                                               const std::string& key_file);

}  // namespace xenapi::tls
