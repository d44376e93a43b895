// HTTP connections: read a request, route it, write the response, repeat.
#include "xenapi-server/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <optional>

#include "xenapi-server/dispatcher.h"
#include "xenapi-server/jsonrpc.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Res = http::response<http::string_body>;

void common_headers(Res& res) {
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::access_control_allow_headers, "X-Requested-With");
}

Res error_page(http::status status, unsigned version, const std::string& why) {
  Res res{status, version};
  res.set(http::field::content_type, "text/html");
  common_headers(res);
  res.body() = "<html><body><h1>HTTP " + std::to_string(static_cast<unsigned>(status)) + " " +
               std::string(http::obsolete_reason(status)) + "</h1>" + why + "</body></html>";
  res.prepare_payload();
  return res;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Dispatcher& d, const HttpOptions& opts)
      : stream_(std::move(socket)), dispatcher_(d), opts_(opts) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void start() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Connection::read_header, shared_from_this()));
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(opts_.max_body);
    parser_->header_limit(static_cast<std::uint32_t>(opts_.max_header));
    // A kept-alive connection may stay idle for long; a started request may not.
    stream_.expires_after(buffer_.size() ? opts_.io_timeout : opts_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(opts_.io_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Connection::on_read, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      return close();
    unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    if (ec == http::error::body_limit) {
      return send(error_page(http::status::payload_too_large, version,
                             "Request bodies are limited to " + std::to_string(opts_.max_body) + " bytes."),
                  false);
    }
    if (ec == http::error::header_limit) {
      return send(error_page(http::status::request_header_fields_too_large, version, "Headers too large."), false);
    }
    send(error_page(http::status::bad_request, version, "Malformed HTTP request."), false);
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    stream_.expires_never();
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> req) {
    const bool keep = req.keep_alive();
    const unsigned version = req.version();
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));

    if (req.method() == http::verb::options) {
      Res res{http::status::ok, version};
      common_headers(res);
      res.set(http::field::access_control_allow_methods, "POST, OPTIONS");
      res.set(http::field::content_type, "text/plain");
      res.keep_alive(keep);
      res.prepare_payload();
      return send(std::move(res), keep);
    }
    if (req.method() != http::verb::post) {
      Res res = error_page(http::status::method_not_allowed, version, "XenAPI calls are HTTP POSTs.");
      res.set(http::field::allow, "POST, OPTIONS");
      res.keep_alive(keep);
      return send(std::move(res), keep);
    }
    if (path == "/jsonrpc") return handle_jsonrpc(req, keep, version);

    xmlrpc::MethodCall call;
    try {
      call = xmlrpc::parse_call(req.body());
    } catch (const xmlrpc::ParseError& e) {
      spdlog::debug("{}: unparsable XML-RPC request: {}", peer_, e.what());
      Res res = error_page(http::status::bad_request, version, "Unparsable XML-RPC request.");
      res.keep_alive(keep);
      return send(std::move(res), keep);
    }

    Request r;
    r.method = std::move(call.method);
    r.params = std::move(call.params);
    r.origin = origin(req);
    auto self = shared_from_this();
    dispatcher_.dispatch(std::move(r), [self, keep, version](Response resp) {
      std::string body;
      body.reserve(512);
      switch (resp.kind) {
        case Response::Kind::Success: xmlrpc::write_success(body, resp.result); break;
        case Response::Kind::Failure: xmlrpc::write_failure(body, resp.error); break;
        case Response::Kind::Plain: xmlrpc::write_plain(body, resp.plain); break;
      }
      self->reply(std::move(body), "text/xml", keep, version);
    });
  }

  void handle_jsonrpc(const http::request<http::string_body>& req, bool keep, unsigned version) {
    auto call = std::make_shared<jsonrpc::MethodCall>();
    try {
      *call = jsonrpc::parse_call(req.body());
    } catch (const jsonrpc::ParseError& e) {
      spdlog::debug("{}: malformed JSON-RPC request: {}", peer_, e.what());
      Res res = error_page(http::status::bad_request, version, "Malformed JSON-RPC request.");
      res.keep_alive(keep);
      return send(std::move(res), keep);
    }
    Request r;
    r.method = call->method;
    r.params = std::move(call->params);
    r.origin = origin(req);
    auto self = shared_from_this();
    dispatcher_.dispatch(std::move(r), [self, call, keep, version](Response resp) {
      std::string body;
      body.reserve(512);
      switch (resp.kind) {
        case Response::Kind::Success: jsonrpc::write_success(body, *call, resp.result); break;
        case Response::Kind::Failure: jsonrpc::write_failure(body, *call, resp.error); break;
        case Response::Kind::Plain: jsonrpc::write_plain(body, *call, resp.plain); break;
      }
      self->reply(std::move(body), "application/json", keep, version);
    });
  }

  Origin origin(const http::request<http::string_body>& req) const {
    Origin o;
    o.transport = Origin::Transport::Http;
    o.peer = peer_;
    o.originator = std::string(req["originator"]);
    o.user_agent = std::string(req[http::field::user_agent]);
    return o;
  }

  // Sends an RPC answer; safe to call from any thread.
  void reply(std::string body, const char* content_type, bool keep, unsigned version) {
    Res res{http::status::ok, version};
    res.set(http::field::content_type, content_type);
    common_headers(res);
    res.keep_alive(keep);
    res.body() = std::move(body);
    res.prepare_payload();
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), res = std::move(res), keep]() mutable {
      self->send(std::move(res), keep);
    });
  }

  void send(Res res, bool keep) {
    res.keep_alive(keep);
    auto msg = std::make_shared<Res>(std::move(res));
    stream_.expires_after(opts_.io_timeout);
    http::async_write(stream_, *msg, [self = shared_from_this(), msg, keep](beast::error_code ec, std::size_t) {
      if (ec || !keep) return self->close();
      self->read_header();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Dispatcher& dispatcher_;
  const HttpOptions& opts_;
  std::string peer_;
};

}  // namespace

struct HttpServer::Impl {
  asio::io_context& io;
  Dispatcher& dispatcher;
  HttpOptions opts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;

  void accept(tcp::acceptor& a) {
    a.async_accept(asio::make_strand(io), [this, &a](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !a.is_open()) return;
      if (!ec) std::make_shared<Connection>(std::move(s), dispatcher, opts)->start();
      else spdlog::warn("accept: {}", ec.message());
      accept(a);
    });
  }
};

HttpServer::HttpServer(asio::io_context& io, Dispatcher& dispatcher, HttpOptions opts)
    : impl_(new Impl{io, dispatcher, opts, {}}) {}

HttpServer::~HttpServer() = default;

BoundAddress HttpServer::listen(const std::string& addr, uint16_t port) {
  beast::error_code ec;
  auto ip = asio::ip::make_address(addr, ec);
  if (ec) throw std::runtime_error("bad listen address \"" + addr + "\": " + ec.message());
  tcp::endpoint ep(ip, port);
  auto a = std::make_unique<tcp::acceptor>(asio::make_strand(impl_->io));
  a->open(ep.protocol(), ec);
  if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(impl_->opts.backlog, ec);
  if (ec) throw std::runtime_error("cannot listen on " + addr + ":" + std::to_string(port) + ": " + ec.message());
  auto bound = a->local_endpoint();
  impl_->accept(*a);
  impl_->acceptors.push_back(std::move(a));
  return BoundAddress{bound.address().to_string(), bound.port()};
}

void HttpServer::stop() {
  for (auto& a : impl_->acceptors) {
    asio::post(a->get_executor(), [acc = a.get()] {
      beast::error_code ec;
      acc->close(ec);
    });
  }
}

}  // namespace xenapi
