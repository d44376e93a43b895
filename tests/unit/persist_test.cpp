// Unit tests of persistence (classes/store/persist.h) and start-up reconciliation (classes/vm/reconcile.h): every field of every stored class round-trips, schema migration and refusal, damaged files, full database, group commit, online backup.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "classes/errors.h"
#include "classes/store/persist.h"
#include "classes/vm/reconcile.h"
#include "harness.h"
#include "value_printer.h"

namespace xenapi::testing {
namespace {

using K = dm::Type::Kind;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs SQL on a database file with a connection of its own; returns the
// first column of the first row ("" if none).
std::string sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  std::string first;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, statement.c_str(), -1, &st, nullptr), SQLITE_OK) << statement << ": "
                                                                                      << sqlite3_errmsg(db);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (first.empty() && sqlite3_column_text(st, 0)) first = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << statement << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return first;
}

// A store with persistence on `path`, loaded and writing.
struct Opened {
  explicit Opened(const std::string& path, int64_t max_pages = 0)
      : store(dm::Datamodel::standard()), persist(store, path) {
    persist.limit_pages(max_pages);
    loaded = persist.load();
    persist.start();
  }
  Store store;
  Persistence persist;
  size_t loaded = 0;

  ObjectPtr get(const std::string& cls, const std::string& ref) {
    return store.read([&](const View& v) { return v.get(store.cls(cls), ref); });
  }
  std::string create(const std::string& cls, const std::vector<std::pair<std::string, Value>>& fields) {
    const dm::Class& c = store.cls(cls);
    return store.write([&](Txn& t) {
      std::vector<Value> v = store.defaults(c);
      for (const auto& [name, value] : fields) v[c.field(name)->index] = value;
      return t.create(c, std::move(v));
    });
  }
  // Every object of every stored class, by ref.
  std::map<std::string, ObjectPtr> everything() {
    std::map<std::string, ObjectPtr> out;
    store.read([&](const View& v) {
      for (const auto& c : store.model().classes())
        if (c->db_class)
          for (const auto& o : v.all(*c)) out[c->name + " " + o->ref] = o;
      return 0;
    });
    return out;
  }
};

// A value of type t that differs from any default and exercises the
// encoding: quotes, backslashes, brackets and spaces in strings, extreme
// integers, non-integral floats. `salt` keeps map keys distinct.
Value sample(const dm::Type& t, int salt = 0) {
  switch (t.kind) {
    case K::String:
      return Value(salt == 0 ? std::string("it's a \"quoted\" \\ (nested) 'value'\twith\nlines, ünïcödé")
                             : std::string(salt == 1 ? "" : "(('k' 'v'))"));
    case K::Int:
      return Value(salt == 0 ? std::numeric_limits<int64_t>::max() : salt == 1 ? std::numeric_limits<int64_t>::min() : 7);
    case K::Float: return Value(salt == 0 ? 0.1 : salt == 1 ? -2.5 : 1e-300);
    case K::Bool: return Value(salt != 1);
    case K::DateTime: return Value(DateTime{1700000000 + salt * 86400 + 59});
    case K::Ref: return Value("OpaqueRef:dangling-" + std::to_string(salt));
    case K::Enum: {
      const auto& values = t.enumeration->values;
      return Value(values[(values.size() - 1 + salt) % values.size()]);
    }
    case K::Set: return Value::array({sample(*t.elem, 0), sample(*t.elem, 1)});
    case K::Option: return Value::array({sample(*t.elem, 0)});
    case K::Map: {
      Map m;
      m.emplace_back(sample(*t.elem, 0), sample(*t.value, 0));
      if (sample(*t.elem, 1) != sample(*t.elem, 0)) m.emplace_back(sample(*t.elem, 1), sample(*t.value, 2));
      return Value(std::move(m));
    }
    default: return Value();
  }
}

class PersistTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string db = dir.path() + "/xapi.db";
};

// ---------------------------------------------------------------- round trip

// Data-driven over the datamodel: one object per stored class with every
// field at a sample value (set sides of relations are derived, so left out).
TEST_F(PersistTest, EveryFieldOfEveryStoredClassSurvivesAReopen) {
  std::map<std::string, ObjectPtr> before;
  uint64_t generation = 0;
  {
    Opened a(db);
    EXPECT_TRUE(a.persist.fresh());
    EXPECT_EQ(a.persist.epoch(), 1u);
    std::set<const dm::Field*> derived;
    for (const auto& r : a.store.model().relations()) derived.insert(r.set);
    size_t classes = 0;
    for (const auto& c : a.store.model().classes()) {
      if (!c->db_class) continue;
      ++classes;
      std::vector<std::pair<std::string, Value>> fields;
      for (const auto& f : c->fields) {
        if (&f == c->uuid || derived.count(&f)) continue;
        Value v = sample(f.type);
        if (v.kind() != Value::Kind::Null) fields.emplace_back(f.name, v);
      }
      a.create(c->name, fields);
    }
    EXPECT_GT(classes, 10u);
    // Changes and a destroy on top.
    std::string vm = a.create("VM", {{"name_label", Value("changed")}});
    a.store.write([&](Txn& t) { t.set(a.store.cls("VM"), vm, "name_description", Value("second")); });
    std::string gone = a.create("VM", {{"name_label", Value("destroyed")}});
    a.store.write([&](Txn& t) { t.destroy(a.store.cls("VM"), gone); });
    before = a.everything();
    generation = a.store.generation();
  }
  Opened b(db);
  EXPECT_FALSE(b.persist.fresh());
  EXPECT_EQ(b.persist.epoch(), 2u);
  EXPECT_EQ(b.persist.loaded_generation(), generation);
  EXPECT_EQ(b.store.generation(), generation);
  std::map<std::string, ObjectPtr> after = b.everything();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [key, o] : before) {
    auto it = after.find(key);
    ASSERT_NE(it, after.end()) << key;
    const Object& x = *it->second;
    EXPECT_EQ(x.created, o->created) << key;
    EXPECT_EQ(x.modified, o->modified) << key;
    const dm::Class& c = b.store.cls(key.substr(0, key.find(' ')));
    for (const auto& f : c.fields) EXPECT_EQ(x.values[f.index], o->values[f.index]) << key << " " << f.name;
  }
}

TEST_F(PersistTest, RelationSetSidesAreRebuiltOnLoad) {
  std::string vm, vbd;
  {
    Opened a(db);
    vm = a.create("VM", {{"name_label", Value("with a disk")}});
    vbd = a.create("VBD", {{"VM", Value(vm)}, {"userdevice", Value("0")}});
  }
  Opened b(db);
  const dm::Class& c = b.store.cls("VM");
  EXPECT_EQ(b.get("VM", vm)->at(c, "VBDs"), Value::array({Value(vbd)}));
}

// Many writers at once: group commit acknowledges each only once it is on
// disk, and nothing acknowledged is missing after a reopen.
TEST_F(PersistTest, ConcurrentWritersAreAllDurable) {
  constexpr int kThreads = 8, kEach = 60;
  std::vector<std::vector<std::string>> made(kThreads);
  {
    Opened a(db);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&, i] {
        for (int j = 0; j < kEach; ++j) {
          std::string ref = a.create("network", {{"name_label", Value("n" + std::to_string(i) + "-" + std::to_string(j))}});
          a.store.write([&](Txn& t) { t.set(a.store.cls("network"), ref, "MTU", Value(int64_t{9000 + j})); });
          made[static_cast<size_t>(i)].push_back(ref);
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(a.persist.failures(), 0u);
  }
  Opened b(db);
  const dm::Class& c = b.store.cls("network");
  for (int i = 0; i < kThreads; ++i)
    for (int j = 0; j < kEach; ++j) {
      ObjectPtr o = b.get("network", made[static_cast<size_t>(i)][static_cast<size_t>(j)]);
      ASSERT_TRUE(o) << i << " " << j;
      EXPECT_EQ(o->at(c, "MTU").integer(), 9000 + j);
    }
}

// ---------------------------------------------------------------- schema

TEST_F(PersistTest, MetaRecordsFormatSchemaVersionAndEnumValues) {
  { Opened a(db); }
  EXPECT_EQ(sql(db, "SELECT value FROM xenapi_meta WHERE key='format'"), std::to_string(Persistence::kFormatVersion));
  EXPECT_EQ(sql(db, "SELECT value FROM xenapi_meta WHERE key='schema'").size(), 16u);
  std::string states = sql(db, "SELECT value FROM xenapi_meta WHERE key='enum:vm_power_state'");
  EXPECT_NE(states.find("Running"), std::string::npos) << states;
}

// An older file: a field and an enum value the datamodel has now are missing.
TEST_F(PersistTest, OlderSchemaIsUpgradedWithoutLosingAnything) {
  std::string vm;
  {
    Opened a(db);
    vm = a.create("VM", {{"name_label", Value("old")}, {"name_description", Value("kept")}});
  }
  const std::string column = dm::Datamodel::standard()->cls("VM")->field("HVM_boot_policy")->column;
  sql(db, "ALTER TABLE VM DROP COLUMN \"" + column + "\"");
  std::string ops = sql(db, "SELECT value FROM xenapi_meta WHERE key='enum:vm_operations'");
  ASSERT_NE(ops.find(",destroy,"), std::string::npos);
  sql(db, "UPDATE xenapi_meta SET value='" + ops.replace(ops.find(",destroy,"), 9, ",") + "' WHERE key='enum:vm_operations'");
  sql(db, "UPDATE xenapi_meta SET value='0000000000000000' WHERE key='schema'");

  Opened b(db);
  const dm::Class& c = b.store.cls("VM");
  ObjectPtr o = b.get("VM", vm);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->at(c, "name_description"), Value("kept"));
  EXPECT_EQ(o->at(c, "HVM_boot_policy"), c.field("HVM_boot_policy")->default_value);
  b.store.write([&](Txn& t) { t.set(c, vm, "HVM_boot_policy", Value("BIOS order")); });
  EXPECT_NE(sql(db, "SELECT value FROM xenapi_meta WHERE key='enum:vm_operations'").find(",destroy,"), std::string::npos);
  EXPECT_NE(sql(db, "SELECT value FROM xenapi_meta WHERE key='schema'"), "0000000000000000");
  EXPECT_EQ(sql(db, "SELECT \"" + column + "\" FROM VM WHERE _ref='" + vm + "'"), "BIOS order");
}

// Each way a file can be newer than this build; the file stays as it was.
struct NewerCase {
  const char* name;
  const char* change;
  const char* mentions;
};

class NewerDatabase : public PersistTest, public ::testing::WithParamInterface<NewerCase> {};

TEST_P(NewerDatabase, IsRefusedAndLeftAlone) {
  { Opened a(db); }
  sql(db, GetParam().change);
  sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  std::string bytes = slurp(db);
  try {
    Store s(dm::Datamodel::standard());
    Persistence p(s, db);
    FAIL() << "accepted";
  } catch (const PersistError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("newer xenapi-server"), std::string::npos) << what;
    EXPECT_NE(what.find(GetParam().mentions), std::string::npos) << what;
  }
  EXPECT_EQ(slurp(db), bytes);
}

INSTANTIATE_TEST_SUITE_P(
    Persist, NewerDatabase,
    ::testing::Values(
        NewerCase{"format", "UPDATE xenapi_meta SET value='99' WHERE key='format'", "format is 99"},
        NewerCase{"column", "ALTER TABLE VM ADD COLUMN \"future_field\" TEXT", "future_field"},
        NewerCase{"table", "CREATE TABLE \"Future_class\" (_ref TEXT PRIMARY KEY)", "Future_class"},
        NewerCase{"enum_value",
                  "UPDATE xenapi_meta SET value = value || ',Hibernating' WHERE key='enum:vm_power_state'",
                  "Hibernating"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- damaged files

TEST_F(PersistTest, GarbageEmptyTruncatedAndForeignFilesAreRefusedAndLeftAlone) {
  {
    Opened a(db);
    for (int i = 0; i < 300; ++i) a.create("VM", {{"name_label", Value("vm " + std::to_string(i))}});
  }
  const std::string good = slurp(db);
  ASSERT_GT(good.size(), 100000u);
  auto refused = [&](const std::string& content, const std::string& mentions) {
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
    std::ofstream(db, std::ios::binary | std::ios::trunc) << content;
    try {
      Store s(dm::Datamodel::standard());
      Persistence p(s, db);
      p.load();
      ADD_FAILURE() << "accepted " << content.size() << " bytes";
    } catch (const PersistError& e) {
      EXPECT_NE(std::string(e.what()).find(mentions), std::string::npos) << e.what();
    }
    EXPECT_EQ(slurp(db), content) << "the file was changed";
  };
  std::string garbage(64 * 1024, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
  refused(garbage, "is damaged");
  refused("", "is empty");
  refused(good.substr(0, 50), "is damaged");                   // not even a header
  refused(good.substr(0, good.size() / 2), "is damaged");      // pages missing
  refused(good.substr(0, good.size() - 4096), "is damaged");   // the last page missing
  std::string bad_page = good;
  for (size_t i = 8192; i < 8192 + 4096; ++i) bad_page[i] = static_cast<char>(0xa5);
  refused(bad_page, "damaged");
  // An SQLite file of something else.
  std::filesystem::remove(db);
  sql(db, "CREATE TABLE accounts (id INTEGER)");
  std::string foreign = slurp(db);
  refused(foreign, "not a xenapi-server database");
}

// ---------------------------------------------------------------- full database

// max_page_count stands in for a full disk: SQLite answers SQLITE_FULL
// ("database or disk is full") exactly as when the disk has no room.
TEST_F(PersistTest, FullDatabaseFailsWritesKeepsMemoryEqualToDiskAndRecovers) {
  { Opened a(db); }
  const int64_t pages = std::stoll(sql(db, "PRAGMA page_count"));
  const std::string big(3000, 'x');
  std::vector<std::string> kept;
  std::map<std::string, ObjectPtr> memory;
  {
    Opened a(db, pages + 12);
    const dm::Class& vm = a.store.cls("VM");
    std::string first = a.create("VM", {{"name_label", Value("first")}});
    std::string error;
    for (int i = 0; i < 200 && error.empty(); ++i) {
      try {
        kept.push_back(a.create("VM", {{"name_label", Value("filler")}, {"other_config", Value(Map{{Value("pad"), Value(big)}})}}));
      } catch (const ApiError& e) {
        error = e.description().at(0) + " " + e.description().at(1);
      }
    }
    ASSERT_FALSE(error.empty()) << "the database never filled up";
    EXPECT_NE(error.find("INTERNAL_ERROR"), std::string::npos) << error;
    EXPECT_NE(error.find("full"), std::string::npos) << error;
    EXPECT_GE(a.persist.failures(), 1u);
    // The failed create left nothing behind; a failed set changes nothing.
    EXPECT_EQ(a.store.read([&](const View& v) { return v.by_name_label(vm, "filler").size(); }), kept.size());
    EXPECT_THROW(a.store.write([&](Txn& t) {
                   t.set(vm, first, "other_config", Value(Map{{Value("pad"), Value(big + big)}}));
                 }),
                 ApiError);
    EXPECT_EQ(a.get("VM", first)->at(vm, "other_config"), Value::empty_map());
    // Reads go on.
    EXPECT_EQ(a.get("VM", first)->at(vm, "name_label"), Value("first"));
    // Space returns: destroyed objects free their pages for new writes.
    for (size_t i = 0; i < 4 && !kept.empty(); ++i) {
      a.store.write([&](Txn& t) { t.destroy(vm, kept.back()); });
      kept.pop_back();
    }
    kept.push_back(a.create("VM", {{"name_label", Value("after")}, {"other_config", Value(Map{{Value("pad"), Value(big)}})}}));
    memory = a.everything();
  }
  // What memory showed is exactly what is on disk.
  Opened b(db);
  std::map<std::string, ObjectPtr> disk = b.everything();
  ASSERT_EQ(disk.size(), memory.size());
  for (const auto& [key, o] : memory) {
    ASSERT_TRUE(disk.count(key)) << key;
    EXPECT_EQ(disk[key]->values, o->values) << key;
  }
  EXPECT_EQ(sql(db, "PRAGMA integrity_check"), "ok");
}

// Writers racing into a full database: whatever fails is undone in memory
// together with everything queued behind it, so memory never runs ahead.
TEST_F(PersistTest, RacingWritersIntoAFullDatabaseLeaveMemoryEqualToDisk) {
  { Opened a(db); }
  const int64_t pages = std::stoll(sql(db, "PRAGMA page_count"));
  std::map<std::string, ObjectPtr> memory;
  std::atomic<int> failed{0};
  {
    Opened a(db, pages + 20);
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
      threads.emplace_back([&, i] {
        for (int j = 0; j < 80; ++j) {
          try {
            std::string ref = a.create("network", {{"name_label", Value(std::to_string(i) + "/" + std::to_string(j))},
                                                   {"other_config", Value(Map{{Value("pad"), Value(std::string(900, 'y'))}})}});
            a.store.write([&](Txn& t) { t.set(a.store.cls("network"), ref, "MTU", Value(int64_t{j})); });
          } catch (const ApiError&) {
            ++failed;
          }
        }
      });
    for (auto& t : threads) t.join();
    memory = a.everything();
  }
  EXPECT_GT(failed.load(), 0);
  Opened b(db);
  std::map<std::string, ObjectPtr> disk = b.everything();
  ASSERT_EQ(disk.size(), memory.size());
  for (const auto& [key, o] : memory) {
    ASSERT_TRUE(disk.count(key)) << key;
    EXPECT_EQ(disk[key]->values, o->values) << key;
  }
}

// ---------------------------------------------------------------- backup

// A backup taken while writes go on is one consistent moment: a prefix of
// the writes, across tables, and a database that opens.
TEST_F(PersistTest, OnlineBackupIsAConsistentPrefixOfTheWrites) {
  Opened a(db);
  const dm::Class& vm = a.store.cls("VM");
  std::string counter = a.create("VM", {{"name_label", Value("counter")}, {"name_description", Value("0")}});
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread writer([&] {
    for (int i = 1; !stop; ++i) {
      a.create("network", {{"name_label", Value("net " + std::to_string(i))}});
      a.store.write([&](Txn& t) { t.set(vm, counter, "name_description", Value(std::to_string(i))); });
      acked = i;
    }
  });
  for (int round = 0; round < 3; ++round) {
    while (acked < 50 * (round + 1)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const int floor = acked;
    std::string copy = dir.path() + "/backup-" + std::to_string(round) + ".db";
    Persistence::backup(db, copy);
    EXPECT_EQ(sql(copy, "PRAGMA integrity_check"), "ok");
    // The counter is set after its network is made: the copy has networks
    // 1..n and n-1 or n as the counter, nothing from later.
    int n = std::stoi(sql(copy, "SELECT COUNT(*) FROM network WHERE name__label LIKE 'net %'"));
    int c = std::stoi(sql(copy, "SELECT name__description FROM VM WHERE _ref='" + counter + "'"));
    EXPECT_GE(c, floor);
    EXPECT_TRUE(c == n || c == n - 1) << "counter " << c << ", networks " << n;
    EXPECT_EQ(sql(copy, "SELECT COUNT(*) FROM network WHERE name__label = 'net " + std::to_string(n) + "'"), "1");
    Store s(dm::Datamodel::standard());
    Persistence p(s, copy);
    EXPECT_GE(p.load(), static_cast<size_t>(n + 1));
  }
  stop = true;
  writer.join();
}

TEST_F(PersistTest, BackupOfAMissingDatabaseFails) {
  EXPECT_THROW(Persistence::backup(dir.path() + "/none.db", dir.path() + "/copy.db"), PersistError);
}

// ---------------------------------------------------------------- reconcile

class ReconcileTest : public ::testing::Test {
 protected:
  Harness h;

  std::string vm(const std::string& name) {
    Value rec = h.ok("VM.get_record", {h.ok("VM.get_by_name_label", {Value("Debian Bookworm 12")}).arr().at(0)});
    rec.set_member("name_label", Value(name));
    rec.set_member("is_a_template", Value(false));
    return h.ok("VM.create", {rec}).str();
  }
  std::string disk(const std::string& vm) {
    std::string sr = h.ok("pool.get_default_SR", {h.ok("pool.get_all").arr().at(0)}).str();
    std::string vdi = h.ok("VDI.create", {map_of({{"name_label", Value("disk")},
                                                  {"name_description", Value("")},
                                                  {"SR", Value(sr)},
                                                  {"virtual_size", Value(int64_t{1} << 30)},
                                                  {"type", Value("user")},
                                                  {"sharable", Value(false)},
                                                  {"read_only", Value(false)},
                                                  {"other_config", Value::empty_map()}})})
                          .str();
    return h.ok("VBD.create", {map_of({{"VM", Value(vm)},
                                       {"VDI", Value(vdi)},
                                       {"userdevice", Value("0")},
                                       {"bootable", Value(true)},
                                       {"mode", Value("RW")},
                                       {"type", Value("Disk")},
                                       {"empty", Value(false)},
                                       {"other_config", Value::empty_map()},
                                       {"qos_algorithm_type", Value("")},
                                       {"qos_algorithm_params", Value::empty_map()}})})
        .str();
  }
  std::string nic(const std::string& vm) {
    return h.ok("VIF.create", {map_of({{"device", Value("0")},
                                       {"network", h.ok("network.get_all").arr().at(0)},
                                       {"VM", Value(vm)},
                                       {"MAC", Value("")},
                                       {"MTU", Value(int64_t{1500})},
                                       {"other_config", Value::empty_map()},
                                       {"qos_algorithm_type", Value("")},
                                       {"qos_algorithm_params", Value::empty_map()}})})
        .str();
  }
  Value get(const std::string& cls, const std::string& ref, const std::string& f) {
    return *h.ok(cls + ".get_record", {Value(ref)}).find(f);
  }
  // Writes a field directly, as a record loaded from disk would have it.
  void poke(const std::string& cls, const std::string& ref, const std::string& f, Value v) {
    h.store().write([&](Txn& t) { t.set(h.store().cls(cls), ref, f, std::move(v)); });
  }
};

TEST_F(ReconcileTest, RecordsAgreeWithTheBackendAfterARestart) {
  std::string running = vm("running"), vanished = vm("vanished");
  std::string running_vbd = disk(running), running_vif = nic(running);
  std::string vanished_vbd = disk(vanished), vanished_vif = nic(vanished);
  h.ok("VM.start", {Value(running), Value(false), Value(false)});
  const int64_t domid = get("VM", running, "domid").integer();
  ASSERT_GE(domid, 0);
  // The vanished VM's record says Running, but the backend never heard of it.
  poke("VM", vanished, "power_state", Value("Running"));
  poke("VM", vanished, "domid", Value(int64_t{42}));
  poke("VBD", vanished_vbd, "currently_attached", Value(true));
  poke("VIF", vanished_vif, "currently_attached", Value(true));
  // Operations and tasks that were in progress when the server died.
  poke("VM", running, "current_operations", map_of({{"OpaqueRef:dead-task", Value("clean_shutdown")}}));
  poke("VBD", running_vbd, "current_operations", map_of({{"OpaqueRef:dead-task", Value("unplug")}}));
  poke("VIF", running_vif, "current_operations", map_of({{"OpaqueRef:dead-task", Value("unplug")}}));
  std::string pending = h.ok("task.create", {Value("long job"), Value("")}).str();
  std::string cancelling = h.ok("task.create", {Value("cancelled job"), Value("")}).str();
  poke("task", cancelling, "status", Value("cancelling"));
  std::string done = h.ok("task.create", {Value("done job"), Value("")}).str();
  h.ok("task.set_status", {Value(done), Value("success")});

  vm::ReconcileReport r = vm::reconcile(h.env());
  EXPECT_EQ(r.still_running, 1u);
  EXPECT_EQ(r.now_halted, 1u);
  EXPECT_EQ(r.tasks_failed, 2u);

  EXPECT_EQ(get("VM", running, "power_state"), Value("Running"));
  EXPECT_EQ(get("VM", running, "domid").integer(), domid);
  EXPECT_TRUE(get("VBD", running_vbd, "currently_attached").boolean());
  EXPECT_TRUE(get("VIF", running_vif, "currently_attached").boolean());
  EXPECT_EQ(get("VM", vanished, "power_state"), Value("Halted"));
  EXPECT_EQ(get("VM", vanished, "domid").integer(), -1);
  EXPECT_FALSE(get("VBD", vanished_vbd, "currently_attached").boolean());
  EXPECT_FALSE(get("VIF", vanished_vif, "currently_attached").boolean());
  for (auto [cls, ref] : {std::pair{"VM", running}, {"VBD", running_vbd}, {"VIF", running_vif}})
    EXPECT_EQ(get(cls, ref, "current_operations"), Value::empty_map()) << cls;
  for (const auto& t : {pending, cancelling}) {
    EXPECT_EQ(get("task", t, "status"), Value("failure"));
    Value info = get("task", t, "error_info");
    ASSERT_EQ(info.arr().size(), 2u);
    EXPECT_EQ(info.arr()[0], Value("INTERNAL_ERROR"));
    EXPECT_NE(info.arr()[1].str().find("server stopped"), std::string::npos);
  }
  EXPECT_EQ(get("task", done, "status"), Value("success"));
  // The VM whose domain vanished starts again.
  h.ok("VM.start", {Value(vanished), Value(false), Value(false)});
}

}  // namespace
}  // namespace xenapi::testing
