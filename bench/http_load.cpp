// A keep-alive HTTP/1.1 load generator (plain or TLS) for bench/run-transport-bench: N connections each repeat an operation of one or more requests and the rate of completed operations is reported.
//
// usage: bench_http_load --host H --port P [--tls] --connections N [--threads T]
//                        [--warmup S] [--duration S] [--expect TEXT]
//                        --step METHOD PATH BODYFILE [--step ...]
// A body file may contain @SESSION@, replaced by the last "OpaqueRef:..."
// found in an earlier answer of the same operation (login, then logout).
// BODYFILE "-" means no body. Prints one JSON line: ops, seconds, rate,
// errors, p50_us, p99_us, bytes_per_op, min_conn_ops, all_ops (every
// operation completed, warm-up and drain included: for CPU per operation).
//
// rate is paced per connection: the sum over connections of (completions - 1)
// / (time from first to last completion in the window). Unlike completions /
// window it stays right when an operation takes a sizeable part of the window
// (a slow server answering many connections at once finishes them in bursts).
// --min-conn-ops K extends the window (up to --max-duration) until every
// connection has completed K operations in it.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Step {
  std::string method, path, body;
  bool templated = false;
};

struct Config {
  std::string host = "127.0.0.1";
  std::string port;
  bool tls = false;
  unsigned connections = 1;
  unsigned threads = 0;
  double warmup = 1.0;
  double duration = 3.0;
  double max_duration = 0;  // 0: duration
  unsigned min_conn_ops = 0;
  std::string expect;
  std::vector<Step> steps;
};

struct Shared {
  std::atomic<bool> measuring{false}, stopping{false};
  std::atomic<uint64_t> ops{0}, errors{0}, bytes{0};
  std::atomic<uint64_t> all_ops{0};  // also those of the warm-up and the drain
  std::atomic<unsigned> conns_below{0};  // connections with fewer than min_conn_ops completions
};

std::string request_text(const Config& c, const Step& s, const std::string& body) {
  std::string r;
  r.reserve(160 + body.size());
  r += s.method;
  r += ' ';
  r += s.path;
  r += " HTTP/1.1\r\nHost: ";
  r += c.host;
  r += "\r\nUser-Agent: bench_http_load\r\n";
  if (s.method != "GET") {
    r += "Content-Type: text/xml\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += "\r\n";
  }
  r += "\r\n";
  r += body;
  return r;
}

// Case-insensitive search for a header's value in a response head.
long content_length(std::string_view head) {
  static constexpr std::string_view name = "\r\ncontent-length:";
  auto it = std::search(head.begin(), head.end(), name.begin(), name.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  if (it == head.end()) return -1;
  return std::strtol(&*(it + name.size()), nullptr, 10);
}

template <class Stream>
class Conn : public std::enable_shared_from_this<Conn<Stream>> {
 public:
  Conn(Stream s, const Config& c, Shared& sh, const std::vector<std::string>& fixed)
      : s_(std::move(s)), c_(c), sh_(sh), fixed_(fixed) {
    buf_.resize(64 * 1024);
  }

  void start(tcp::endpoint ep) {
    auto self = this->shared_from_this();
    lowest().async_connect(ep, [self](boost::system::error_code ec) {
      if (ec) return self->fail("connect", ec);
      lowest_socket(self->s_).set_option(tcp::no_delay(true));
      if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
        self->s_.async_handshake(ssl::stream_base::client, [self](boost::system::error_code ec) {
          if (ec) return self->fail("handshake", ec);
          self->begin_op();
        });
      } else {
        self->begin_op();
      }
    });
  }

  std::vector<uint32_t> latencies;
  // Completions in the measuring window: count, first and last.
  uint64_t done = 0;
  Clock::time_point first_done, last_done;

 private:
  static tcp::socket& lowest_socket(tcp::socket& s) { return s; }
  static tcp::socket& lowest_socket(ssl::stream<tcp::socket>& s) { return s.next_layer(); }
  tcp::socket& lowest() { return lowest_socket(s_); }

  void fail(const char* what, boost::system::error_code ec) {
    sh_.errors++;
    if (!sh_.stopping) std::fprintf(stderr, "bench_http_load: %s: %s\n", what, ec.message().c_str());
  }

  void begin_op() {
    if (sh_.stopping) return close();
    op_start_ = Clock::now();
    step_ = 0;
    op_bytes_ = 0;
    send();
  }

  void send() {
    const Step& st = c_.steps[step_];
    const std::string* req = &fixed_[step_];
    if (st.templated) {
      std::string body = st.body;
      for (size_t p; (p = body.find("@SESSION@")) != std::string::npos;) body.replace(p, 9, session_);
      req_ = request_text(c_, st, body);
      req = &req_;
    }
    auto self = this->shared_from_this();
    asio::async_write(s_, asio::buffer(*req), [self](boost::system::error_code ec, size_t) {
      if (ec) return self->fail("write", ec);
      self->read();
    });
  }

  void read() {
    if (end_ == buf_.size()) {
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      } else {
        buf_.resize(buf_.size() * 2);
      }
    }
    auto self = this->shared_from_this();
    s_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                       [self](boost::system::error_code ec, size_t n) {
                         if (ec) return self->fail("read", ec);
                         self->end_ += n;
                         self->parse();
                       });
  }

  void parse() {
    std::string_view have(buf_.data() + begin_, end_ - begin_);
    size_t head_end = have.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return read();
    long len = content_length(have.substr(0, head_end + 2));
    if (len < 0) {
      sh_.errors++;
      std::fprintf(stderr, "bench_http_load: answer without Content-Length\n");
      return close();
    }
    size_t total = head_end + 4 + static_cast<size_t>(len);
    if (have.size() < total) {
      if (buf_.size() < total) {  // room for the whole answer
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        buf_.resize(std::max(total, buf_.size() * 2));
      }
      return read();
    }
    std::string_view body = have.substr(head_end + 4, static_cast<size_t>(len));
    bool ok = have.substr(0, 12).find(" 200") != std::string_view::npos &&
              (c_.expect.empty() || body.find(c_.expect) != std::string_view::npos);
    if (!ok) {
      sh_.errors++;
      if (sh_.errors < 5)
        std::fprintf(stderr, "bench_http_load: unexpected answer: %.*s\n",
                     static_cast<int>(std::min<size_t>(have.size(), 300)), have.data());
    }
    size_t ref = body.find("OpaqueRef:");
    if (ref != std::string_view::npos) {
      size_t stop = body.find_first_of("<\"", ref);
      session_.assign(body.substr(ref, stop - ref));
    }
    op_bytes_ += total;
    begin_ += total;
    if (begin_ == end_) begin_ = end_ = 0;
    if (++step_ < c_.steps.size()) return send();
    sh_.all_ops++;
    if (sh_.measuring && !sh_.stopping) {
      auto now = Clock::now();
      sh_.ops++;
      sh_.bytes += op_bytes_;
      latencies.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - op_start_).count()));
      if (done++ == 0) first_done = now;
      last_done = now;
      if (done == c_.min_conn_ops) sh_.conns_below--;
    }
    begin_op();
  }

  void close() {
    boost::system::error_code ec;
    lowest().close(ec);
  }

  Stream s_;
  const Config& c_;
  Shared& sh_;
  const std::vector<std::string>& fixed_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0, step_ = 0, op_bytes_ = 0;
  std::string req_, session_;
  Clock::time_point op_start_;
};

std::string slurp(const std::string& path) {
  if (path == "-") return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int usage() {
  std::cerr << "usage: bench_http_load --host H --port P [--tls] --connections N [--threads T] [--warmup S]\n"
               "                       [--duration S] [--min-conn-ops K --max-duration S] [--expect TEXT]\n"
               "                       --step METHOD PATH BODYFILE [--step ...]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
        return argv[++i];
      };
      if (a == "--host") c.host = next();
      else if (a == "--port") c.port = next();
      else if (a == "--tls") c.tls = true;
      else if (a == "--connections") c.connections = std::stoul(next());
      else if (a == "--threads") c.threads = std::stoul(next());
      else if (a == "--warmup") c.warmup = std::stod(next());
      else if (a == "--duration") c.duration = std::stod(next());
      else if (a == "--max-duration") c.max_duration = std::stod(next());
      else if (a == "--min-conn-ops") c.min_conn_ops = std::stoul(next());
      else if (a == "--expect") c.expect = next();
      else if (a == "--step") {
        Step s;
        s.method = next();
        s.path = next();
        s.body = slurp(next());
        s.templated = s.body.find("@SESSION@") != std::string::npos;
        c.steps.push_back(std::move(s));
      } else return usage();
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return usage();
  }
  if (c.port.empty() || c.steps.empty() || c.connections == 0) return usage();
  unsigned threads = c.threads ? c.threads : std::min(2u, c.connections);

  std::vector<std::string> fixed;
  for (const auto& s : c.steps) fixed.push_back(request_text(c, s, s.body));

  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_none);  // a benchmark of our own loopback servers
  Shared sh;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (unsigned t = 0; t < threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
  tcp::endpoint ep(asio::ip::make_address(c.host), static_cast<unsigned short>(std::stoul(c.port)));

  std::vector<std::shared_ptr<Conn<tcp::socket>>> plain;
  std::vector<std::shared_ptr<Conn<ssl::stream<tcp::socket>>>> secure;
  for (unsigned i = 0; i < c.connections; ++i) {
    asio::io_context& io = *ios[i % threads];
    if (c.tls) {
      secure.push_back(std::make_shared<Conn<ssl::stream<tcp::socket>>>(ssl::stream<tcp::socket>(io, tls), c, sh,
                                                                         fixed));
      secure.back()->start(ep);
    } else {
      plain.push_back(std::make_shared<Conn<tcp::socket>>(tcp::socket(io), c, sh, fixed));
      plain.back()->start(ep);
    }
  }

  std::vector<std::thread> runners;
  for (auto& io : ios) runners.emplace_back([&io] { io->run(); });
  std::this_thread::sleep_for(std::chrono::duration<double>(c.warmup));
  sh.conns_below = c.min_conn_ops ? c.connections : 0;
  sh.measuring = true;
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(c.duration));
  auto t_max = t0 + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(std::max(c.max_duration, c.duration)));
  while (sh.conns_below > 0 && Clock::now() < t_max) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sh.stopping = true;
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t ops = sh.ops;
  // Let in-flight operations finish (bounded), then stop.
  auto drain_deadline = Clock::now() + std::chrono::seconds(30);
  for (auto& io : ios) {
    while (!io->stopped() && Clock::now() < drain_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    io->stop();
  }
  for (auto& t : runners) t.join();

  std::vector<uint32_t> lat;
  double paced = 0;
  uint64_t min_conn_ops = UINT64_MAX;
  auto collect = [&](auto& conns) {
    for (auto& p : conns) {
      lat.insert(lat.end(), p->latencies.begin(), p->latencies.end());
      min_conn_ops = std::min(min_conn_ops, p->done);
      double span = std::chrono::duration<double>(p->last_done - p->first_done).count();
      if (p->done >= 2 && span > 0) paced += static_cast<double>(p->done - 1) / span;
    }
  };
  collect(plain);
  collect(secure);
  // Too few completions on some connection to pace it: completions / window.
  double rate = min_conn_ops >= 2 ? paced : ops / secs;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) { return lat.empty() ? 0u : lat[std::min(lat.size() - 1, size_t(q * lat.size()))]; };
  std::printf("{\"ops\": %llu, \"seconds\": %.3f, \"rate\": %.1f, \"window_rate\": %.1f, \"errors\": %llu, "
              "\"p50_us\": %u, \"p99_us\": %u, \"bytes_per_op\": %llu, \"min_conn_ops\": %llu, \"all_ops\": %llu}\n",
              static_cast<unsigned long long>(ops), secs, rate, ops / secs,
              static_cast<unsigned long long>(sh.errors.load()), pct(0.5), pct(0.99),
              static_cast<unsigned long long>(ops ? sh.bytes / std::max<uint64_t>(ops, 1) : 0),
              static_cast<unsigned long long>(min_conn_ops == UINT64_MAX ? 0 : min_conn_ops),
              static_cast<unsigned long long>(sh.all_ops.load()));
  return sh.errors && !ops ? 1 : 0;
}
