// SQLite persistence: schema from the datamodel, loading, group commit.
#include "classes/store/persist.h"

#include <malloc.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "classes/errors.h"
#include "classes/store/filter.h"

namespace xenapi {

namespace {

using K = dm::Type::Kind;

std::string quote(const std::string& id) { return "\"" + id + "\""; }

const char* sql_type(const dm::Type& t) {
  switch (t.kind) {
    case K::Int:
    case K::Bool:
    case K::DateTime: return "INTEGER";
    case K::Float: return "REAL";
    default: return "TEXT";
  }
}

// ---------------------------------------------------------------- S-expressions

// Sets and maps are stored as xapi stores them: ('a' 'b'), (('k' 'v')).
struct SExpr {
  bool leaf = false;
  std::string text;
  std::vector<SExpr> items;
};

class SExprParser {
 public:
  explicit SExprParser(std::string_view s) : s_(s) {}
  SExpr parse() {
    SExpr e = node();
    skip();
    if (pos_ != s_.size()) throw std::runtime_error("trailing data in stored value");
    return e;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  SExpr node() {
    skip();
    if (pos_ >= s_.size()) throw std::runtime_error("truncated stored value");
    SExpr e;
    if (s_[pos_] == '(') {
      ++pos_;
      for (;;) {
        skip();
        if (pos_ >= s_.size()) throw std::runtime_error("unterminated list in stored value");
        if (s_[pos_] == ')') {
          ++pos_;
          return e;
        }
        e.items.push_back(node());
      }
    }
    if (s_[pos_] != '\'') throw std::runtime_error("bad stored value");
    ++pos_;
    e.leaf = true;
    while (pos_ < s_.size() && s_[pos_] != '\'') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      e.text += s_[pos_++];
    }
    if (pos_ >= s_.size()) throw std::runtime_error("unterminated string in stored value");
    ++pos_;
    return e;
  }
  std::string_view s_;
  size_t pos_ = 0;
};

Value from_text(const dm::Type& t, const std::string& s);

Value from_sexpr(const dm::Type& t, const SExpr& e) {
  if (t.kind == K::Set || t.kind == K::Option) {
    Array a;
    a.reserve(e.items.size());
    for (const auto& x : e.items) a.push_back(from_text(*t.elem, x.text));
    return Value(std::move(a));
  }
  Map m;
  m.reserve(e.items.size());
  for (const auto& pair : e.items) {
    if (pair.items.size() != 2) throw std::runtime_error("bad map entry in stored value");
    m.emplace_back(from_text(*t.elem, pair.items[0].text), from_text(*t.value, pair.items[1].text));
  }
  return Value(std::move(m));
}

Value from_text(const dm::Type& t, const std::string& s) {
  switch (t.kind) {
    case K::Int: return Value(static_cast<int64_t>(std::strtoll(s.c_str(), nullptr, 10)));
    case K::Float: return Value(std::strtod(s.c_str(), nullptr));
    case K::Bool: return Value(s == "true");
    case K::DateTime: {
      DateTime d;
      parse_datetime(s, d);
      return Value(d);
    }
    case K::Set:
    case K::Option:
    case K::Map: return from_sexpr(t, SExprParser(s).parse());
    default: return Value(s);
  }
}

void bind(sqlite3_stmt* st, int i, const dm::Type& t, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Int: sqlite3_bind_int64(st, i, v.integer()); return;
    case Value::Kind::Bool: sqlite3_bind_int64(st, i, v.boolean() ? 1 : 0); return;
    case Value::Kind::Float: sqlite3_bind_double(st, i, v.real()); return;
    case Value::Kind::DateTime: sqlite3_bind_int64(st, i, v.datetime().seconds); return;
    case Value::Kind::String: sqlite3_bind_text(st, i, v.str().data(), static_cast<int>(v.str().size()), SQLITE_TRANSIENT); return;
    case Value::Kind::Null: sqlite3_bind_null(st, i); return;
    case Value::Kind::Array:
    case Value::Kind::Map: {
      std::string s = db_string(v);
      sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      return;
    }
  }
}

// A leaf of a stored set or map, unescaped into `text`, as a value of type t.
Value leaf(const dm::Type& t, std::string& text) {
  switch (t.kind) {
    case K::Int:
    case K::Float:
    case K::Bool:
    case K::DateTime:
    case K::Set:
    case K::Option:
    case K::Map: return from_text(t, text);
    default: return Value(std::string(text));
  }
}

// Start-up reads every set and map: this parses the stored form straight
// into a value, without building a tree of the text first. Returns false if
// the text is not in the shape the writer makes; SExprParser then decides
// (with the same result or error as before).
bool parse_stored(const dm::Type& t, std::string_view s, Value& out) {
  size_t pos = 0;
  std::string text;
  auto skip = [&] {
    while (pos < s.size() && s[pos] == ' ') ++pos;
  };
  auto quoted = [&]() -> bool {
    skip();
    if (pos >= s.size() || s[pos] != '\'') return false;
    ++pos;
    text.clear();
    while (pos < s.size() && s[pos] != '\'') {
      if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
      text += s[pos++];
    }
    if (pos >= s.size()) return false;
    ++pos;
    return true;
  };
  skip();
  if (pos >= s.size() || s[pos] != '(') return false;
  ++pos;
  const bool is_map = t.kind == K::Map;
  Array a;
  Map m;
  for (;;) {
    skip();
    if (pos >= s.size()) return false;
    if (s[pos] == ')') {
      ++pos;
      break;
    }
    if (!is_map) {
      if (!quoted()) return false;
      a.push_back(leaf(*t.elem, text));
      continue;
    }
    if (s[pos] != '(') return false;
    ++pos;
    if (!quoted()) return false;
    Value k = leaf(*t.elem, text);
    if (!quoted()) return false;
    skip();
    if (pos >= s.size() || s[pos] != ')') return false;
    ++pos;
    m.emplace_back(std::move(k), leaf(*t.value, text));
  }
  skip();
  if (pos != s.size()) return false;
  // Exact sizes: loaded values live as long as the server.
  a.shrink_to_fit();
  m.shrink_to_fit();
  out = is_map ? Value(std::move(m)) : Value(std::move(a));
  return true;
}

Value column(sqlite3_stmt* st, int i, const dm::Field& f) {
  int type = sqlite3_column_type(st, i);
  if (type == SQLITE_NULL) return f.default_value;  // a column added since the row was written
  switch (f.type.kind) {
    case K::Int: return Value(static_cast<int64_t>(sqlite3_column_int64(st, i)));
    case K::Bool: return Value(sqlite3_column_int64(st, i) != 0);
    case K::Float: return Value(sqlite3_column_double(st, i));
    case K::DateTime: return Value(DateTime{sqlite3_column_int64(st, i)});
    default: {
      const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      std::string_view text(p ? p : "", p ? static_cast<size_t>(sqlite3_column_bytes(st, i)) : 0);
      if (f.type.kind == K::Set || f.type.kind == K::Map || f.type.kind == K::Option) {
        Value v;
        if (parse_stored(f.type, text, v)) return v;
        return from_text(f.type, std::string(text));
      }
      return Value(std::string(text));
    }
  }
}

struct Stmt {
  sqlite3_stmt* st = nullptr;
  Stmt() = default;
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw PersistError(std::string("cannot prepare \"") + sql.substr(0, 80) + "\": " + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st); }
  Stmt(Stmt&& o) noexcept : st(o.st) { o.st = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(st, o.st);
    return *this;
  }
};

bool stored(const dm::Class& c) { return c.db_class; }

// The values of each enum that stored fields use are kept in the meta table
// ("enum:<name>" -> "a,b,c"), so that a file with values this build does not
// know is recognised as newer.
constexpr const char* kEnumKey = "enum:";

void enums_of(const dm::Type& t, std::map<std::string, std::string>& out, const dm::Datamodel& model) {
  if (t.kind == K::Enum) {
    if (const dm::Enum* e = model.enumeration(t.name)) {
      std::string joined;
      for (const auto& v : e->values) joined += (joined.empty() ? "" : ",") + v;
      out[e->name] = joined;
    }
  }
  if (t.elem) enums_of(*t.elem, out, model);
  if (t.value) enums_of(*t.value, out, model);
}

std::map<std::string, std::string> stored_enums(const dm::Datamodel& model) {
  std::map<std::string, std::string> out;
  for (const auto& c : model.classes())
    if (stored(*c))
      for (const auto& f : c->fields) enums_of(f.type, out, model);
  return out;
}

std::vector<std::string> split_values(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The schema version: a digest (FNV-1a) of every stored table, column,
// column type and enum value, as derived from the datamodel.
std::string schema_version(const dm::Datamodel& model, const std::map<std::string, std::string>& enums) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (const auto& c : model.classes()) {
    if (!stored(*c)) continue;
    mix(c->name);
    for (const auto& f : c->fields) {
      mix(f.column);
      mix(sql_type(f.type));
    }
  }
  for (const auto& [name, values] : enums) {
    mix(name);
    mix(values);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

void Persistence::exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string why = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    throw PersistError(why);
  }
}

Persistence::Persistence(Store& store, const std::string& path) : store_(store), path_(path) {
  std::error_code size_ec;
  auto size = std::filesystem::file_size(path, size_ec);
  fresh_ = size_ec == std::errc::no_such_file_or_directory;
  // An empty file is a database cut short, not a new one: starting afresh
  // over it would silently replace the state.
  if (!size_ec && size == 0)
    throw PersistError(path + " is empty (truncated?); it was left untouched: restore it from a backup (made with "
                       "--backup), or remove it to start with an empty database");
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw PersistError("cannot open " + path + ": " + why);
  }
  try {
    sqlite3_busy_timeout(db_, 10000);
    // Everything is checked before anything is changed in the file.
    std::string check;
    {
      sqlite3_stmt* st = nullptr;
      int rc = sqlite3_prepare_v2(db_, "PRAGMA quick_check", -1, &st, nullptr);
      while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char* r = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        if (check.empty()) check = r ? r : "";
        rc = SQLITE_OK;
      }
      if (rc != SQLITE_DONE) check = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
    }
    if (check != "ok")
      throw PersistError(path + " is damaged (" + check + "); it was left untouched: restore it from a backup (made " +
                         "with --backup), or move it away to start with an empty database");

    std::set<std::string> tables;
    {
      Stmt st(db_, "SELECT name FROM sqlite_master WHERE type='table'");
      while (sqlite3_step(st.st) == SQLITE_ROW) tables.insert(reinterpret_cast<const char*>(sqlite3_column_text(st.st, 0)));
    }
    std::map<std::string, std::string> meta;
    if (tables.count("xenapi_meta")) {
      Stmt st(db_, "SELECT key, value FROM xenapi_meta");
      while (sqlite3_step(st.st) == SQLITE_ROW)
        meta[reinterpret_cast<const char*>(sqlite3_column_text(st.st, 0))] =
            reinterpret_cast<const char*>(sqlite3_column_text(st.st, 1));
    } else if (!tables.empty()) {
      throw PersistError(path + " is not a xenapi-server database");
    }
    const std::string newer = path + " was written by a newer xenapi-server: ";
    int format = meta.count("format") ? std::atoi(meta["format"].c_str()) : kFormatVersion;
    if (format > kFormatVersion)
      throw PersistError(newer + "its database format is " + std::to_string(format) + ", this build reads up to " +
                         std::to_string(kFormatVersion));
    // The schema follows the datamodel, whose classes, fields and enum values
    // are only ever added (removed ones stay declared): anything this build
    // does not know comes from a newer one, and writing over it would lose it.
    for (const auto& t : tables) {
      if (t == "xenapi_meta" || t.rfind("sqlite_", 0) == 0 || store_.model().cls(t)) continue;
      throw PersistError(newer + "it has a table " + t + " for a class this build does not know");
    }
    std::map<const dm::Class*, std::set<std::string>> columns;
    for (const auto& c : store_.model().classes()) {
      if (!stored(*c) || !tables.count(c->name)) continue;
      auto& have = columns[c.get()];
      Stmt st(db_, "PRAGMA table_info(" + quote(c->name) + ")");
      while (sqlite3_step(st.st) == SQLITE_ROW) {
        std::string col = reinterpret_cast<const char*>(sqlite3_column_text(st.st, 1));
        if (col != "_ref" && col != "_created" && col != "_modified" && !c->field_by_column(col))
          throw PersistError(newer + "table " + c->name + " has a column " + col + " this build does not know");
        have.insert(col);
      }
    }
    const std::map<std::string, std::string> enums = stored_enums(store_.model());
    for (const auto& [key, values] : meta) {
      if (key.rfind(kEnumKey, 0) != 0) continue;
      std::string name = key.substr(std::string_view(kEnumKey).size());
      const dm::Enum* e = store_.model().enumeration(name);
      if (!e) continue;  // no longer stored in any field: nothing to lose
      for (const auto& v : split_values(values))
        if (!e->contains(v)) throw PersistError(newer + "enum " + name + " has a value " + v + " this build does not know");
    }
    epoch_ = (meta.count("epoch") ? std::strtoull(meta["epoch"].c_str(), nullptr, 10) : 0) + 1;
    loaded_generation_ = meta.count("generation") ? std::strtoull(meta["generation"].c_str(), nullptr, 10) : 0;

    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("BEGIN IMMEDIATE");
    exec("CREATE TABLE IF NOT EXISTS xenapi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    for (const auto& c : store_.model().classes()) {
      if (!stored(*c)) continue;
      auto have = columns.find(c.get());
      if (have == columns.end()) {
        std::string sql = "CREATE TABLE " + quote(c->name) + " (_ref TEXT PRIMARY KEY, _created INTEGER, _modified INTEGER";
        for (const auto& f : c->fields) sql += ", " + quote(f.column) + " " + sql_type(f.type);
        exec(sql + ")");
        continue;
      }
      // Fields added since the file was written: new columns, read as defaults.
      for (const auto& f : c->fields)
        if (!have->second.count(f.column))
          exec("ALTER TABLE " + quote(c->name) + " ADD COLUMN " + quote(f.column) + " " + sql_type(f.type));
    }
    auto put = [&](const std::string& k, const std::string& v) {
      Stmt st(db_, "INSERT OR REPLACE INTO xenapi_meta (key, value) VALUES (?, ?)");
      sqlite3_bind_text(st.st, 1, k.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.st, 2, v.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st.st) != SQLITE_DONE) throw PersistError(sqlite3_errmsg(db_));
    };
    put("format", std::to_string(kFormatVersion));
    put("schema", schema_version(store_.model(), enums));
    put("epoch", std::to_string(epoch_));
    if (!meta.count("generation")) put("generation", "0");
    for (const auto& [name, values] : enums) put(kEnumKey + name, values);
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

void Persistence::limit_pages(int64_t pages) {
  if (pages > 0) exec("PRAGMA max_page_count=" + std::to_string(pages));
}

Persistence::~Persistence() {
  stop();
  if (db_) sqlite3_close(db_);
}

size_t Persistence::load() {
  // Read through a connection of our own without SQLite's mutex (the shared
  // one is serialised: a lock per column read, millions at start-up), in one
  // read transaction. An in-memory or temporary database has no second
  // connection: read those through the shared one.
  sqlite3* db = nullptr;
  if (!path_.empty() && path_ != ":memory:" &&
      sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    db = nullptr;
  }
  struct Reader {
    sqlite3* db;
    bool own;
    ~Reader() {
      if (!own) return;
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
  } reader{db ? db : db_, db != nullptr};
  db = reader.db;
  if (reader.own) {
    sqlite3_busy_timeout(db, 10000);
    // Tables are read once, in order: a large page cache would only leave
    // freed holes between the loaded objects.
    sqlite3_exec(db, "PRAGMA cache_size=-256", nullptr, nullptr, nullptr);
    if (sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
      throw PersistError(std::string("cannot read ") + path_ + ": " + sqlite3_errmsg(db));
  }
  size_t total = 0;
  for (const auto& c : store_.model().classes()) {
    if (!stored(*c)) continue;
    Stmt st(db, "SELECT * FROM " + quote(c->name));
    int n = sqlite3_column_count(st.st);
    // Column positions of each field (old files may lack some).
    std::vector<int> where(c->fields.size(), -1);
    int ref_col = -1, created_col = -1, modified_col = -1;
    for (int i = 0; i < n; ++i) {
      std::string name = sqlite3_column_name(st.st, i);
      if (name == "_ref") ref_col = i;
      else if (name == "_created") created_col = i;
      else if (name == "_modified") modified_col = i;
      else if (const dm::Field* f = c->field_by_column(name)) where[f->index] = i;
    }
    std::vector<ObjectPtr> objects;
    int rc;
    while ((rc = sqlite3_step(st.st)) == SQLITE_ROW) {
      auto o = std::make_shared<Object>();
      o->ref = reinterpret_cast<const char*>(sqlite3_column_text(st.st, ref_col));
      o->created = static_cast<uint64_t>(sqlite3_column_int64(st.st, created_col));
      o->modified = static_cast<uint64_t>(sqlite3_column_int64(st.st, modified_col));
      o->values.reserve(c->fields.size());
      try {
        for (const auto& f : c->fields)
          o->values.push_back(where[f.index] < 0 ? f.default_value : column(st.st, where[f.index], f));
      } catch (const std::exception& e) {
        throw PersistError("corrupt row " + o->ref + " in table " + c->name + ": " + e.what());
      }
      objects.push_back(std::move(o));
    }
    if (rc != SQLITE_DONE) throw PersistError("cannot read table " + c->name + ": " + sqlite3_errmsg(db));
    total += objects.size();
    store_.load(*c, std::move(objects));
  }
  store_.finish_load(loaded_generation_);
  malloc_trim(0);  // hand back the pages of what loading used and freed
  return total;
}

void Persistence::start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
  }
  store_.add_observer([this](const Commit& c) { on_commit(c); });
  store_.set_durability(this);
  thread_ = std::thread([this] { run(); });
}

void Persistence::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  done_cv_.notify_all();
}

uint64_t Persistence::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

// Under the store's write lock: queue the commit, in commit order.
void Persistence::on_commit(const Commit& c) {
  if (c.restoring) return;  // back to what is on disk already
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{c.seq, c.generation, c.changes});
  }
  cv_.notify_one();
}

void Persistence::wait(uint64_t seq) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return durable_ >= seq || stopping_; });
  auto it = failed_.find(seq);
  if (it != failed_.end()) {
    std::string why = it->second;
    failed_.erase(it);
    throw err::INTERNAL_ERROR("the change could not be saved: " + why);
  }
  if (durable_ < seq) throw err::INTERNAL_ERROR("the server is shutting down; the change was not saved");
}

void Persistence::write_batch(const std::vector<Pending>& batch) {
  std::map<const dm::Class*, std::pair<Stmt, Stmt>> stmts;
  auto statements = [&](const dm::Class& c) -> std::pair<Stmt, Stmt>& {
    auto it = stmts.find(&c);
    if (it != stmts.end()) return it->second;
    std::string cols = "_ref, _created, _modified", marks = "?, ?, ?";
    for (const auto& f : c.fields) {
      cols += ", " + quote(f.column);
      marks += ", ?";
    }
    auto& p = stmts[&c];
    p.first = Stmt(db_, "INSERT OR REPLACE INTO " + quote(c.name) + " (" + cols + ") VALUES (" + marks + ")");
    p.second = Stmt(db_, "DELETE FROM " + quote(c.name) + " WHERE _ref = ?");
    return p;
  };
  exec("BEGIN IMMEDIATE");
  try {
    uint64_t generation = 0;
    for (const auto& p : batch) {
      generation = std::max(generation, p.generation);
      for (const auto& ch : p.changes) {
        if (!stored(*ch.cls)) continue;
        auto& [upsert, remove] = statements(*ch.cls);
        sqlite3_stmt* st = ch.kind == ChangeKind::Del ? remove.st : upsert.st;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_text(st, 1, ch.ref.data(), static_cast<int>(ch.ref.size()), SQLITE_TRANSIENT);
        if (ch.kind != ChangeKind::Del) {
          const Object& o = *ch.object;
          sqlite3_bind_int64(st, 2, static_cast<int64_t>(o.created));
          sqlite3_bind_int64(st, 3, static_cast<int64_t>(o.modified));
          for (const auto& f : ch.cls->fields) bind(st, 4 + f.index, f.type, o.values[f.index]);
        }
        if (sqlite3_step(st) != SQLITE_DONE) throw PersistError(sqlite3_errmsg(db_));
      }
    }
    Stmt gen(db_, "UPDATE xenapi_meta SET value = ? WHERE key = 'generation'");
    std::string g = std::to_string(generation);
    sqlite3_bind_text(gen.st, 1, g.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(gen.st) != SQLITE_DONE) throw PersistError(sqlite3_errmsg(db_));
    stmts.clear();
    exec("COMMIT");
  } catch (...) {
    stmts.clear();
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Persistence::run() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    try {
      write_batch(batch);
      std::lock_guard lock(mu_);
      durable_ = std::max(durable_, batch.back().seq);
    } catch (const std::exception& e) {
      // Undo in memory what could not be stored, and everything queued after
      // it (built on top of it), so memory equals disk again.
      std::string why = e.what();
      uint64_t last = batch.back().seq;
      store_.restore([&] {
        std::vector<Change> undo;
        std::lock_guard lock(mu_);
        while (!queue_.empty()) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        for (const auto& p : batch) {
          undo.insert(undo.end(), p.changes.begin(), p.changes.end());
          failed_[p.seq] = why;
          last = std::max(last, p.seq);
        }
        ++failures_;
        return undo;
      });
      std::lock_guard lock(mu_);
      durable_ = std::max(durable_, last);
    }
    done_cv_.notify_all();
  }
}

void Persistence::backup(const std::string& path, const std::string& dest) {
  sqlite3* src = nullptr;
  sqlite3* out = nullptr;
  auto fail = [&](const std::string& why) {
    sqlite3_close(src);
    sqlite3_close(out);
    throw PersistError("backup to " + dest + " failed: " + why);
  };
  if (sqlite3_open_v2(path.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(src));
  if (sqlite3_open(dest.c_str(), &out) != SQLITE_OK) fail(sqlite3_errmsg(out));
  sqlite3_backup* b = sqlite3_backup_init(out, "main", src, "main");
  if (!b) fail(sqlite3_errmsg(out));
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) fail(sqlite3_errstr(rc));
  sqlite3_close(src);
  sqlite3_close(out);
}

}  // namespace xenapi
