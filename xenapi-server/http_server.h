// The HTTP/1.1 transport (Boost.Beast on Asio) for three kinds of listener:
// plain TCP, TLS (OpenSSL through Beast's ssl_stream) and the local Unix
// socket. Keep-alive connections with idle, header and I/O deadlines, size
// limits, and routing of POSTs to the RPC codecs: every POST path except
// /jsonrpc carries XML-RPC.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace xenapi {

class Dispatcher;

struct HttpOptions {
  size_t max_body = 300 * 1024;               // xapi's http_limit_max_rpc_size; beyond: 413
  size_t max_header = 16 * 1024;              // request line and headers; beyond: 431
  std::chrono::seconds idle_timeout{600};     // a kept-alive connection waiting for a request
  std::chrono::seconds header_timeout{20};    // first byte of a request to the end of its headers
  std::chrono::seconds io_timeout{60};        // reading one body / writing one response
  std::chrono::seconds handshake_timeout{10}; // TLS handshake
  int backlog = 4096;
  // Plain HTTP answers only loopback peers (403 for others); HTTPS and the
  // Unix socket are unaffected.
  bool https_only = false;
};

struct BoundAddress {
  std::string address;
  uint16_t port = 0;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Dispatcher& dispatcher, HttpOptions opts = {});
  ~HttpServer();

  // Plain HTTP on addr:port (port 0 picks a free one); calls carry
  // Origin::Transport::Http. Throws std::runtime_error if it cannot bind.
  BoundAddress listen(const std::string& addr, uint16_t port);
  // HTTPS with the given server context; calls carry Origin::Transport::Https.
  BoundAddress listen_tls(const std::string& addr, uint16_t port, std::shared_ptr<boost::asio::ssl::context> tls);
  // HTTP on a Unix socket at `path`, mode 0600, accepting only peers running
  // as root or as this server's user; calls carry Origin::Transport::Unix.
  // A stale socket file is replaced; one a live server answers on is an error.
  void listen_unix(const std::string& path);

  // Stops accepting (and removes the Unix socket file); open connections
  // finish their current request.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether a peer address is on this host's loopback (127.0.0.0/8, ::1, or
// IPv4-mapped loopback): the peers --https-only still serves over plain HTTP.
bool is_loopback_address(const std::string& address);

}  // namespace xenapi
