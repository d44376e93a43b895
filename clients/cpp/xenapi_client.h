// A small C++ XenAPI client over XML-RPC (xmlrpc-c's curl transport): log in,
// call messages with the session, unwrap {Status, Value}, raise Failure.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "classes/value.h"

namespace xenapi::client {

// A XenAPI Failure: details = [code, params...].
class Failure : public std::runtime_error {
 public:
  explicit Failure(std::vector<std::string> details);
  const std::vector<std::string>& details() const { return details_; }

 private:
  std::vector<std::string> details_;
};

class Session {
 public:
  // url: "http://host:port/"
  explicit Session(std::string url);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void login(const std::string& user, const std::string& password, const std::string& originator = "xenapi-client");
  void logout();
  const std::string& ref() const { return session_; }

  // Calls Class.message(session, args...) and returns its Value. XenAPI ints
  // arrive as strings (untyped XML-RPC values), exactly as sent.
  Value call(const std::string& method, std::vector<Value> args = {});
  // Calls without adding the session; returns the unwrapped Value (or the
  // bare result when the response is not a {Status, ...} struct).
  Value call_raw(const std::string& method, const std::vector<Value>& args);

 private:
  struct Impl;
  Impl* impl_;
  std::string url_;
  std::string session_;
};

}  // namespace xenapi::client
