// Password hashing and the user table.
#include "xenapi-server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "classes/datamodel/datamodel.h"

namespace xenapi {

namespace {

std::string b64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::vector<unsigned char> unb64(const std::string& s) {
  std::vector<unsigned char> out(3 * s.size() / 4 + 3);
  int len = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (len < 0) throw std::runtime_error("bad base64");
  size_t pad = 0;
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void write_private(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

// 20 characters from an unambiguous alphabet (~115 bits).
std::string random_password() {
  static constexpr char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  unsigned char b[20];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string out;
  for (unsigned char c : b) out += alphabet[c % (sizeof alphabet - 1)];
  return out;
}

}  // namespace

std::string Auth::hash_password(const std::string& password, int iterations) {
  unsigned char salt[16], key[32];
  if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("RAND_bytes failed");
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt, iterations,
                        EVP_sha256(), sizeof key, key) != 1)
    throw std::runtime_error("PBKDF2 failed");
  return "$pbkdf2-sha256$" + std::to_string(iterations) + "$" + b64(salt, sizeof salt) + "$" + b64(key, sizeof key);
}

bool Auth::check_password(const std::string& password, const std::string& encoded) {
  auto parts = split(encoded, '$');
  // "", "pbkdf2-sha256", iterations, salt, hash
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "pbkdf2-sha256") return false;
  try {
    int iterations = std::stoi(parts[2]);
    if (iterations < 1) return false;
    auto salt = unb64(parts[3]);
    auto want = unb64(parts[4]);
    if (want.empty()) return false;
    std::vector<unsigned char> got(want.size());
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                          static_cast<int>(salt.size()), iterations, EVP_sha256(), static_cast<int>(got.size()),
                          got.data()) != 1)
      return false;
    return CRYPTO_memcmp(got.data(), want.data(), got.size()) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<dm::Role> Auth::parse_role(const std::string& name) {
  for (dm::Role r : {dm::Role::ReadOnly, dm::Role::VmOperator, dm::Role::VmAdmin, dm::Role::VmPowerAdmin,
                     dm::Role::PoolOperator, dm::Role::PoolAdmin})
    if (name == dm::role_name(r)) return r;
  return std::nullopt;
}

void Auth::add_user(const std::string& users_file, const std::string& name, dm::Role role,
                    const std::string& password) {
  bool printable = std::all_of(name.begin(), name.end(), [](unsigned char c) { return c > 0x20 && c != 0x7f && c != ':'; });
  if (name.empty() || !printable || name == "root")
    throw std::runtime_error("bad user name \"" + name + "\" (no spaces, colons or control characters; not root)");
  std::string content;
  {
    std::ifstream in(users_file);
    std::stringstream ss;
    ss << in.rdbuf();
    content = ss.str();
  }
  for (const auto& line : split(content, '\n'))
    if (line.rfind(name + ":", 0) == 0) throw std::runtime_error("user " + name + " exists already");
  if (!content.empty() && content.back() != '\n') content += '\n';
  content += name + ":" + dm::role_name(role) + ":" + hash_password(password) + "\n";
  write_private(users_file, content);
}

Auth::Auth(AuthConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.iterations <= 0) cfg_.iterations = kDefaultIterations;
  if (RAND_bytes(cache_secret_, sizeof cache_secret_) != 1) throw std::runtime_error("RAND_bytes failed");

  Entry root;
  root.user = User{"root", dm::Role::PoolAdmin, true};
  if (!cfg_.root_password_file.empty()) {
    std::string pw = first_line(cfg_.root_password_file);
    if (pw.empty()) throw std::runtime_error(cfg_.root_password_file + ": empty password");
    root.hash = hash_password(pw, cfg_.iterations);
  } else {
    std::string path = cfg_.state_dir + "/root-password.hash";
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      root.hash = first_line(path);
      if (root.hash.rfind("$pbkdf2-sha256$", 0) != 0) throw std::runtime_error(path + ": not a password hash");
    } else {
      generated_ = random_password();
      root.hash = hash_password(generated_, cfg_.iterations);
      write_private(path, root.hash + "\n");
    }
  }
  users_["root"] = root;

  if (cfg_.users_file.empty()) cfg_.users_file = cfg_.state_dir + "/users";
  std::ifstream in(cfg_.users_file);
  std::string line;
  int n = 0;
  while (in && std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos)
      throw std::runtime_error(cfg_.users_file + ":" + std::to_string(n) + ": expected name:role:hash");
    std::string name = line.substr(0, a), role = line.substr(a + 1, b - a - 1), hash = line.substr(b + 1);
    auto r = parse_role(role);
    if (name.empty() || name == "root" || !r || hash.rfind("$pbkdf2-sha256$", 0) != 0)
      throw std::runtime_error(cfg_.users_file + ":" + std::to_string(n) + ": bad user entry");
    users_[name] = Entry{User{name, *r, false}, hash};
  }
}

std::string Auth::cache_key(const std::string& name, const std::string& password) const {
  unsigned char mac[32];
  unsigned int len = sizeof mac;
  std::string msg = name + '\0' + password;
  HMAC(EVP_sha256(), cache_secret_, sizeof cache_secret_, reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::optional<User> Auth::verify(const std::string& name, const std::string& password) {
  Entry e;
  std::string key = cache_key(name, password);
  {
    std::lock_guard lock(mu_);
    auto it = users_.find(name);
    if (it == users_.end()) return std::nullopt;
    e = it->second;
    auto hit = verified_.find(name);
    if (hit != verified_.end() && hit->second.size() == key.size() &&
        CRYPTO_memcmp(hit->second.data(), key.data(), key.size()) == 0)
      return e.user;
  }
  if (!check_password(password, e.hash)) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = users_.find(name);
  if (it != users_.end() && it->second.hash == e.hash) verified_[name] = key;
  return e.user;
}

std::optional<User> Auth::find(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = users_.find(name);
  if (it == users_.end()) return std::nullopt;
  return it->second.user;
}

void Auth::set_root_password(const std::string& password) {
  if (!cfg_.root_password_file.empty())
    throw std::runtime_error("the root password is managed by --root-password-file");
  std::string hash = hash_password(password, cfg_.iterations);
  write_private(cfg_.state_dir + "/root-password.hash", hash + "\n");
  std::lock_guard lock(mu_);
  users_["root"].hash = hash;
  verified_.erase("root");
}

}  // namespace xenapi
