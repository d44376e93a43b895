// The change log behind event.from, event.next and event.inject: which
// object changed at which generation. Appended by a store observer on every
// commit (under the store's write lock) and read under its read lock, so
// readers see the log and the objects at the same generation. Bounded: the
// oldest entries are trimmed, and a token older than what is kept for the
// classes it watches gets EVENTS_LOST. Nobody pins entries: readers hold
// positions (generations), never pointers into the log.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
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
  bool operator==(const Subscription&) const = default;
  void add(const Subscription& other);
  void remove(const Subscription& other);
  // Throws EVENT_SUBSCRIPTION_PARSE_FAILURE [entry] for a malformed entry;
  // names of unknown classes (and of classes without events) match nothing.
  static Subscription parse(const dm::Datamodel& model, const std::vector<std::string>& entries);
};

struct Event {
  uint64_t id = 0;  // generation of the object's latest change
  const dm::Class* cls = nullptr;
  std::string ref;
  ChangeKind op = ChangeKind::Mod;
  ObjectPtr snapshot;      // null for Del
  double timestamp = 0.0;  // wall time of the latest change (event.next); 0 for event.from
};

// Texts made once and then shared: the wire encodings of a batch that many
// waiting calls receive. Copies start empty.
class EncodedOnce {
 public:
  EncodedOnce() = default;
  EncodedOnce(const EncodedOnce&) {}
  EncodedOnce& operator=(const EncodedOnce&) { return *this; }
  // The text of `slot` (0..3), made by `make` on first use; thread-safe.
  template <typename F>
  const std::string& get(size_t slot, F&& make) const {
    Slot& s = slots_.at(slot);
    std::call_once(s.once, [&] { make(s.text); });
    return s.text;
  }

 private:
  struct Slot {
    std::once_flag once;
    std::string text;
  };
  mutable std::array<Slot, 4> slots_;
};

// A result of event.from: {events, valid_ref_counts, token}. Immutable once
// made; calls waiting for the same thing share one batch (and its encoding).
struct EventBatch {
  std::vector<Event> events;
  std::vector<std::pair<std::string_view, int64_t>> counts;  // lower-case class (owned by the model) -> live objects
  std::string token;
  uint64_t generation = 0;  // what the token stands for
  EncodedOnce encoded;      // for the encoders: [XML-RPC, JSON-RPC] x [batch, event list]
};

const char* operation_name(ChangeKind k);  // "add", "mod", "del"
// The wire text of an event's timestamp: "0.0" for event.from, seconds since
// the epoch with microseconds ("1712345678.123456") for event.next.
std::string timestamp_text(double seconds);
// The batch (or, with list_only, its events array) as a plain Value.
Value batch_value(const EventBatch& b, bool list_only);

class EventLog {
 public:
  static constexpr size_t kDefaultMaxEntries = 100000;

  // Installs itself as an observer of `store`. Keeps at most `max_entries`
  // (at least 1).
  explicit EventLog(Store& store, size_t max_entries = kDefaultMaxEntries);

  // Tokens: "<generation>,<epoch>", both 20-digit decimals. The epoch
  // identifies this log's lifetime (a token of another server run is stale:
  // EVENTS_LOST); within one lifetime tokens compare lexicographically.
  std::string token(uint64_t generation) const;
  // Throws EVENT_FROM_TOKEN_PARSE_FAILURE [token], or EVENTS_LOST for a token
  // of another epoch; "" means "from the start".
  std::optional<uint64_t> parse_token(const std::string& token) const;

  // Changes after `since` matching `sub`, coalesced per object (one event with
  // the current snapshot; created and destroyed after `since`: nothing; seen
  // then destroyed: del without snapshot). With no `since`, every matching
  // object as an add. With `timestamps`, events carry the wall time of their
  // latest change. Must run under the store's read lock (pass its View).
  // Throws EVENTS_LOST if entries after `since` that `sub` could match were
  // trimmed.
  EventBatch collect(const View& v, const Subscription& sub, std::optional<uint64_t> since,
                     bool timestamps = false) const;
  // Whether a caller at `since` has something to be told: a matching change
  // after it, or lost events (store read lock held).
  bool pending(const Subscription& sub, uint64_t since) const;
  // The oldest position `sub` may still read from: entries of its classes
  // with a generation above it are all kept (store read lock held).
  uint64_t horizon(const Subscription& sub) const;

  uint64_t horizon() const { return horizon_; }
  uint64_t epoch() const { return epoch_; }
  void set_epoch(uint64_t e) { epoch_ = e; }
  size_t size() const { return entries_.size(); }
  size_t max_entries() const { return max_entries_; }

 private:
  struct Entry {
    uint64_t gen;
    const dm::Class* cls;
    std::string ref;
    ChangeKind kind;
    uint64_t created;  // generation that created the object
    int64_t time_us;   // wall time of the commit, microseconds since the epoch
  };
  void on_commit(const Commit& c);

  Store& store_;
  size_t max_entries_;
  std::deque<Entry> entries_;
  uint64_t horizon_ = 0;  // entries with gen <= horizon may have been trimmed
  std::unordered_map<const dm::Class*, uint64_t> class_horizon_;  // the same, per class
  uint64_t epoch_ = 0;
};

}  // namespace xenapi
