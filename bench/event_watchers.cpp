// Benchmark: many concurrent event.from long polls over HTTP against a real
// xenapi-server process. A writer renames one VM round after round; every
// watcher must be woken with that change. Reports the wake-up latency
// distribution (p50/p99/max, from sending the write to each watcher's answer)
// next to baselines measured in the same run on the same server: a plain
// VM.get_name_label and VM.get_record round trip, and the writer's own
// VM.set_name_label round trip (the write is durable before it is answered);
// and the server's CPU use while every watcher is parked, next to the same
// server with nobody waiting (from /proc/<pid>/stat).
//
// usage: bench_event_watchers [--server PATH] [--watchers N] [--sessions N]
//                             [--rounds N] [--idle-seconds S]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kPassword = "bench-password";

struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
  std::string dir;
};
Server* g_server = nullptr;  // stopped by die()

void stop_server(Server& s) {
  if (s.pid > 0) {
    ::kill(s.pid, SIGTERM);
    int status;
    ::waitpid(s.pid, &status, 0);
    s.pid = -1;
  }
  std::error_code ec;
  if (!s.dir.empty()) std::filesystem::remove_all(s.dir, ec);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_event_watchers: %s\n", why.c_str());
  if (g_server) stop_server(*g_server);
  std::_Exit(1);
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '&') out += "&amp;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

std::string str_param(const std::string& s) { return "<param><value>" + xml_escape(s) + "</value></param>"; }

std::string call_body(const std::string& method, const std::string& params) {
  return "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params>" + params +
         "</params></methodCall>";
}

std::string event_from_body(const std::string& session, const std::string& cls, const std::string& token,
                            double timeout) {
  char t[32];
  std::snprintf(t, sizeof t, "%.1f", timeout);
  return call_body("event.from", str_param(session) + "<param><value><array><data><value>" + cls +
                                     "</value></data></array></value></param>" + str_param(token) +
                                     "<param><value><double>" + t + "</double></value></param>");
}

std::string http_request(const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The body of the first complete HTTP response in `buf` (removed from it),
// or false if it is not complete yet.
bool take_response(std::string& buf, std::string& body) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  size_t cl = std::string::npos;
  for (size_t p = 0; p < end;) {
    size_t eol = buf.find("\r\n", p);
    std::string line = buf.substr(p, eol - p);
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind("content-length:", 0) == 0) cl = std::stoul(line.substr(15));
    p = eol + 2;
  }
  if (cl == std::string::npos) die("response without Content-Length");
  if (buf.size() < end + 4 + cl) return false;
  body = buf.substr(end + 4, cl);
  buf.erase(0, end + 4 + cl);
  return true;
}

std::string between(const std::string& s, const std::string& a, const std::string& b, size_t from = 0) {
  size_t i = s.find(a, from);
  if (i == std::string::npos) return "";
  i += a.size();
  size_t j = s.find(b, i);
  return j == std::string::npos ? "" : s.substr(i, j - i);
}

std::string value_of(const std::string& body) {
  if (body.find("<name>Status</name><value>Success</value>") == std::string::npos) die("call failed: " + body.substr(0, 400));
  return between(body, "<name>Value</name><value>", "</value>");
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die(std::string("connect: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        std::this_thread::yield();
        continue;
      }
      die(std::string("send: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
}

// A blocking keep-alive connection for setup calls and the writer.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(connect_to(port)) {}
  ~Client() { ::close(fd_); }
  std::string call(const std::string& body) {
    send_all(fd_, http_request(body));
    std::string out;
    char chunk[65536];
    while (!take_response(buf_, out)) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) die("connection closed");
      buf_.append(chunk, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_;
  std::string buf_;
};

// Starts the server into `s` (registered for die() by the caller).
void start_server(const std::string& binary, Server& s) {
  char tmpl[] = "/tmp/bench-events-XXXXXX";
  if (!::mkdtemp(tmpl)) die("mkdtemp");
  s.dir = tmpl;
  std::ofstream(s.dir + "/pw") << kPassword << "\n";
  std::string port_file = s.dir + "/port.json";
  s.pid = ::fork();
  if (s.pid == 0) {
    std::string log = s.dir + "/server.log";
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(binary.c_str(), binary.c_str(), "--state-dir", s.dir.c_str(), "--http", "127.0.0.1:0", "--port-file",
            port_file.c_str(), "--root-password-file", (s.dir + "/pw").c_str(), "--log-level", "warn",
            "--auth-failure-delay", "0", static_cast<char*>(nullptr));
    std::perror("exec");
    ::_exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(port_file)) {
    if (Clock::now() > deadline) die("the server did not start (see " + s.dir + "/server.log)");
    int status;
    if (::waitpid(s.pid, &status, WNOHANG) == s.pid) die("the server exited (see " + s.dir + "/server.log)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ifstream in(port_file);
  std::stringstream ss;
  ss << in.rdbuf();
  // {"http": {"address": "127.0.0.1", "port": N}, ...}, with or without spaces.
  const std::string text = ss.str();
  size_t at = text.find("\"port\"", text.find("\"http\""));
  if (at != std::string::npos) at = text.find_first_of("0123456789", at);
  if (at == std::string::npos) die("no HTTP port in " + port_file + ": " + text);
  s.port = static_cast<uint16_t>(std::stoi(text.substr(at)));
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string proc_status(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "?";
}

// Context switches of every thread of a process: how often it woke up.
unsigned long long context_switches(pid_t pid) {
  unsigned long long total = 0;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        total += std::stoull(line.substr(line.find(':') + 1));
    }
  }
  return total;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Every watcher: one connection, one event.from in flight at a time.
struct Watcher {
  int fd = -1;
  size_t woken_round = 0;  // the last round this watcher was counted in
  std::string session;
  std::string token;
  std::string buf;
  bool in_flight = false;
};

class Watchers {
 public:
  Watchers(uint16_t port, const std::vector<std::string>& sessions, size_t n, const std::string& token)
      : ws_(n) {
    ep_ = ::epoll_create1(0);
    for (size_t i = 0; i < n; ++i) {
      Watcher& w = ws_[i];
      w.fd = connect_to(port);
      ::fcntl(w.fd, F_SETFL, ::fcntl(w.fd, F_GETFL) | O_NONBLOCK);
      w.session = sessions[i % sessions.size()];
      w.token = token;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, w.fd, &ev);
    }
    for (auto& w : ws_) send(w);
    thread_ = std::thread([this] {
      try {
        loop();
      } catch (const std::exception& e) {
        die(std::string("watchers: ") + e.what());
      }
    });
  }
  ~Watchers() {
    stop_ = true;
    thread_.join();
    for (auto& w : ws_) ::close(w.fd);
    ::close(ep_);
  }

  // Starts a round: answers from now on count as wake-ups of this write.
  void arm(Clock::time_point t0) {
    std::lock_guard lock(mu_);
    t0_ = t0;
    armed_ = true;
    woken_ = 0;
    ++round_;
  }
  // Waits until every watcher answered the armed round; returns latencies (ms).
  std::vector<double> wait_round(std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, limit, [&] { return woken_ >= ws_.size(); }))
      die("only " + std::to_string(woken_) + " of " + std::to_string(ws_.size()) + " watchers woke");
    armed_ = false;
    std::vector<double> out;
    out.swap(latencies_);
    return out;
  }
  // Waits until every watcher has its next call on the wire.
  void wait_all_sent() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == ws_.size(); });
  }
  size_t empty_answers() const { return empty_answers_; }
  size_t extra_answers() const { return extra_answers_; }

 private:
  void send(Watcher& w) {
    send_all(w.fd, http_request(event_from_body(w.session, "vm", w.token, 60.0)));
    w.in_flight = true;
    std::lock_guard lock(mu_);
    ++in_flight_;
    cv_.notify_all();
  }

  void loop() {
    epoll_event evs[256];
    char chunk[65536];
    while (!stop_) {
      int n = ::epoll_wait(ep_, evs, 256, 100);
      auto now = Clock::now();
      for (int k = 0; k < n; ++k) {
        Watcher& w = ws_[evs[k].data.u64];
        for (;;) {
          ssize_t r = ::recv(w.fd, chunk, sizeof chunk, 0);
          if (r > 0) {
            w.buf.append(chunk, static_cast<size_t>(r));
            continue;
          }
          if (r == 0) die("a watcher's connection was closed");
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          if (errno == EINTR) continue;
          die(std::string("recv: ") + std::strerror(errno));
        }
        std::string body;
        while (take_response(w.buf, body)) {
          std::string token = between(body, "<name>token</name><value>", "</value>");
          if (token.empty()) die("event.from failed: " + body.substr(0, 400));
          w.token = token;
          w.in_flight = false;
          const bool has_events = body.find("<name>operation</name>") != std::string::npos;
          {
            std::lock_guard lock(mu_);
            --in_flight_;
            if (!has_events) {
              ++empty_answers_;
            } else if (armed_ && w.woken_round != round_) {
              w.woken_round = round_;
              latencies_.push_back(ms_between(t0_, now));
              ++woken_;
              cv_.notify_all();
            } else {
              ++extra_answers_;  // events outside a round or twice in one: should not happen
            }
          }
          send(w);
        }
      }
    }
  }

  std::vector<Watcher> ws_;
  int ep_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  Clock::time_point t0_;
  bool armed_ = false;
  size_t round_ = 0;
  size_t woken_ = 0;
  size_t in_flight_ = 0;
  size_t empty_answers_ = 0;
  size_t extra_answers_ = 0;
  std::vector<double> latencies_;
};

std::string default_server() {
#ifdef XENAPI_SERVER_BIN
  return XENAPI_SERVER_BIN;
#else
  return "xenapi-server";
#endif
}

}  // namespace

int run(int argc, char** argv) {
  std::string binary = std::getenv("XENAPI_SERVER_BIN") ? std::getenv("XENAPI_SERVER_BIN") : default_server();
  size_t watchers = 200, n_sessions = 20, rounds = 100;
  double idle_seconds = 10;
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--help" || k == "-h" || i + 1 >= argc) {
      std::fprintf(stderr, "usage: bench_event_watchers [--server PATH] [--watchers N] [--sessions N] [--rounds N]\n"
                           "                            [--idle-seconds S]\n");
      return k == "--help" || k == "-h" ? 0 : 2;
    }
    std::string v = argv[i + 1];
    if (k == "--server") binary = v;
    else if (k == "--watchers") watchers = std::stoul(v);
    else if (k == "--sessions") n_sessions = std::stoul(v);
    else if (k == "--rounds") rounds = std::stoul(v);
    else if (k == "--idle-seconds") idle_seconds = std::stod(v);
    else die("unknown option " + k);
  }
  n_sessions = std::max<size_t>(1, std::min(n_sessions, watchers));

  Server server;
  g_server = &server;
  start_server(binary, server);
  Client setup(server.port);
  auto login = [&] {
    return value_of(setup.call(call_body("session.login_with_password", str_param("root") + str_param(kPassword))));
  };
  std::string writer_session = login();
  std::vector<std::string> sessions;
  for (size_t i = 0; i < n_sessions; ++i) sessions.push_back(login());
  std::string vms = setup.call(call_body("VM.get_all", str_param(writer_session)));
  std::string vm = between(vms, "<data><value>", "</value>");
  if (vm.empty()) die("no VM to rename");
  std::string token = between(setup.call(event_from_body(writer_session, "nosuchclass", "", 0.0)),
                              "<name>token</name><value>", "</value>");
  if (token.empty()) die("event.from gave no token");

  // Baseline 1: plain RPC round trips, a small answer and a whole record.
  Client writer(server.port);
  std::vector<double> rtt, rtt_record;
  const size_t samples = std::max<size_t>(rounds, 200);
  for (size_t i = 0; i < 200 + samples; ++i) {
    auto t0 = Clock::now();
    value_of(writer.call(call_body("VM.get_name_label", str_param(writer_session) + str_param(vm))));
    if (i >= 200) rtt.push_back(ms_between(t0, Clock::now()));  // after a warm-up
  }
  for (size_t i = 0; i < 200 + samples; ++i) {
    auto t0 = Clock::now();
    std::string rec = writer.call(call_body("VM.get_record", str_param(writer_session) + str_param(vm)));
    if (rec.find("<name>Status</name><value>Success</value>") == std::string::npos)
      die("VM.get_record failed: " + rec.substr(0, 400));
    if (i >= 200) rtt_record.push_back(ms_between(t0, Clock::now()));
  }

  // Baseline 2: the server's CPU with nobody waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double c0 = cpu_seconds(server.pid);
  unsigned long long s0 = context_switches(server.pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
  double idle_base = (cpu_seconds(server.pid) - c0) / idle_seconds * 100.0;
  unsigned long long wakes_base = context_switches(server.pid) - s0;

  // The watchers, then the writer's rounds.
  auto wsp = std::make_unique<Watchers>(server.port, sessions, watchers, token);
  Watchers& ws = *wsp;
  std::vector<double> wake, write_rtt, first_wake, last_wake;
  for (size_t r = 0; r < rounds; ++r) {
    ws.wait_all_sent();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let them park
    auto t0 = Clock::now();
    ws.arm(t0);
    value_of(writer.call(call_body("VM.set_name_label", str_param(writer_session) + str_param(vm) +
                                                          str_param("round " + std::to_string(r)))));
    write_rtt.push_back(ms_between(t0, Clock::now()));
    auto lat = ws.wait_round(std::chrono::seconds(30));
    first_wake.push_back(*std::min_element(lat.begin(), lat.end()));
    last_wake.push_back(*std::max_element(lat.begin(), lat.end()));
    wake.insert(wake.end(), lat.begin(), lat.end());
  }

  // Every watcher parked: the server's CPU and memory while they wait.
  ws.wait_all_sent();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double c1 = cpu_seconds(server.pid);
  unsigned long long s1 = context_switches(server.pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
  double idle_watching = (cpu_seconds(server.pid) - c1) / idle_seconds * 100.0;
  unsigned long long wakes_watching = context_switches(server.pid) - s1;
  std::string rss = proc_status(server.pid, "VmRSS");
  std::string threads = proc_status(server.pid, "Threads");

  std::printf("event.from watchers: %zu on %zu sessions, %zu rounds of VM.set_name_label (%zu wake-ups)\n", watchers,
              n_sessions, rounds, wake.size());
  std::printf("  wake-up latency, write sent -> watcher answered: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              percentile(wake, 50), percentile(wake, 99), percentile(wake, 100));
  std::printf("  per round, first watcher answered:               p50 %.2f ms  p99 %.2f ms\n",
              percentile(first_wake, 50), percentile(first_wake, 99));
  std::printf("  per round, last watcher answered:                p50 %.2f ms  p99 %.2f ms\n",
              percentile(last_wake, 50), percentile(last_wake, 99));
  std::printf("  baseline, the writer's VM.set_name_label answered: p50 %.2f ms  p99 %.2f ms\n",
              percentile(write_rtt, 50), percentile(write_rtt, 99));
  std::printf("  baseline, one VM.get_name_label round trip:       p50 %.2f ms  p99 %.2f ms\n", percentile(rtt, 50),
              percentile(rtt, 99));
  std::printf("  baseline, one VM.get_record round trip:           p50 %.2f ms  p99 %.2f ms\n",
              percentile(rtt_record, 50), percentile(rtt_record, 99));
  std::printf("  server CPU over %.0f s: %.2f%% of one core with %zu parked watchers, %.2f%% with none "
              "(resolution %.2f%%)\n",
              idle_seconds, idle_watching, watchers, idle_base,
              100.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)) / idle_seconds);
  std::printf("  server thread wake-ups (context switches) over %.0f s: %llu with %zu parked watchers, %llu with none\n",
              idle_seconds, wakes_watching, watchers, wakes_base);
  std::printf("  server with %zu parked watchers: RSS %s, %s threads; empty answers %zu, extra answers %zu\n",
              watchers, rss.c_str(), threads.c_str(), ws.empty_answers(), ws.extra_answers());
  wsp.reset();  // before the server goes
  stop_server(server);
  g_server = nullptr;
  return 0;
}

// An exception (a malformed answer, say) must not leave the server running.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    die(e.what());
  }
}
