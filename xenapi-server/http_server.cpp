// HTTP connections on TCP, TLS and Unix sockets: (handshake,) wait for a
// request, read it under deadlines, route it, write the answer, repeat.
#include "xenapi-server/http_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <optional>
#include <spdlog/spdlog.h>

#include "xenapi-server/dispatcher.h"
#include "xenapi-server/jsonrpc.h"
#include "xenapi-server/tls_socket.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

namespace {

using PlainStream = tcp::socket;
using UnixStream = unix_socket::socket;

// The head of a response, written by hand: it is on every call's path, and
// Beast's generic header container costs more than the encoding of a small
// record.
void append_head(std::string& h, unsigned status, std::string_view reason, unsigned version,
                 std::string_view content_type, size_t length, bool keep, std::string_view extra = {}) {
  h += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += reason;
  h += "\r\nContent-Type: ";
  h += content_type;
  // Browser-based clients call from other origins.
  h += "\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: X-Requested-With\r\nContent-Length: ";
  h += std::to_string(length);
  h += "\r\n";
  if (!keep) h += "Connection: close\r\n";
  else if (version == 10) h += "Connection: keep-alive\r\n";
  h += extra;
  h += "\r\n";
}

std::string error_body(http::status status, const std::string& why) {
  return "<html><body><h1>HTTP " + std::to_string(static_cast<unsigned>(status)) + " " +
         std::string(http::obsolete_reason(status)) + "</h1>" + why + "</body></html>";
}

struct Peer {
  Origin::Transport transport;
  std::string name;  // "127.0.0.1:51234", "unix:uid=0,pid=42"
  bool refused = false;  // plain HTTP under --https-only from a remote peer
};

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsSocket>;
  using Clock = std::chrono::steady_clock;

 public:
  template <class Socket>
  Connection(Socket&& socket, Peer peer, Dispatcher& d, const HttpOptions& opts)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), peer_(std::move(peer)), dispatcher_(d),
        opts_(opts) {}
  template <class Socket>
  Connection(Socket&& socket, ssl::context& tls, Peer peer, Dispatcher& d, const HttpOptions& opts)
      : stream_(std::move(socket), tls.native_handle()), timer_(stream_.get_executor()), peer_(std::move(peer)),
        dispatcher_(d), opts_(opts) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        // A client that stalls inside the handshake is dropped at this deadline.
        self->arm(self->opts_.handshake_timeout);
        self->stream_.async_handshake([self](beast::error_code ec) {
          if (ec) {
            spdlog::debug("{}: TLS handshake failed: {}", self->peer_.name, ec.message());
            return self->close();
          }
          self->wait_request();
        });
      } else {
        self->wait_request();
      }
    });
  }

 private:
  auto& sock() {
    if constexpr (kTls) return stream_.socket();
    else return stream_;
  }

  // One deadline per connection, for whatever it is doing (handshake, idle,
  // headers, body, answer); when it passes, the socket is closed and the
  // pending operation fails. The timer is re-armed only when a deadline moves
  // earlier, so the common case costs no timer operation.
  void arm(std::chrono::seconds d) {
    deadline_ = Clock::now() + d;
    if (!timer_waiting_ || timer_.expiry() > deadline_) wait_deadline();
  }
  void disarm() { deadline_ = Clock::time_point::max(); }

  void wait_deadline() {
    timer_waiting_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec == asio::error::operation_aborted) return;  // re-armed: another wait is pending
      self->timer_waiting_ = false;
      if (!self->sock().is_open() || self->deadline_ == Clock::time_point::max()) return;
      if (Clock::now() >= self->deadline_) {
        spdlog::debug("{}: deadline passed, closing", self->peer_.name);
        beast::error_code ignored;
        self->sock().close(ignored);
        return;
      }
      self->wait_deadline();
    });
  }

  // A kept-alive connection may idle for long; once the first byte of a
  // request arrives, its headers must follow within header_timeout, so a
  // client trickling bytes (slow loris) cannot hold the connection.
  void wait_request() {
    if (buffer_.size()) return read_header();  // a pipelined request
    arm(opts_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(8192),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(opts_.max_body);
    parser_->header_limit(static_cast<std::uint32_t>(opts_.max_header));
    arm(opts_.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    arm(opts_.io_timeout);
    if (beast::iequals(req[http::field::expect], "100-continue") && !peer_.refused) {
      out_head_ = req.version() == 10 ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n";
      out_body_.clear();
      asio::async_write(stream_, asio::buffer(out_head_),
                        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      self->disarm();  // the call may legitimately take long (event.from)
      self->handle(self->parser_->release());
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor ||
        ec.category() == asio::error::get_ssl_category() || !sock().is_open())
      return close();
    unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    if (ec == http::error::body_limit)
      return send_error(http::status::payload_too_large, version,
                        "Request bodies are limited to " + std::to_string(opts_.max_body) + " bytes.", false);
    if (ec == http::error::header_limit)
      return send_error(http::status::request_header_fields_too_large, version, "Headers too large.", false);
    send_error(http::status::bad_request, version, "Malformed HTTP request.", false);
  }

  void handle(http::request<http::string_body> req) {
    const bool keep = req.keep_alive();
    const unsigned version = req.version();
    if (peer_.refused)
      return send_error(http::status::forbidden, version, "This server accepts remote calls over HTTPS only.", false);
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));

    if (req.method() == http::verb::options) {
      out_body_.clear();
      return compose(200, "OK", version, "text/plain", keep, "Access-Control-Allow-Methods: POST, OPTIONS\r\n");
    }
    if (req.method() != http::verb::post)
      return send_error(http::status::method_not_allowed, version, "XenAPI calls are HTTP POSTs.", keep,
                        "Allow: POST, OPTIONS\r\n");
    if (path == "/jsonrpc") return handle_jsonrpc(req, keep, version);

    xmlrpc::MethodCall call;
    try {
      call = xmlrpc::parse_call(req.body());
    } catch (const xmlrpc::ParseError& e) {
      spdlog::debug("{}: unparsable XML-RPC request: {}", peer_.name, e.what());
      return send_error(http::status::bad_request, version, "Unparsable XML-RPC request.", keep);
    }

    Request r;
    r.method = std::move(call.method);
    r.params = std::move(call.params);
    r.origin = origin(req);
    dispatcher_.dispatch(std::move(r), [self = this->shared_from_this(), keep, version](Response resp) {
      std::string& body = self->answer_buffer();
      switch (resp.kind) {
        case Response::Kind::Success: xmlrpc::write_success(body, resp.result); break;
        case Response::Kind::Failure: xmlrpc::write_failure(body, resp.error); break;
        case Response::Kind::Plain: xmlrpc::write_plain(body, resp.plain); break;
      }
      self->reply("text/xml", keep, version);
    });
  }

  void handle_jsonrpc(const http::request<http::string_body>& req, bool keep, unsigned version) {
    auto call = std::make_shared<jsonrpc::MethodCall>();
    try {
      *call = jsonrpc::parse_call(req.body());
    } catch (const jsonrpc::ParseError& e) {
      spdlog::debug("{}: malformed JSON-RPC request: {}", peer_.name, e.what());
      return send_error(http::status::bad_request, version, "Malformed JSON-RPC request.", keep);
    }
    Request r;
    r.method = call->method;
    r.params = std::move(call->params);
    r.origin = origin(req);
    dispatcher_.dispatch(std::move(r), [self = this->shared_from_this(), call, keep, version](Response resp) {
      std::string& body = self->answer_buffer();
      switch (resp.kind) {
        case Response::Kind::Success: jsonrpc::write_success(body, *call, resp.result); break;
        case Response::Kind::Failure: jsonrpc::write_failure(body, *call, resp.error); break;
        case Response::Kind::Plain: jsonrpc::write_plain(body, *call, resp.plain); break;
      }
      self->reply("application/json", keep, version);
    });
  }

  Origin origin(const http::request<http::string_body>& req) const {
    Origin o;
    o.transport = peer_.transport;
    o.peer = peer_.name;
    o.originator = std::string(req["originator"]);
    o.user_agent = std::string(req[http::field::user_agent]);
    return o;
  }

  // While a call runs, the connection neither reads nor writes, so the answer
  // is encoded straight into the connection's own buffer, whose capacity
  // stays from call to call: no large allocation per answer.
  std::string& answer_buffer() {
    out_body_.clear();
    return out_body_;
  }

  // Sends the answer in out_body_; safe to call from any thread (deferred
  // calls finish on workers or timers).
  void reply(const char* content_type, bool keep, unsigned version) {
    compose_head(200, "OK", version, content_type, keep);
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this(), keep] { self->write(keep); });
  }

  void send_error(http::status status, unsigned version, const std::string& why, bool keep,
                  std::string_view extra = {}) {
    out_body_ = error_body(status, why);
    auto reason = http::obsolete_reason(status);
    compose(static_cast<unsigned>(status), std::string_view(reason.data(), reason.size()), version, "text/html", keep,
            extra);
  }

  void compose(unsigned status, std::string_view reason, unsigned version, std::string_view content_type, bool keep,
               std::string_view extra = {}) {
    compose_head(status, reason, version, content_type, keep, extra);
    write(keep);
  }

  // The head of the answer in out_body_. Over TLS a small answer goes out
  // with its head as one buffer: one record and one send instead of two; a
  // large one is not worth copying.
  void compose_head(unsigned status, std::string_view reason, unsigned version, std::string_view content_type,
                    bool keep, std::string_view extra = {}) {
    out_head_.clear();
    append_head(out_head_, status, reason, version, content_type, out_body_.size(), keep, extra);
    if constexpr (kTls)
      if (out_body_.size() <= kCoalesce) out_head_ += out_body_;
  }
  static constexpr size_t kCoalesce = 16 * 1024;

  void write(bool keep) {
    arm(opts_.io_timeout);
    auto done = [self = this->shared_from_this(), keep](beast::error_code ec, std::size_t) {
      if (ec || !keep) return self->close();
      // A large answer (get_all_records) must not pin its memory while idle.
      if (self->out_body_.capacity() > 64 * 1024) std::string().swap(self->out_body_);
      if (self->out_head_.capacity() > 64 * 1024) std::string().swap(self->out_head_);
      self->wait_request();
    };
    if (kTls && out_body_.size() <= kCoalesce) {
      asio::async_write(stream_, asio::buffer(out_head_), std::move(done));
    } else {
      std::array<asio::const_buffer, 2> bufs{asio::buffer(out_head_), asio::buffer(out_body_)};
      asio::async_write(stream_, bufs, std::move(done));
    }
  }

  void close() {
    disarm();
    if (!sock().is_open()) return;
    beast::error_code ec;
    if constexpr (kTls) stream_.shutdown_now();  // close_notify, without waiting for the peer's
    sock().shutdown(asio::socket_base::shutdown_send, ec);
    sock().close(ec);
    timer_.cancel();
  }

  Stream stream_;
  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timer_waiting_ = false;
  Peer peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_head_, out_body_;
  Dispatcher& dispatcher_;
  const HttpOptions& opts_;
};

bool accept_error_is_transient(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec.value() == ENFILE;
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  beast::error_code ec;
  auto a = asio::ip::make_address(address, ec);
  if (ec) return false;
  if (a.is_v4()) return a.to_v4().is_loopback();
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback();
  return v6.is_loopback();
}

struct HttpServer::Impl {
  asio::io_context& io;
  Dispatcher& dispatcher;
  HttpOptions opts;
  std::vector<std::shared_ptr<tcp::acceptor>> tcp_acceptors;
  std::vector<std::shared_ptr<unix_socket::acceptor>> unix_acceptors;
  std::vector<std::string> unix_paths;
  std::vector<std::shared_ptr<ssl::context>> tls_contexts;

  // Accept errors such as EMFILE repeat at once: pause before retrying, so the
  // loop does not spin while descriptors are exhausted.
  template <class Acceptor, class Retry>
  bool pause_after(const beast::error_code& ec, const std::shared_ptr<Acceptor>& a, Retry retry) {
    if (!accept_error_is_transient(ec)) return false;
    spdlog::warn("accept: {} (pausing 100 ms)", ec.message());
    auto timer = std::make_shared<asio::steady_timer>(a->get_executor(), std::chrono::milliseconds(100));
    timer->async_wait([timer, retry](const beast::error_code&) { retry(); });
    return true;
  }

  void accept_tcp(std::shared_ptr<tcp::acceptor> a, std::shared_ptr<ssl::context> tls) {
    a->async_accept(asio::make_strand(io), [this, a, tls](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !a->is_open()) return;
      if (ec) {
        if (pause_after(ec, a, [this, a, tls] { accept_tcp(a, tls); })) return;
        spdlog::warn("accept: {}", ec.message());
        return accept_tcp(a, tls);
      }
      beast::error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      auto ep = s.remote_endpoint(ignored);
      std::string addr = ep.address().to_string();
      std::string name = ep.address().is_v6() ? "[" + addr + "]:" + std::to_string(ep.port())
                                              : addr + ":" + std::to_string(ep.port());
      if (tls) {
        std::make_shared<Connection<TlsSocket>>(std::move(s), *tls, Peer{Origin::Transport::Https, std::move(name)},
                                                dispatcher, opts)
            ->start();
      } else {
        bool refused = opts.https_only && !is_loopback_address(addr);
        std::make_shared<Connection<PlainStream>>(std::move(s), Peer{Origin::Transport::Http, std::move(name), refused},
                                                  dispatcher, opts)
            ->start();
      }
      accept_tcp(a, tls);
    });
  }

  void accept_unix(std::shared_ptr<unix_socket::acceptor> a) {
    a->async_accept(asio::make_strand(io), [this, a](beast::error_code ec, unix_socket::socket s) {
      if (ec == asio::error::operation_aborted || !a->is_open()) return;
      if (ec) {
        if (pause_after(ec, a, [this, a] { accept_unix(a); })) return;
        spdlog::warn("accept (unix): {}", ec.message());
        return accept_unix(a);
      }
      // The socket is pre-authenticated as the local superuser, so only
      // root and the server's own user may use it, whatever its file mode.
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
          (cred.uid != 0 && cred.uid != ::geteuid())) {
        spdlog::warn("unix socket: refused a peer running as uid {} (pid {})", cred.uid, cred.pid);
        beast::error_code ignored;
        s.close(ignored);
      } else {
        std::string name = "unix:uid=" + std::to_string(cred.uid) + ",pid=" + std::to_string(cred.pid);
        std::make_shared<Connection<UnixStream>>(std::move(s), Peer{Origin::Transport::Unix, std::move(name)},
                                                 dispatcher, opts)
            ->start();
      }
      accept_unix(a);
    });
  }

  std::shared_ptr<tcp::acceptor> bind_tcp(const std::string& addr, uint16_t port) {
    beast::error_code ec;
    auto ip = asio::ip::make_address(addr, ec);
    if (ec) throw std::runtime_error("bad listen address \"" + addr + "\": " + ec.message());
    tcp::endpoint ep(ip, port);
    auto a = std::make_shared<tcp::acceptor>(asio::make_strand(io));
    a->open(ep.protocol(), ec);
    if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ip.is_v6()) a->set_option(asio::ip::v6_only(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(opts.backlog, ec);
    if (ec) throw std::runtime_error("cannot listen on " + addr + ":" + std::to_string(port) + ": " + ec.message());
    tcp_acceptors.push_back(a);
    return a;
  }
};

HttpServer::HttpServer(asio::io_context& io, Dispatcher& dispatcher, HttpOptions opts)
    : impl_(new Impl{io, dispatcher, opts, {}, {}, {}, {}}) {
  // OpenSSL writes TLS sockets with write(), not send(MSG_NOSIGNAL): a peer
  // that has gone must be an EPIPE error, not a signal that ends the server.
  ::signal(SIGPIPE, SIG_IGN);
}

HttpServer::~HttpServer() = default;

BoundAddress HttpServer::listen(const std::string& addr, uint16_t port) {
  auto a = impl_->bind_tcp(addr, port);
  auto bound = a->local_endpoint();
  impl_->accept_tcp(a, nullptr);
  return BoundAddress{bound.address().to_string(), bound.port()};
}

BoundAddress HttpServer::listen_tls(const std::string& addr, uint16_t port, std::shared_ptr<ssl::context> tls) {
  auto a = impl_->bind_tcp(addr, port);
  auto bound = a->local_endpoint();
  impl_->tls_contexts.push_back(tls);
  impl_->accept_tcp(a, std::move(tls));
  return BoundAddress{bound.address().to_string(), bound.port()};
}

void HttpServer::listen_unix(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    throw std::runtime_error("unix socket path too long (" + std::to_string(path.size()) + " bytes): " + path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw std::runtime_error("cannot listen on " + path + ": not a socket");
    // A socket file left by a server that died: replace it, unless something answers.
    unix_socket::socket probe(impl_->io);
    beast::error_code ec;
    probe.connect(unix_socket::endpoint(path), ec);
    if (!ec) throw std::runtime_error("cannot listen on " + path + ": another server is answering there");
    ::unlink(path.c_str());
  }
  auto a = std::make_shared<unix_socket::acceptor>(asio::make_strand(impl_->io));
  beast::error_code ec;
  a->open(unix_socket(), ec);
  // Created 0600 from the start (umask), so there is no moment with wider access.
  mode_t old = ::umask(0177);
  if (!ec) a->bind(unix_socket::endpoint(path), ec);
  ::umask(old);
  if (!ec && ::chmod(path.c_str(), 0600) != 0) ec.assign(errno, beast::system_category());
  if (!ec) a->listen(impl_->opts.backlog, ec);
  if (ec) throw std::runtime_error("cannot listen on " + path + ": " + ec.message());
  impl_->unix_acceptors.push_back(a);
  impl_->unix_paths.push_back(path);
  impl_->accept_unix(a);
}

void HttpServer::stop() {
  for (auto& a : impl_->tcp_acceptors) {
    asio::post(a->get_executor(), [a] {
      beast::error_code ec;
      a->close(ec);
    });
  }
  for (auto& a : impl_->unix_acceptors) {
    asio::post(a->get_executor(), [a] {
      beast::error_code ec;
      a->close(ec);
    });
  }
  for (const auto& p : impl_->unix_paths) ::unlink(p.c_str());
}

}  // namespace xenapi
