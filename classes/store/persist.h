// Durable state in SQLite (WAL): one table per datamodel class, one column
// per field, all derived from the datamodel. A writer thread group-commits
// whatever transactions are waiting, and a call returns only once its
// transaction is on disk; if a write fails (a full disk), the transactions it
// carried are undone in memory too and their callers get an error, so what
// the server shows never runs ahead of what it has stored.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "classes/store/store.h"

struct sqlite3;

namespace xenapi {

// A database that cannot be used: corrupt, unreadable, from a newer version.
class PersistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Persistence : public Durability {
 public:
  // The on-disk format this build writes; newer files are refused.
  static constexpr int kFormatVersion = 1;

  // Opens (creating if needed) and checks the database, adding tables and
  // columns for classes and fields it does not have yet. Throws PersistError,
  // leaving the file as it was, for a damaged or empty file, or one written by
  // a newer build (a newer format, or tables, columns or enum values this
  // build's datamodel does not have).
  Persistence(Store& store, const std::string& path);
  ~Persistence() override;

  // At most this many database pages (SQLite's max_page_count; 0: no
  // limit): writes beyond fail as on a full disk. For tests.
  void limit_pages(int64_t pages);
  // Fills the (empty) store from the database; returns the number of objects.
  size_t load();
  // From now on every commit of the store is written.
  void start();
  void stop();

  void wait(uint64_t seq) override;

  // A consistent copy of a (possibly live) database: SQLite's online backup
  // over a read-only connection. Throws PersistError.
  static void backup(const std::string& db_path, const std::string& dest);
  // Counts server starts on this database: event tokens of an earlier start
  // are recognisably stale.
  uint64_t epoch() const { return epoch_; }
  uint64_t loaded_generation() const { return loaded_generation_; }
  bool fresh() const { return fresh_; }  // the file was just created

  // Writes that failed since start (observability and tests).
  uint64_t failures() const;

 private:
  struct Pending {
    uint64_t seq;
    uint64_t generation;
    std::vector<Change> changes;
  };
  void on_commit(const Commit& c);
  void run();
  void write_batch(const std::vector<Pending>& batch);
  void exec(const std::string& sql);

  Store& store_;
  std::string path_;
  sqlite3* db_ = nullptr;
  uint64_t epoch_ = 0;
  uint64_t loaded_generation_ = 0;
  bool fresh_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // writer: work to do
  std::condition_variable done_cv_;  // callers: progress
  std::deque<Pending> queue_;
  uint64_t durable_ = 0;             // every seq <= durable_ is on disk (or failed)
  std::map<uint64_t, std::string> failed_;  // seq -> why its write failed
  uint64_t failures_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace xenapi
