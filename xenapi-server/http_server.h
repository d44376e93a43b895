// The HTTP/1.1 transport (Boost.Beast on Asio): keep-alive connections, a
// request body limit, and routing of POSTs to the RPC codecs. Every POST path
// except /jsonrpc carries XML-RPC.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace xenapi {

class Dispatcher;

struct HttpOptions {
  size_t max_body = 300 * 1024;               // xapi's http_limit_max_rpc_size
  size_t max_header = 64 * 1024;
  std::chrono::seconds idle_timeout{600};     // a kept-alive connection with no request
  std::chrono::seconds io_timeout{60};        // reading one request / writing one response
  int backlog = 4096;
};

struct BoundAddress {
  std::string address;
  uint16_t port = 0;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Dispatcher& dispatcher, HttpOptions opts = {});
  ~HttpServer();

  // Listens on addr:port (port 0 picks a free one) and starts accepting.
  // Throws std::runtime_error if the address cannot be bound.
  BoundAddress listen(const std::string& addr, uint16_t port);
  // Stops accepting; open connections finish their current request.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xenapi
