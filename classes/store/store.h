// The object store: one table per datamodel class, objects keyed by ref,
// indexes on uuid and name_label, relations kept consistent on every write.
//
// Objects are immutable once published (copy-on-write), so a reader takes
// shared pointers under a short shared lock and encodes them afterwards
// without holding anything. Every write runs in a transaction: all of it
// becomes visible at once, or none of it if the transaction throws. A commit
// that changes an event-generating class bumps the global generation, which
// event.from and persistence follow.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "classes/datamodel/datamodel.h"
#include "classes/value.h"

namespace xenapi {

struct Object {
  std::string ref;
  uint64_t created = 0;   // generation that created the object
  uint64_t modified = 0;  // generation of its latest change
  std::vector<Value> values;  // indexed by dm::Field::index

  const Value& operator[](const dm::Field& f) const { return values[f.index]; }
  const Value& at(const dm::Class& c, std::string_view field) const;
};
using ObjectPtr = std::shared_ptr<const Object>;

// Source of uuids; random by default, a counter in tests that need stable output.
class IdSource {
 public:
  virtual ~IdSource() = default;
  virtual std::string uuid() = 0;
  std::string ref() { return "OpaqueRef:" + uuid(); }
};
std::unique_ptr<IdSource> random_ids();
std::unique_ptr<IdSource> counting_ids(uint64_t start = 1);

enum class ChangeKind : uint8_t { Add, Mod, Del };

struct Change {
  const dm::Class* cls;
  std::string ref;
  ChangeKind kind;
  ObjectPtr object;  // new state (Add/Mod) or last state (Del)
  ObjectPtr before;  // state before the transaction; null if it created the object
};

// A committed transaction, as seen by observers (persistence, events).
struct Commit {
  uint64_t generation = 0;  // generation after the commit
  uint64_t seq = 0;         // position among all commits (event classes or not)
  bool restoring = false;   // puts back the durable state after a failed write
  std::vector<Change> changes;
};

// Makes commits durable (persistence). Store::write waits on it, outside
// the store's lock, before returning to its caller.
class Durability {
 public:
  virtual ~Durability() = default;
  // Blocks until commit `seq` is on disk; throws ApiError if it could not
  // be written (the commit has then been undone in memory as well).
  virtual void wait(uint64_t seq) = 0;
};

class Store;

// Read access under a shared lock. Pointers stay valid after the lock is gone.
class View {
 public:
  ObjectPtr get(const dm::Class& c, std::string_view ref) const;
  // Throws HANDLE_INVALID [class, ref].
  ObjectPtr must_get(const dm::Class& c, std::string_view ref) const;
  bool exists(const dm::Class& c, std::string_view ref) const { return get(c, ref) != nullptr; }
  std::vector<ObjectPtr> all(const dm::Class& c) const;
  size_t count(const dm::Class& c) const;
  // nullptr if no object of class c has this uuid.
  ObjectPtr by_uuid(const dm::Class& c, std::string_view uuid) const;
  std::vector<ObjectPtr> by_name_label(const dm::Class& c, std::string_view label) const;
  uint64_t generation() const;
  const dm::Datamodel& model() const;

 protected:
  friend class Store;
  explicit View(const Store& s) : store_(s) {}
  const Store& store_;
};

// A write transaction. Changes are visible to this transaction at once and to
// everybody else when it commits.
class Txn : public View {
 public:
  // Creates an object. `values` must hold one value per field (see
  // Store::defaults); an empty uuid is filled in. Returns the ref.
  std::string create(const dm::Class& c, std::vector<Value> values, std::string ref = {});
  void set(const dm::Class& c, std::string_view ref, const dm::Field& f, Value v);
  void set(const dm::Class& c, std::string_view ref, std::string_view field, Value v);
  // Several fields of one object at once.
  void update(const dm::Class& c, std::string_view ref, const std::function<void(Object&)>& edit);
  void destroy(const dm::Class& c, std::string_view ref);
  // Marks an object modified without changing it (event.inject).
  void touch(const dm::Class& c, std::string_view ref);

 private:
  friend class Store;
  explicit Txn(Store& s) : View(s), mstore_(s) {}
  void replace(const dm::Class& c, const ObjectPtr& before, ObjectPtr after, ChangeKind kind);
  void link(const dm::Relation& r, const Value& target, const std::string& member, bool add);
  uint64_t commit();  // returns the commit's seq, 0 if nothing changed
  void rollback();

  Store& mstore_;
  struct Undo {
    const dm::Class* cls;
    std::string ref;
    ObjectPtr before;  // nullptr: did not exist
  };
  std::vector<Undo> undo_;
  std::vector<Change> changes_;  // a dropped change has a null object
  std::unordered_map<std::string, size_t> change_index_;  // ref -> changes_ position
  bool events_ = false;
};

class Store {
 public:
  explicit Store(std::shared_ptr<const dm::Datamodel> model,
                 std::unique_ptr<IdSource> ids = random_ids());

  const dm::Datamodel& model() const { return *model_; }
  const dm::Class& cls(std::string_view name) const;  // throws std::out_of_range
  IdSource& ids() { return *ids_; }

  template <typename F>
  auto read(F&& f) const {
    std::shared_lock lock(mu_);
    View v(*this);
    return f(v);
  }

  // Runs f in a write transaction; if f throws, nothing it did is kept.
  // With durability set, returns once the transaction is on disk.
  template <typename F>
  auto write(F&& f) {
    using R = decltype(f(std::declval<Txn&>()));
    uint64_t seq = 0;
    if constexpr (std::is_void_v<R>) {
      {
        std::unique_lock lock(mu_);
        Txn t(*this);
        try {
          f(t);
          seq = t.commit();
        } catch (...) {
          t.rollback();
          throw;
        }
      }
      if (seq && durability_) durability_->wait(seq);
    } else {
      std::optional<R> result;
      {
        std::unique_lock lock(mu_);
        Txn t(*this);
        try {
          result.emplace(f(t));
          seq = t.commit();
        } catch (...) {
          t.rollback();
          throw;
        }
      }
      if (seq && durability_) durability_->wait(seq);
      return std::move(*result);
    }
  }

  void set_durability(Durability* d) { durability_ = d; }

  // Start-up: puts loaded objects in place, without transactions, events or
  // persistence, then rebuilds the set sides of relations from the ref sides.
  void load(const dm::Class& c, std::vector<ObjectPtr> objects);
  void finish_load(uint64_t generation);

  // Puts objects back to the given states (before-images of commits that
  // could not be made durable), newest first. Observers see a restoring
  // commit. `collect` runs under the write lock and returns the changes.
  void restore(const std::function<std::vector<Change>()>& collect);

  // A value vector with every field at its default and a fresh uuid.
  std::vector<Value> defaults(const dm::Class& c);

  // Called under the write lock after each commit, in commit order.
  using Observer = std::function<void(const Commit&)>;
  void add_observer(Observer o);

  // Keeps derived fields (allowed_operations, ...) current: called inside
  // every committing transaction, once for each object created or changed
  // in it (also those the deriver itself changes). Set once, before use.
  using Deriver = std::function<void(Txn&, const dm::Class&, const std::string& ref)>;
  void set_deriver(Deriver d) { deriver_ = std::move(d); }

  uint64_t generation() const;

 private:
  friend class View;
  friend class Txn;

  struct Table {
    std::unordered_map<std::string, ObjectPtr> objects;
    std::unordered_multimap<std::string, std::string> by_name;  // name_label -> ref
  };
  struct UuidEntry {
    const dm::Class* cls;
    std::string ref;
  };

  Table& table(const dm::Class& c) { return tables_[class_ids_.at(&c)]; }
  const Table& table(const dm::Class& c) const { return tables_.at(class_ids_.at(&c)); }
  void index(const dm::Class& c, const ObjectPtr& before, const ObjectPtr& after);

  std::shared_ptr<const dm::Datamodel> model_;
  std::unique_ptr<IdSource> ids_;
  mutable std::shared_mutex mu_;
  std::unordered_map<const dm::Class*, size_t> class_ids_;
  std::vector<Table> tables_;
  std::unordered_map<std::string, UuidEntry> by_uuid_;
  std::unordered_map<const dm::Class*, std::vector<const dm::Relation*>> relations_;
  uint64_t generation_ = 0;
  uint64_t seq_ = 0;
  std::vector<Observer> observers_;
  Deriver deriver_;
  Durability* durability_ = nullptr;
};

}  // namespace xenapi
