// The server's listeners as configured on the command line: plain HTTP,
// HTTPS (with a configured or generated certificate) and the Unix socket,
// and the port file that tells clients and tests where they ended up.
#pragma once

#include <optional>
#include <string>

#include "xenapi-server/http_server.h"

namespace xenapi {

struct ListenerConfig {
  std::string http;       // "ADDR:PORT"; empty: no plain HTTP listener
  std::string https;      // "ADDR:PORT"; empty: no HTTPS listener
  std::string tls_cert;   // PEM files; both empty: generated into state_dir
  std::string tls_key;    // empty with tls_cert set: the key is in tls_cert
  std::string unix_path;  // empty: no Unix socket
  std::string state_dir;
  std::string management_address;  // also named in a generated certificate
};

struct Listening {
  std::optional<BoundAddress> http, https;
  std::string unix_path;
  std::string tls_cert;  // the certificate HTTPS serves
};

// "ADDR:PORT" or "[V6ADDR]:PORT". False if malformed.
bool split_host_port(const std::string& s, std::string& host, uint16_t& port);

// Opens every configured listener on `server`. Throws std::runtime_error
// with a message for the operator (bad address, port in use, unreadable
// certificate) before anything is served.
Listening open_listeners(HttpServer& server, const ListenerConfig& config);

// {"http": {"address", "port"}, "https": {...}, "unix": "path"}, members
// present for the listeners that are open.
std::string port_file_json(const Listening& l);

// Writes port_file_json atomically (through a temporary file and rename).
void write_port_file(const std::string& path, const Listening& l);

// Raises the open-file limit to its hard maximum: each connection is a
// descriptor, and the default soft limit (1024) is below what hundreds of
// keep-alive clients and long polls need.
void raise_descriptor_limit();

}  // namespace xenapi
