// Unit tests of users and passwords (xenapi-server/auth.h): hash format, checks, users file, add_user, generated and file-managed root passwords.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.h"
#include "xenapi-server/auth.h"

namespace xenapi::testing {
namespace {

constexpr int kIter = 1000;  // fast hashes for tests

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void spit(const std::string& path, const std::string& content) { std::ofstream(path) << content; }
unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}
bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

class AuthTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }
  // An Auth whose root password comes from a file.
  Auth with_root_file(const std::string& users_file = "") {
    spit(path("root-pw"), "rootpw\n");
    return Auth(AuthConfig{dir.path(), path("root-pw"), users_file, kIter});
  }
  std::string user_line(const std::string& name, const std::string& role, const std::string& pw) {
    return name + ":" + role + ":" + Auth::hash_password(pw, kIter) + "\n";
  }
};

// ------------------------------------------------------------------ hashes

TEST(AuthHash, Format) {
  std::string h = Auth::hash_password("secret", kIter);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(h, m, std::regex(R"(\$pbkdf2-sha256\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+))")))
      << h;
  EXPECT_EQ(m[1].str(), "1000");
  EXPECT_EQ(m[2].str().size(), 24u);  // 16 salt bytes in base64
  EXPECT_EQ(m[3].str().size(), 44u);  // 32 hash bytes in base64
  EXPECT_EQ(h.find("secret"), std::string::npos);
}

TEST(AuthHash, DefaultIterations) {
  std::string h = Auth::hash_password("x");
  EXPECT_EQ(h.rfind("$pbkdf2-sha256$" + std::to_string(Auth::kDefaultIterations) + "$", 0), 0u) << h;
  EXPECT_TRUE(Auth::check_password("x", h));
}

TEST(AuthHash, CheckRightAndWrong) {
  std::string h = Auth::hash_password("correct horse", kIter);
  EXPECT_TRUE(Auth::check_password("correct horse", h));
  EXPECT_FALSE(Auth::check_password("correct horsE", h));
  EXPECT_FALSE(Auth::check_password("correct horse ", h));
  EXPECT_FALSE(Auth::check_password("", h));
  std::string empty = Auth::hash_password("", kIter);
  EXPECT_TRUE(Auth::check_password("", empty));
  EXPECT_FALSE(Auth::check_password("x", empty));
}

TEST(AuthHash, SameDiffersBySalt) {
  std::string a = Auth::hash_password("pw", kIter);
  std::string b = Auth::hash_password("pw", kIter);
  EXPECT_NE(a, b);
  EXPECT_TRUE(Auth::check_password("pw", a));
  EXPECT_TRUE(Auth::check_password("pw", b));
}

TEST(AuthHash, TamperedHashFails) {
  std::string h = Auth::hash_password("pw", kIter);
  // Another iteration count with the same salt and hash is another hash.
  std::string other_iter = std::regex_replace(h, std::regex(R"(\$1000\$)"), "$1001$");
  ASSERT_NE(other_iter, h);
  EXPECT_FALSE(Auth::check_password("pw", other_iter));
  // Flip one character of the hash part.
  std::string flipped = h;
  char& c = flipped[flipped.size() - 3];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Auth::check_password("pw", flipped));
}

TEST(AuthHash, GarbageNeverMatchesOrThrows) {
  const std::vector<std::string> garbage = {
      "",
      "pw",
      "$",
      "$$$$",
      "$pbkdf2-sha256$",
      "$pbkdf2-sha256$1000$",
      "$pbkdf2-sha256$1000$c2FsdA==",
      "$pbkdf2-sha256$1000$c2FsdA==$",
      "$pbkdf2-sha256$abc$c2FsdA==$aGFzaA==",
      "$pbkdf2-sha256$0$c2FsdA==$aGFzaA==",
      "$pbkdf2-sha256$-5$c2FsdA==$aGFzaA==",
      "$pbkdf2-sha256$1000$!!!!$aGFzaA==",
      "$pbkdf2-sha256$1000$c2FsdA==$!!!!",
      "$pbkdf2-sha256$1000$====$====",
      "$pbkdf2-sha256$1000$c2FsdA==$aGFzaA==$extra",
      "$pbkdf2-sha1$1000$c2FsdA==$aGFzaA==",
      "$md5$abc$def",
      "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==",
  };
  for (const auto& g : garbage) {
    bool ok = true;
    EXPECT_NO_THROW(ok = Auth::check_password("pw", g)) << g;
    EXPECT_FALSE(ok) << g;
    EXPECT_NO_THROW(ok = Auth::check_password("", g)) << g;
    EXPECT_FALSE(ok) << g;
  }
}

TEST(AuthRoles, ParseRole) {
  EXPECT_EQ(Auth::parse_role("pool-admin"), dm::Role::PoolAdmin);
  EXPECT_EQ(Auth::parse_role("pool-operator"), dm::Role::PoolOperator);
  EXPECT_EQ(Auth::parse_role("vm-power-admin"), dm::Role::VmPowerAdmin);
  EXPECT_EQ(Auth::parse_role("vm-admin"), dm::Role::VmAdmin);
  EXPECT_EQ(Auth::parse_role("vm-operator"), dm::Role::VmOperator);
  EXPECT_EQ(Auth::parse_role("read-only"), dm::Role::ReadOnly);
  EXPECT_EQ(Auth::parse_role("Pool-Admin"), std::nullopt);
  EXPECT_EQ(Auth::parse_role("root"), std::nullopt);
  EXPECT_EQ(Auth::parse_role("local-root"), std::nullopt);
  EXPECT_EQ(Auth::parse_role(""), std::nullopt);
}

// ------------------------------------------------------------------ users file

TEST_F(AuthTest, UsersFileGoodLinesCommentsAndBlankLines) {
  spit(path("users"), "# comment line\n\n" + user_line("alice", "vm-admin", "apw") + "# another: with:colons\n" +
                          user_line("bob", "read-only", "bpw"));
  Auth a = with_root_file(path("users"));
  auto alice = a.verify("alice", "apw");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, dm::Role::VmAdmin);
  EXPECT_FALSE(alice->superuser);
  auto bob = a.verify("bob", "bpw");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->role, dm::Role::ReadOnly);
  EXPECT_FALSE(a.verify("alice", "bpw"));
  EXPECT_FALSE(a.verify("carol", "apw"));
  EXPECT_FALSE(a.verify("# comment line", ""));
  auto root = a.verify("root", "rootpw");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->superuser);
}

TEST_F(AuthTest, MissingUsersFileMeansNoOtherUsers) {
  Auth a = with_root_file(path("does-not-exist"));
  EXPECT_TRUE(a.verify("root", "rootpw"));
  EXPECT_FALSE(a.verify("alice", "x"));
}

TEST_F(AuthTest, DefaultUsersFileIsInTheStateDir) {
  spit(path("users"), user_line("dora", "pool-operator", "dpw"));
  Auth a = with_root_file();
  auto d = a.verify("dora", "dpw");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->role, dm::Role::PoolOperator);
}

TEST_F(AuthTest, MalformedUsersFileLinesAreRefused) {
  const std::string hash = Auth::hash_password("pw", kIter);
  const std::vector<std::string> bad = {
      "alice\n",                                // no fields
      "alice:read-only\n",                      // no hash
      "alice:superuser:" + hash + "\n",         // unknown role
      ":read-only:" + hash + "\n",              // empty name
      "root:pool-admin:" + hash + "\n",         // root is not a users-file user
      "alice:read-only:notahash\n",             // not a hash
      "alice:read-only:\n",                     // empty hash
  };
  for (const auto& line : bad) {
    spit(path("users"), user_line("good", "read-only", "g") + line);
    EXPECT_THROW(with_root_file(path("users")), std::runtime_error) << line;
  }
}

TEST_F(AuthTest, RootPasswordFileMustNotBeEmptyOrMissing) {
  spit(path("empty-pw"), "\n");
  EXPECT_THROW(Auth(AuthConfig{dir.path(), path("empty-pw"), "", kIter}), std::runtime_error);
  EXPECT_THROW(Auth(AuthConfig{dir.path(), path("missing-pw"), "", kIter}), std::runtime_error);
}

TEST_F(AuthTest, RootPasswordFileUsesOnlyItsFirstLine) {
  spit(path("pw"), "first\r\nsecond\n");
  Auth a(AuthConfig{dir.path(), path("pw"), "", kIter});
  EXPECT_TRUE(a.verify("root", "first"));
  EXPECT_FALSE(a.verify("root", "first\r"));
  EXPECT_FALSE(a.verify("root", "second"));
  EXPECT_FALSE(exists(path("root-password.hash")));  // nothing generated
  EXPECT_TRUE(a.generated_root_password().empty());
}

// ------------------------------------------------------------------ add_user

TEST_F(AuthTest, AddUserWritesAPrivateFileThatLoads) {
  const std::string users = path("users");
  Auth::add_user(users, "alice", dm::Role::VmOperator, "alice-pw");
  Auth::add_user(users, "bob", dm::Role::PoolAdmin, "bob-pw");
  EXPECT_EQ(mode_of(users), 0600u);
  std::string content = slurp(users);
  EXPECT_EQ(content.find("alice-pw"), std::string::npos);
  EXPECT_TRUE(std::regex_search(content, std::regex(R"(^alice:vm-operator:\$pbkdf2-sha256\$)")));
  EXPECT_TRUE(std::regex_search(content, std::regex(R"(\nbob:pool-admin:\$pbkdf2-sha256\$[^\n]+\n$)")));

  Auth a = with_root_file(users);
  auto alice = a.verify("alice", "alice-pw");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->role, dm::Role::VmOperator);
  EXPECT_TRUE(a.verify("bob", "bob-pw"));
}

TEST_F(AuthTest, AddUserKeepsExistingContentAndMakesItPrivate) {
  const std::string users = path("users");
  spit(users, "# my users\n" + user_line("old", "read-only", "o"));
  ::chmod(users.c_str(), 0644);
  Auth::add_user(users, "new", dm::Role::VmAdmin, "n");
  EXPECT_EQ(mode_of(users), 0600u);
  EXPECT_EQ(slurp(users).rfind("# my users\nold:read-only:", 0), 0u);
  Auth a = with_root_file(users);
  EXPECT_TRUE(a.verify("old", "o"));
  EXPECT_TRUE(a.verify("new", "n"));
}

TEST_F(AuthTest, AddUserRefusesDuplicatesRootAndBadNames) {
  const std::string users = path("users");
  Auth::add_user(users, "alice", dm::Role::ReadOnly, "pw");
  const std::string before = slurp(users);
  EXPECT_THROW(Auth::add_user(users, "alice", dm::Role::PoolAdmin, "other"), std::runtime_error);
  EXPECT_THROW(Auth::add_user(users, "root", dm::Role::PoolAdmin, "pw"), std::runtime_error);
  EXPECT_THROW(Auth::add_user(users, "", dm::Role::ReadOnly, "pw"), std::runtime_error);
  EXPECT_THROW(Auth::add_user(users, "a:b", dm::Role::ReadOnly, "pw"), std::runtime_error);
  EXPECT_EQ(slurp(users), before);
  // A prefix of an existing name is another user.
  EXPECT_NO_THROW(Auth::add_user(users, "ali", dm::Role::ReadOnly, "pw"));
}

TEST_F(AuthTest, AddUserRefusesNamesThatWouldBreakTheFile) {
  // A line break in the name would write a malformed line that stops the server from starting.
  const std::string users = path("users");
  EXPECT_THROW(Auth::add_user(users, "eve\nmallory", dm::Role::ReadOnly, "pw"), std::runtime_error);
  EXPECT_NO_THROW(with_root_file(users));
}

// ------------------------------------------------------------------ generated root password

TEST_F(AuthTest, GeneratedRootPasswordIsStoredOnlyAsAPrivateHash) {
  Auth a(AuthConfig{dir.path(), "", "", kIter});
  const std::string pw = a.generated_root_password();
  ASSERT_FALSE(pw.empty());
  EXPECT_GE(pw.size(), 16u);
  const std::string hash_file = path("root-password.hash");
  ASSERT_TRUE(exists(hash_file));
  EXPECT_EQ(mode_of(hash_file), 0600u);
  std::string content = slurp(hash_file);
  EXPECT_EQ(content.find(pw), std::string::npos);
  EXPECT_EQ(content.rfind("$pbkdf2-sha256$", 0), 0u);
  EXPECT_FALSE(exists(hash_file + ".tmp"));

  auto root = a.verify("root", pw);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->superuser);
  EXPECT_EQ(root->name, "root");
  EXPECT_FALSE(a.verify("root", pw + "x"));
}

TEST_F(AuthTest, GeneratedRootPasswordIsKeptAcrossRestarts) {
  std::string pw;
  {
    Auth first(AuthConfig{dir.path(), "", "", kIter});
    pw = first.generated_root_password();
  }
  const std::string stored = slurp(path("root-password.hash"));
  Auth second(AuthConfig{dir.path(), "", "", kIter});
  EXPECT_TRUE(second.generated_root_password().empty());
  EXPECT_EQ(slurp(path("root-password.hash")), stored);
  EXPECT_TRUE(second.verify("root", pw));
}

TEST_F(AuthTest, TwoGeneratedPasswordsDiffer) {
  TempDir other;
  Auth a(AuthConfig{dir.path(), "", "", kIter});
  Auth b(AuthConfig{other.path(), "", "", kIter});
  EXPECT_NE(a.generated_root_password(), b.generated_root_password());
}

TEST_F(AuthTest, CorruptRootHashFileIsRefused) {
  spit(path("root-password.hash"), "plaintext-password\n");
  EXPECT_THROW(Auth(AuthConfig{dir.path(), "", "", kIter}), std::runtime_error);
}

TEST_F(AuthTest, SetRootPasswordReplacesTheStoredHash) {
  Auth a(AuthConfig{dir.path(), "", "", kIter});
  const std::string old = a.generated_root_password();
  ASSERT_TRUE(a.verify("root", old));  // now cached
  a.set_root_password("brand-new");
  EXPECT_FALSE(a.verify("root", old));
  EXPECT_TRUE(a.verify("root", "brand-new"));
  EXPECT_EQ(mode_of(path("root-password.hash")), 0600u);
  EXPECT_EQ(slurp(path("root-password.hash")).find("brand-new"), std::string::npos);
  Auth restarted(AuthConfig{dir.path(), "", "", kIter});
  EXPECT_TRUE(restarted.verify("root", "brand-new"));
  EXPECT_FALSE(restarted.verify("root", old));
}

TEST_F(AuthTest, SetRootPasswordIsRefusedWithARootPasswordFile) {
  Auth a = with_root_file();
  EXPECT_THROW(a.set_root_password("other"), std::runtime_error);
  EXPECT_TRUE(a.verify("root", "rootpw"));
  EXPECT_FALSE(a.verify("root", "other"));
  EXPECT_FALSE(exists(path("root-password.hash")));
}

TEST_F(AuthTest, VerifyCacheNeverAcceptsAWrongPassword) {
  Auth a = with_root_file();
  EXPECT_TRUE(a.verify("root", "rootpw"));
  EXPECT_TRUE(a.verify("root", "rootpw"));  // cached
  EXPECT_FALSE(a.verify("root", "rootpw2"));
  EXPECT_FALSE(a.verify("root", ""));
  EXPECT_TRUE(a.verify("root", "rootpw"));
}

}  // namespace
}  // namespace xenapi::testing
