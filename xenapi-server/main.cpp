// xenapi-server: command line, wiring of the concrete pieces, signals.
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "classes/api/handlers.h"
#include "classes/datamodel/api_dump.h"
#include "classes/events/event_hub.h"
#include "classes/host/bootstrap.h"
#include "classes/store/persist.h"
#include "classes/task/task.h"
#include "classes/vm/reconcile.h"
#include "classes/vm/vm_events.h"
#include "hypervisor-backend/backend.h"
#include "xenapi-server/auth.h"
#include "xenapi-server/dispatcher.h"
#include "xenapi-server/http_server.h"
#include "xenapi-server/listeners.h"
#include "xenapi-server/sessions.h"
#include "xenapi-server/version.h"

namespace {

using namespace xenapi;

// Runs delayed work on the network threads' io_context.
class AsioScheduler : public Scheduler {
 public:
  explicit AsioScheduler(boost::asio::io_context& io) : io_(io) {}
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }

 private:
  boost::asio::io_context& io_;
};

struct Options {
  std::string state_dir = "xenapi-state";
  std::string http = "127.0.0.1:8080";
  std::string https;  // off unless asked for
  std::string tls_cert;
  std::string tls_key;
  std::string unix_path;  // set from the state folder unless --unix is given
  bool https_only = false;
  unsigned idle_timeout = 600;
  unsigned header_timeout = 20;
  std::string backend = "sim";
  std::string backend_uri;
  std::string root_password_file;
  std::string users_file;
  std::string port_file;
  std::string log_level = "info";
  unsigned threads = 0;
  unsigned workers = 16;
  size_t max_queued = 10000;
  bool no_persist = false;
  std::string backup;
  int64_t db_max_pages = 0;  // tests: a database that fills up like a full disk
  int64_t task_retention = 3600;
  double auth_failure_delay = 2.0;
  size_t event_log_size = EventLog::kDefaultMaxEntries;
};

// The address clients should use to reach this host: the listen address, or
// the first non-loopback IPv4 address when listening on all interfaces.
std::string management_address(const std::string& listen) {
  if (listen != "0.0.0.0" && listen != "::") return listen;
  std::string found = "127.0.0.1";
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return found;
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    if (std::string(buf).rfind("127.", 0) != 0) {
      found = buf;
      break;
    }
  }
  freeifaddrs(ifs);
  return found;
}

int run_server(const Options& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.state_dir, ec);
  if (ec) {
    spdlog::critical("cannot create state directory {}: {}", o.state_dir, ec.message());
    return 1;
  }
  ::chmod(o.state_dir.c_str(), 0700);

  // The management address comes from the first network listener.
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 0;
  for (const std::string* l : {&o.http, &o.https}) {
    std::string h;
    if (l->empty()) continue;
    if (!split_host_port(*l, h, http_port)) {
      spdlog::critical("{} expects ADDR:PORT, got \"{}\"", l == &o.http ? "--http" : "--https", *l);
      return 2;
    }
    if (l == &o.http || o.http.empty()) http_host = h;
  }

  auto model = dm::Datamodel::standard();
  if (auto problems = Handlers::global().check(*model); !problems.empty()) {
    for (const auto& p : problems) spdlog::critical("datamodel/handler mismatch: {}", p);
    return 70;
  }

  std::unique_ptr<hv::HypervisorBackend> backend;
  try {
    backend = hv::make_backend(o.backend, hv::BackendOptions{o.backend_uri, o.state_dir, ""});
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 2;
  }

  std::unique_ptr<Auth> auth;
  try {
    auth = std::make_unique<Auth>(AuthConfig{o.state_dir, o.root_password_file, o.users_file, 0});
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  if (!auth->generated_root_password().empty()) {
    std::cout << "Generated the root password (shown only now; its hash is in " << o.state_dir
              << "/root-password.hash): " << auth->generated_root_password() << std::endl;
  }

  boost::asio::io_context io;
  AsioScheduler scheduler(io);
  Store store(model);
  install_derivations(store);
  Events events(store, o.event_log_size);
  std::unique_ptr<Persistence> persist;
  size_t loaded = 0;
  if (!o.no_persist) {
    try {
      auto t0 = std::chrono::steady_clock::now();
      persist = std::make_unique<Persistence>(store, o.state_dir + "/xapi.db");
      persist->limit_pages(o.db_max_pages);
      loaded = persist->load();
      spdlog::info("loaded {} objects from {}/xapi.db in {} ms", loaded, o.state_dir,
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
      events.log.set_epoch(persist->epoch());
      persist->start();
    } catch (const PersistError& e) {
      spdlog::critical("state database: {}", e.what());
      return 3;
    }
  }
  Env env{store, *backend, ProductInfo{}, "", management_address(http_host), nullptr, &scheduler, &events};
  env.product.version = XENAPI_SERVER_VERSION;
  try {
    env.this_host = bootstrap_host(env);
  } catch (const ApiError& e) {
    spdlog::critical("cannot set up the host: {}", e.what());
    return 3;
  }
  vm::install_backend_events(env);
  SessionOptions sopts;
  sopts.failure_delay = std::chrono::milliseconds(static_cast<int64_t>(o.auth_failure_delay * 1000));
  Sessions sessions(env, *auth, sopts);
  env.sessions = &sessions;
  if (loaded > 0) {
    // Both write: a database that cannot take writes stops the start here.
    try {
      vm::ReconcileReport r = vm::reconcile(env);
      spdlog::info("reconciled with the {} backend: {} VMs still running, {} started meanwhile, {} halted; {} "
                   "interrupted tasks failed",
                   backend->name(), r.still_running, r.now_running, r.now_halted, r.tasks_failed);
      spdlog::info("{} sessions carried over", sessions.restore());
    } catch (const ApiError& e) {
      spdlog::critical("cannot bring the state up to date: {}", e.what());
      return 3;
    }
  }
  DispatcherOptions dopts;
  dopts.workers = o.workers;
  dopts.max_queue = o.max_queued;
  Dispatcher dispatcher(env, sessions, dopts);

  HttpOptions hopts;
  hopts.https_only = o.https_only;
  hopts.idle_timeout = std::chrono::seconds(o.idle_timeout);
  hopts.header_timeout = hopts.handshake_timeout = std::chrono::seconds(o.header_timeout);
  HttpServer http(io, dispatcher, hopts);
  raise_descriptor_limit();
  Listening bound;
  try {
    bound = open_listeners(http, ListenerConfig{o.http, o.https, o.tls_cert, o.tls_key, o.unix_path, o.state_dir,
                                                env.address});
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  spdlog::info("xenapi-server {} listening on{}{}{} (backend {}, state in {})", XENAPI_SERVER_VERSION,
               bound.http ? fmt::format(" http://{}:{}/", bound.http->address, bound.http->port) : "",
               bound.https ? fmt::format(" https://{}:{}/", bound.https->address, bound.https->port) : "",
               bound.unix_path.empty() ? "" : " unix:" + bound.unix_path, backend->name(), o.state_dir);
  if (!o.port_file.empty()) write_port_file(o.port_file, bound);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    http.stop();
    io.stop();
  });

  boost::asio::steady_timer gc(io);
  std::function<void()> schedule_gc = [&] {
    gc.expires_after(std::chrono::seconds(10));
    gc.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (size_t n = sessions.expire_idle()) spdlog::info("expired {} idle sessions", n);
      if (size_t n = collect_tasks(store, o.task_retention)) spdlog::debug("collected {} finished tasks", n);
      schedule_gc();
    });
  };
  schedule_gc();

  unsigned n = o.threads ? o.threads : std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  events.hub.stop();
  dispatcher.stop();
  if (persist) persist->stop();
  if (!o.port_file.empty()) std::filesystem::remove(o.port_file, ec);
  spdlog::info("stopped");
  return 0;
}

int add_user(const Options& o, const std::string& name, const std::string& role) {
  auto r = Auth::parse_role(role);
  if (!r) {
    std::cerr << "unknown role \"" << role
              << "\" (pool-admin, pool-operator, vm-power-admin, vm-admin, vm-operator, read-only)\n";
    return 2;
  }
  std::string password;
  std::getline(std::cin, password);
  if (password.empty()) {
    std::cerr << "no password given on standard input\n";
    return 2;
  }
  std::string file = o.users_file.empty() ? o.state_dir + "/users" : o.users_file;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  try {
    Auth::add_user(file, name, *r, password);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  std::cout << "added " << name << " (" << role << ") to " << file << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"xenapi-server: a XenAPI (Xen Management API) server", "xenapi-server"};
  app.set_version_flag("--version", std::string("xenapi-server ") + XENAPI_SERVER_VERSION);
  app.add_option("--state-dir", o.state_dir, "Folder for the server's state")->capture_default_str();
  app.add_option("--http", o.http, "Plain HTTP listener, ADDR:PORT (port 0: any free port; \"\": none)")
      ->capture_default_str();
  app.add_option("--https", o.https, "HTTPS listener, ADDR:PORT (default: none)");
  app.add_option("--tls-cert", o.tls_cert,
                 "PEM certificate for HTTPS (default: a self-signed one generated into STATE-DIR)");
  app.add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert (default: inside the --tls-cert file)");
  app.add_flag("--https-only", o.https_only, "Serve plain HTTP to loopback peers only");
  auto* unix_opt = app.add_option("--unix", o.unix_path,
                                  "Local Unix socket, pre-authenticated as root (default: STATE-DIR/xapi.sock; "
                                  "\"\": none)");
  app.add_option("--backend", o.backend, "Hypervisor backend: sim")->capture_default_str();
  app.add_option("--backend-uri", o.backend_uri, "Backend connection URI (backends that need one)");
  app.add_option("--root-password-file", o.root_password_file,
                 "File whose first line is the root password (default: generated on first start)");
  app.add_option("--users-file", o.users_file, "Users file (default: STATE-DIR/users)");
  app.add_option("--port-file", o.port_file, "Write the bound addresses here as JSON once listening");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--threads", o.threads, "Network threads (default: one per CPU, at least 2)");
  app.add_option("--workers", o.workers, "Worker threads for blocking and Async calls")->capture_default_str();
  app.add_option("--max-queued-calls", o.max_queued,
                 "Blocking and Async calls that may wait for a worker; beyond, TOO_MANY_PENDING_TASKS")
      ->capture_default_str();
  app.add_flag("--no-persist", o.no_persist, "Keep the state in memory only (it is lost at exit)");
  app.add_option("--backup", o.backup, "Write a consistent copy of the state database (also while a server runs) and exit");
  app.add_option("--db-max-pages", o.db_max_pages, "Most pages the state database may grow to (tests)")
      ->group("");  // hidden
  app.add_option("--task-retention", o.task_retention, "Seconds finished tasks are kept before they are destroyed")
      ->capture_default_str();
  app.add_option("--auth-failure-delay", o.auth_failure_delay, "Seconds to wait before rejecting a bad login")
      ->capture_default_str();
  app.add_option("--event-log-size", o.event_log_size,
                 "Changes kept for event.from/event.next; a client further behind gets EVENTS_LOST")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  std::string user_name, user_role;
  CLI::App* user_add = app.add_subcommand("user-add", "Add a user (password read from standard input)");
  user_add->add_option("name", user_name, "User name")->required();
  user_add->add_option("role", user_role, "pool-admin, pool-operator, vm-power-admin, vm-admin, vm-operator or read-only")
      ->required();

  bool dump_api = false;
  app.add_flag("--dump-api", dump_api, "Print the API (classes, fields, messages, errors) and exit");

  app.add_option("--idle-timeout", o.idle_timeout, "Seconds a kept-alive connection may wait for its next request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--header-timeout", o.header_timeout,
                 "Seconds a client has for a TLS handshake, or from a request's first byte to its last header")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (!unix_opt->count()) o.unix_path = (std::filesystem::path(o.state_dir) / "xapi.sock").string();
  if (dump_api) {
    std::cout << dm::api_dump(*dm::Datamodel::standard());
    return 0;
  }

  auto logger = spdlog::stderr_color_mt("xenapi");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto level = spdlog::level::from_str(o.log_level);
  if (level == spdlog::level::off && o.log_level != "off") {
    std::cerr << "unknown --log-level " << o.log_level << "\n";
    return 2;
  }
  spdlog::set_level(level);

  if (*user_add) return add_user(o, user_name, user_role);
  if (!o.backup.empty()) {
    try {
      Persistence::backup(o.state_dir + "/xapi.db", o.backup);
    } catch (const PersistError& e) {
      std::cerr << e.what() << "\n";
      return 3;
    }
    std::cout << "wrote " << o.backup << "\n";
    return 0;
  }
  return run_server(o);
}
