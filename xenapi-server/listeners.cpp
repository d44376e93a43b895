// Opening the configured listeners, and the port file.
#include "xenapi-server/listeners.h"

#include <sys/resource.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "xenapi-server/tls.h"

namespace xenapi {

bool split_host_port(const std::string& s, std::string& host, uint16_t& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    size_t used = 0;
    std::string digits = s.substr(colon + 1);
    int p = std::stoi(digits, &used);
    if (used != digits.size() || p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !host.empty();
}

Listening open_listeners(HttpServer& server, const ListenerConfig& c) {
  Listening l;
  std::string host;
  uint16_t port = 0;
  if (!c.http.empty()) {
    if (!split_host_port(c.http, host, port)) throw std::runtime_error("--http expects ADDR:PORT, got \"" + c.http + "\"");
    l.http = server.listen(host, port);
  }
  if (!c.https.empty()) {
    if (!split_host_port(c.https, host, port))
      throw std::runtime_error("--https expects ADDR:PORT, got \"" + c.https + "\"");
    std::string cert = c.tls_cert, key = c.tls_key.empty() ? c.tls_cert : c.tls_key;
    if (cert.empty()) {
      if (!c.tls_key.empty()) throw std::runtime_error("--tls-key needs --tls-cert");
      auto files = tls::ensure_self_signed(c.state_dir, tls::default_names({host, c.management_address}));
      if (files.generated) spdlog::info("generated a self-signed TLS certificate {} (key {})", files.cert, files.key);
      cert = files.cert;
      key = files.key;
    }
    l.https = server.listen_tls(host, port, tls::make_server_context(cert, key));
    l.tls_cert = cert;
  }
  if (!c.unix_path.empty()) {
    server.listen_unix(c.unix_path);
    std::error_code ec;
    l.unix_path = std::filesystem::absolute(c.unix_path, ec).string();
    if (ec) l.unix_path = c.unix_path;
  }
  if (!l.http && !l.https && l.unix_path.empty()) throw std::runtime_error("no listener configured");
  return l;
}

std::string port_file_json(const Listening& l) {
  nlohmann::json j = nlohmann::json::object();
  if (l.http) j["http"] = {{"address", l.http->address}, {"port", l.http->port}};
  if (l.https) j["https"] = {{"address", l.https->address}, {"port", l.https->port}};
  if (!l.unix_path.empty()) j["unix"] = l.unix_path;
  return j.dump();
}

void write_port_file(const std::string& path, const Listening& l) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port_file_json(l) << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

void raise_descriptor_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace xenapi
