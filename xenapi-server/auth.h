// Users and passwords. Passwords are kept only as salted PBKDF2-HMAC-SHA256
// hashes ("$pbkdf2-sha256$<iterations>$<salt>$<hash>", base64 parts).
//
// Users: root, whose password comes from --root-password-file or is generated
// on first start (printed once; its hash is stored, mode 0600, in
// <state-dir>/root-password.hash), plus the users of the users file, one per
// line: "name:role:hash" (role: pool-admin, pool-operator, vm-power-admin,
// vm-admin, vm-operator, read-only).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "classes/datamodel/declare.h"

namespace xenapi {

struct User {
  std::string name;
  dm::Role role = dm::Role::ReadOnly;
  bool superuser = false;  // root
};

struct AuthConfig {
  std::string state_dir;
  std::string root_password_file;  // plaintext password, first line
  std::string users_file;          // default <state-dir>/users
  int iterations = 0;              // 0: the default
};

class Auth {
 public:
  static constexpr int kDefaultIterations = 100000;

  // Loads users; generates the root password on first start. Throws
  // std::runtime_error for unreadable or malformed files.
  explicit Auth(AuthConfig cfg);

  // The user if name and password match. Slow (a hash) unless this exact pair
  // was verified recently.
  std::optional<User> verify(const std::string& name, const std::string& password);

  // The user of that name, if there is one (no password check).
  std::optional<User> find(const std::string& name);

  // Replaces root's password (stored hash). Throws std::runtime_error when the
  // root password is managed by --root-password-file.
  void set_root_password(const std::string& password);

  // Non-empty once, right after a password was generated on first start.
  const std::string& generated_root_password() const { return generated_; }

  static std::string hash_password(const std::string& password, int iterations = kDefaultIterations);
  static bool check_password(const std::string& password, const std::string& encoded);
  // "pool-admin" -> PoolAdmin; nullopt for an unknown name.
  static std::optional<dm::Role> parse_role(const std::string& name);
  // Appends "name:role:hash" to a users file (created mode 0600).
  static void add_user(const std::string& users_file, const std::string& name, dm::Role role,
                       const std::string& password);

 private:
  struct Entry {
    User user;
    std::string hash;
  };
  std::string cache_key(const std::string& name, const std::string& password) const;

  AuthConfig cfg_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> users_;
  // Keyed digests of recently verified (name, password) pairs; the key lives
  // only in memory, so nothing here can be used to recover a password.
  std::unordered_map<std::string, std::string> verified_;
  unsigned char cache_secret_[32];
  std::string generated_;
};

}  // namespace xenapi
