// The change log behind event.from, event.next and event.inject: which
// object changed at which generation. Appended by a store observer on every
// commit (under the store's write lock) and read under its read lock, so
// readers see the log and the objects at the same generation. Bounded: the
// oldest entries are trimmed, and a token older than what is kept gets
// EVENTS_LOST.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "classes/store/store.h"

namespace xenapi {

// What a client watches: "*", class names (any case), "class/ref".
struct Subscription {
  bool all = false;
  std::set<const dm::Class*> classes;
  std::set<std::pair<const dm::Class*, std::string>> objects;

  bool matches(const dm::Class& c, const std::string& ref) const;
  bool empty() const { return !all && classes.empty() && objects.empty(); }
  void add(const Subscription& other);
  void remove(const Subscription& other);
  // Throws EVENT_SUBSCRIPTION_PARSE_FAILURE [entry] for a malformed entry;
  // names of unknown classes match nothing.
  static Subscription parse(const dm::Datamodel& model, const std::vector<std::string>& entries);
};

struct Event {
  uint64_t id = 0;  // generation of the object's latest change
  const dm::Class* cls = nullptr;
  std::string ref;
  ChangeKind op = ChangeKind::Mod;
  ObjectPtr snapshot;  // null for Del
};

// A result of event.from: {events, valid_ref_counts, token}.
struct EventBatch {
  std::vector<Event> events;
  std::vector<std::pair<std::string, int64_t>> counts;  // lower-case class -> live objects
  std::string token;
  uint64_t generation = 0;  // what the token stands for
};

const char* operation_name(ChangeKind k);  // "add", "mod", "del"
// The batch (or, with list_only, its events array) as a plain Value.
Value batch_value(const EventBatch& b, bool list_only);

class EventLog {
 public:
  // Installs itself as an observer of `store`. Keeps at most `max_entries`.
  EventLog(Store& store, size_t max_entries = 1000000);

  // Tokens: "<generation>,<epoch>", both 20-digit decimals. The epoch
  // identifies this log's lifetime; a token of another epoch is stale.
  std::string token(uint64_t generation) const;
  // Throws EVENT_FROM_TOKEN_PARSE_FAILURE [token]; "" means "from the start".
  std::optional<uint64_t> parse_token(const std::string& token) const;

  // Changes after `since` matching `sub`, coalesced per object; with no
  // `since`, every matching object as an add. Must run under the store's
  // read lock (pass its View). Throws EVENTS_LOST for a trimmed `since`.
  EventBatch collect(const View& v, const Subscription& sub, std::optional<uint64_t> since) const;
  // Whether any change after `since` matches `sub` (store read lock held).
  bool has_changes(const Subscription& sub, uint64_t since) const;

  uint64_t horizon() const { return horizon_; }
  uint64_t epoch() const { return epoch_; }
  void set_epoch(uint64_t e) { epoch_ = e; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint64_t gen;
    const dm::Class* cls;
    std::string ref;
    ChangeKind kind;
    uint64_t created;  // generation that created the object
  };
  void on_commit(const Commit& c);

  Store& store_;
  size_t max_entries_;
  std::deque<Entry> entries_;
  uint64_t horizon_ = 0;  // entries with gen <= horizon may have been trimmed
  uint64_t epoch_ = 0;
};

}  // namespace xenapi
