// Object store: tables, indexes, relations and transactions.
#include "classes/store/store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <stdexcept>

#include "classes/errors.h"

namespace xenapi {

namespace {

std::string format_uuid(const unsigned char b[16]) {
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

class RandomIds : public IdSource {
 public:
  std::string uuid() override {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return format_uuid(b);
  }
};

class CountingIds : public IdSource {
 public:
  explicit CountingIds(uint64_t start) : next_(start) {}
  std::string uuid() override {
    uint64_t n = next_++;
    char buf[37];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx", static_cast<unsigned long long>(n));
    return buf;
  }

 private:
  std::atomic<uint64_t> next_;
};

bool is_null_ref(const Value& v) { return !v.is_string() || v.str().empty() || v.str() == dm::kNullRef; }

}  // namespace

std::unique_ptr<IdSource> random_ids() { return std::make_unique<RandomIds>(); }
std::unique_ptr<IdSource> counting_ids(uint64_t start) { return std::make_unique<CountingIds>(start); }

const Value& Object::at(const dm::Class& c, std::string_view field) const {
  const dm::Field* f = c.field(field);
  if (!f) throw std::out_of_range("no field " + std::string(field) + " in class " + c.name);
  return values[f->index];
}

// ---------------------------------------------------------------- View

const dm::Datamodel& View::model() const { return store_.model(); }

uint64_t View::generation() const { return store_.generation_; }

ObjectPtr View::get(const dm::Class& c, std::string_view ref) const {
  const auto& t = store_.table(c);
  auto it = t.objects.find(std::string(ref));
  return it == t.objects.end() ? nullptr : it->second;
}

ObjectPtr View::must_get(const dm::Class& c, std::string_view ref) const {
  ObjectPtr o = get(c, ref);
  if (!o) throw err::HANDLE_INVALID(c.name, ref);
  return o;
}

std::vector<ObjectPtr> View::all(const dm::Class& c) const {
  const auto& t = store_.table(c);
  std::vector<ObjectPtr> out;
  out.reserve(t.objects.size());
  for (const auto& [ref, o] : t.objects) out.push_back(o);
  return out;
}

size_t View::count(const dm::Class& c) const { return store_.table(c).objects.size(); }

ObjectPtr View::by_uuid(const dm::Class& c, std::string_view uuid) const {
  auto it = store_.by_uuid_.find(std::string(uuid));
  if (it == store_.by_uuid_.end() || it->second.cls != &c) return nullptr;
  return get(c, it->second.ref);
}

std::vector<ObjectPtr> View::by_name_label(const dm::Class& c, std::string_view label) const {
  std::vector<ObjectPtr> out;
  const auto& t = store_.table(c);
  auto [a, b] = t.by_name.equal_range(std::string(label));
  for (auto it = a; it != b; ++it)
    if (ObjectPtr o = get(c, it->second)) out.push_back(o);
  return out;
}

// ---------------------------------------------------------------- Txn

void Txn::replace(const dm::Class& c, const ObjectPtr& before, ObjectPtr after, ChangeKind kind) {
  const std::string& ref = after ? after->ref : before->ref;
  undo_.push_back(Undo{&c, ref, before});
  auto& t = mstore_.table(c);
  mstore_.index(c, before, after);
  if (after) t.objects[ref] = after;
  else t.objects.erase(ref);
  if (c.events) events_ = true;

  // Coalesce with an earlier change of the same object in this transaction.
  auto seen = change_index_.find(ref);
  if (seen != change_index_.end()) {
    Change& ch = changes_[seen->second];
    if (kind == ChangeKind::Del) {
      if (ch.kind == ChangeKind::Add) {  // created and destroyed: nothing happened
        ch.object = nullptr;
        change_index_.erase(seen);
        return;
      }
      ch.kind = ChangeKind::Del;
      ch.object = before;
    } else {
      ch.object = after;
    }
    return;
  }
  change_index_.emplace(ref, changes_.size());
  changes_.push_back(Change{&c, ref, kind, after ? after : before, before});
}

void Txn::link(const dm::Relation& r, const Value& target, const std::string& member, bool add) {
  if (is_null_ref(target)) return;
  const dm::Class& set_cls = *r.set->cls;
  ObjectPtr o = get(set_cls, target.str());
  if (!o) return;  // dangling refs are tolerated, as in xapi
  const Array& cur = o->values[r.set->index].arr();
  bool present = std::any_of(cur.begin(), cur.end(), [&](const Value& v) { return v.str() == member; });
  if (present == add) return;
  auto next = std::make_shared<Object>(*o);
  Array& items = next->values[r.set->index].arr();
  if (add) {
    items.emplace_back(member);
  } else {
    items.erase(std::remove_if(items.begin(), items.end(), [&](const Value& v) { return v.str() == member; }),
                items.end());
  }
  replace(set_cls, o, std::move(next), ChangeKind::Mod);
}

std::string Txn::create(const dm::Class& c, std::vector<Value> values, std::string ref) {
  if (values.size() != c.fields.size())
    throw std::logic_error("create " + c.name + ": wrong number of values");
  if (ref.empty()) ref = mstore_.ids().ref();
  if (get(c, ref)) throw std::logic_error("create " + c.name + ": ref exists: " + ref);
  if (c.uuid) {
    Value& u = values[c.uuid->index];
    if (!u.is_string() || u.str().empty()) u = Value(mstore_.ids().uuid());
    if (mstore_.by_uuid_.count(u.str())) throw err::INVALID_VALUE("uuid", u.str());
  }
  const auto& rels = mstore_.relations_[&c];
  // The set sides start empty: they only ever mirror ref sides.
  for (const dm::Relation* r : rels)
    if (r->set->cls == &c) values[r->set->index] = Value::empty_array();
  auto obj = std::make_shared<Object>();
  obj->ref = ref;
  obj->values = std::move(values);
  ObjectPtr created = obj;
  replace(c, nullptr, created, ChangeKind::Add);
  for (const dm::Relation* r : rels)
    if (r->ref->cls == &c) link(*r, created->values[r->ref->index], ref, true);
  return ref;
}

void Txn::set(const dm::Class& c, std::string_view ref, std::string_view field, Value v) {
  const dm::Field* f = c.field(field);
  if (!f) throw std::out_of_range("no field " + std::string(field) + " in class " + c.name);
  set(c, ref, *f, std::move(v));
}

void Txn::set(const dm::Class& c, std::string_view ref, const dm::Field& f, Value v) {
  update(c, ref, [&](Object& o) { o.values[f.index] = std::move(v); });
}

void Txn::update(const dm::Class& c, std::string_view ref, const std::function<void(Object&)>& edit) {
  ObjectPtr before = must_get(c, ref);
  auto next = std::make_shared<Object>(*before);
  edit(*next);
  if (next->values == before->values) return;
  if (c.uuid && next->values[c.uuid->index] != before->values[c.uuid->index])
    throw std::logic_error("the uuid of an object never changes");
  ObjectPtr after = next;
  replace(c, before, after, ChangeKind::Mod);
  for (const dm::Relation* r : mstore_.relations_[&c]) {
    if (r->ref->cls != &c) continue;
    const Value& old_target = before->values[r->ref->index];
    const Value& new_target = after->values[r->ref->index];
    if (old_target == new_target) continue;
    link(*r, old_target, after->ref, false);
    link(*r, new_target, after->ref, true);
  }
}

void Txn::touch(const dm::Class& c, std::string_view ref) {
  ObjectPtr o = must_get(c, ref);
  replace(c, o, std::make_shared<Object>(*o), ChangeKind::Mod);
}

void Txn::destroy(const dm::Class& c, std::string_view ref) {
  ObjectPtr before = must_get(c, ref);
  replace(c, before, nullptr, ChangeKind::Del);
  for (const dm::Relation* r : mstore_.relations_[&c]) {
    // As the ref side: leave the set it was in.
    if (r->ref->cls == &c) link(*r, before->values[r->ref->index], before->ref, false);
    // As the set side: objects that pointed at the destroyed one now point
    // nowhere. (Both apply for relations within one class, e.g. VM.parent.)
    if (r->set->cls == &c) {
      for (const Value& member : before->values[r->set->index].arr()) {
        ObjectPtr m = get(*r->ref->cls, member.str());
        if (m && m->values[r->ref->index] == Value(before->ref))
          set(*r->ref->cls, member.str(), *r->ref, Value(std::string(dm::kNullRef)));
      }
    }
  }
}

uint64_t Txn::commit() {
  if (changes_.empty()) return 0;
  if (mstore_.deriver_) {
    // Index-based: derivations may append changes of other objects.
    std::unordered_map<std::string, bool> derived;
    for (size_t i = 0; i < changes_.size(); ++i) {
      if (!changes_[i].object || changes_[i].kind == ChangeKind::Del) continue;
      const dm::Class* cls = changes_[i].cls;
      std::string ref = changes_[i].ref;
      if (!derived.emplace(ref, true).second) continue;
      if (get(*cls, ref)) mstore_.deriver_(*this, *cls, ref);
    }
  }
  if (events_) ++mstore_.generation_;
  Commit c;
  c.generation = mstore_.generation_;
  c.seq = ++mstore_.seq_;
  // Stamp generations: objects are still private to this commit.
  for (auto& ch : changes_) {
    if (!ch.object || ch.kind == ChangeKind::Del) continue;
    auto& t = mstore_.table(*ch.cls);
    auto it = t.objects.find(ch.ref);
    if (it == t.objects.end()) continue;
    auto* o = const_cast<Object*>(it->second.get());
    o->modified = mstore_.generation_;
    if (ch.kind == ChangeKind::Add) o->created = mstore_.generation_;
    ch.object = it->second;
  }
  for (auto& ch : changes_)
    if (ch.object) c.changes.push_back(std::move(ch));
  changes_.clear();
  change_index_.clear();
  if (c.changes.empty()) return 0;
  for (const auto& obs : mstore_.observers_) obs(c);
  return c.seq;
}

void Txn::rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    auto& t = mstore_.table(*it->cls);
    auto cur = t.objects.find(it->ref);
    ObjectPtr now = cur == t.objects.end() ? nullptr : cur->second;
    mstore_.index(*it->cls, now, it->before);
    if (it->before) t.objects[it->ref] = it->before;
    else t.objects.erase(it->ref);
  }
  undo_.clear();
  changes_.clear();
  change_index_.clear();
}

// ---------------------------------------------------------------- Store

Store::Store(std::shared_ptr<const dm::Datamodel> model, std::unique_ptr<IdSource> ids)
    : model_(std::move(model)), ids_(std::move(ids)) {
  for (const auto& c : model_->classes()) {
    class_ids_.emplace(c.get(), tables_.size());
    tables_.emplace_back();
    relations_[c.get()] = model_->relations_of(*c);
  }
}

const dm::Class& Store::cls(std::string_view name) const {
  const dm::Class* c = model_->cls(name);
  if (!c) throw std::out_of_range("no class " + std::string(name));
  return *c;
}

std::vector<Value> Store::defaults(const dm::Class& c) {
  std::vector<Value> v;
  v.reserve(c.fields.size());
  for (const auto& f : c.fields) v.push_back(f.default_value);
  if (c.uuid) v[c.uuid->index] = Value(ids_->uuid());
  return v;
}

void Store::add_observer(Observer o) {
  std::unique_lock lock(mu_);
  observers_.push_back(std::move(o));
}

void Store::load(const dm::Class& c, std::vector<ObjectPtr> objects) {
  std::unique_lock lock(mu_);
  auto& t = table(c);
  t.objects.reserve(t.objects.size() + objects.size());
  if (c.uuid) by_uuid_.reserve(by_uuid_.size() + objects.size());
  if (c.name_label) t.by_name.reserve(t.by_name.size() + objects.size());
  for (auto& o : objects) {
    index(c, nullptr, o);
    t.objects[o->ref] = std::move(o);
  }
}

void Store::finish_load(uint64_t generation) {
  std::unique_lock lock(mu_);
  generation_ = std::max(generation_, generation);
  // The set sides mirror the ref sides: rebuild them from those, keeping the
  // stored order (creation order, as clients saw it before the restart) and
  // appending members the stored set lacked in creation order.
  //
  // Each table is walked once for all its relations (the walk is bound by
  // memory latency). Keys and members point into loaded objects; those
  // replaced below stay alive in `replaced` until the end (relations within
  // one class, e.g. VM.parent / VM.children).
  const auto& rels = model_->relations();
  using Members = std::unordered_map<std::string_view, std::vector<const Object*>>;
  std::vector<Members> members(rels.size());
  std::unordered_map<const dm::Class*, std::vector<size_t>> by_ref_side, by_set_side;
  for (size_t i = 0; i < rels.size(); ++i) {
    by_ref_side[rels[i].ref->cls].push_back(i);
    by_set_side[rels[i].set->cls].push_back(i);
  }
  for (const auto& [cls, which] : by_ref_side) {
    for (const auto& [ref, o] : table(*cls).objects) {
      for (size_t i : which) {
        const Value& target = o->values[rels[i].ref->index];
        // Targets that do not exist are never looked up below.
        if (target.is_string() && target.str() != dm::kNullRef) members[i][target.str()].push_back(o.get());
      }
    }
  }
  std::vector<ObjectPtr> replaced;
  for (const auto& [cls, which] : by_set_side) {
    for (auto& [ref, o] : table(*cls).objects) {
      std::shared_ptr<Object> fixed;  // a copy, once a set of o has to change
      for (size_t i : which) {
        const dm::Field& set = *rels[i].set;
        const Value& stored = o->values[set.index];
        auto it = members[i].empty() ? members[i].end() : members[i].find(ref);
        if (it == members[i].end()) {
          if (stored.is_array() && stored.arr().empty()) continue;
          if (!fixed) fixed = std::make_shared<Object>(*o);
          fixed->values[set.index] = Value::empty_array();
          continue;
        }
        const std::vector<const Object*>& m = it->second;
        std::vector<bool> taken(m.size());
        std::unordered_map<std::string_view, size_t> pos;  // only for large sets
        if (m.size() > 16)
          for (size_t k = 0; k < m.size(); ++k) pos.emplace(m[k]->ref, k);
        auto find = [&](const std::string& member) -> size_t {
          if (m.size() > 16) {
            auto p = pos.find(member);
            return p == pos.end() ? m.size() : p->second;
          }
          for (size_t k = 0; k < m.size(); ++k)
            if (m[k]->ref == member) return k;
          return m.size();
        };
        // Usually the stored set is already right: check before copying it.
        bool same = stored.is_array() && stored.arr().size() == m.size();
        if (same)
          for (const Value& v : stored.arr()) {
            size_t k = v.is_string() ? find(v.str()) : m.size();
            if (k == m.size() || taken[k]) {
              same = false;
              break;
            }
            taken[k] = true;
          }
        if (same) continue;
        std::fill(taken.begin(), taken.end(), false);
        Value want = Value::empty_array();
        Array& out = want.arr();
        out.reserve(m.size());
        if (stored.is_array())
          for (const Value& v : stored.arr()) {
            size_t k = v.is_string() ? find(v.str()) : m.size();
            if (k == m.size() || taken[k]) continue;  // dangling, or listed twice
            taken[k] = true;
            out.push_back(v);
          }
        if (out.size() < m.size()) {
          std::vector<const Object*> rest;
          for (size_t k = 0; k < m.size(); ++k)
            if (!taken[k]) rest.push_back(m[k]);
          std::sort(rest.begin(), rest.end(), [](const Object* a, const Object* b) {
            return a->created != b->created ? a->created < b->created : a->ref < b->ref;
          });
          for (const Object* x : rest) out.emplace_back(x->ref);
        }
        if (stored == want) continue;
        if (!fixed) fixed = std::make_shared<Object>(*o);
        fixed->values[set.index] = std::move(want);
      }
      if (!fixed) continue;
      replaced.push_back(std::move(o));
      o = std::move(fixed);
    }
  }
}

void Store::restore(const std::function<std::vector<Change>()>& collect) {
  std::unique_lock lock(mu_);
  std::vector<Change> undo = collect();
  if (undo.empty()) return;
  ++generation_;
  Commit c;
  c.generation = generation_;
  c.seq = ++seq_;
  c.restoring = true;
  std::unordered_map<std::string, size_t> seen;
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    auto& t = table(*it->cls);
    auto cur = t.objects.find(it->ref);
    ObjectPtr now = cur == t.objects.end() ? nullptr : cur->second;
    ObjectPtr back;
    if (it->before) {
      auto copy = std::make_shared<Object>(*it->before);
      copy->modified = generation_;
      back = copy;
    }
    index(*it->cls, now, back);
    if (back) t.objects[it->ref] = back;
    else t.objects.erase(it->ref);
    ChangeKind kind = !back ? ChangeKind::Del : now ? ChangeKind::Mod : ChangeKind::Add;
    Change ch{it->cls, it->ref, kind, back ? back : now, now};
    auto [pos, fresh] = seen.emplace(it->ref, c.changes.size());
    if (fresh) c.changes.push_back(std::move(ch));
    else c.changes[pos->second] = std::move(ch);
  }
  c.changes.erase(std::remove_if(c.changes.begin(), c.changes.end(), [](const Change& ch) { return !ch.object; }),
                  c.changes.end());
  for (const auto& obs : observers_) obs(c);
}

uint64_t Store::generation() const {
  std::shared_lock lock(mu_);
  return generation_;
}

void Store::index(const dm::Class& c, const ObjectPtr& before, const ObjectPtr& after) {
  auto& t = table(c);
  if (c.uuid) {
    const Value* ub = before ? &before->values[c.uuid->index] : nullptr;
    const Value* ua = after ? &after->values[c.uuid->index] : nullptr;
    if (ub && (!ua || *ub != *ua)) by_uuid_.erase(ub->str());
    if (ua && (!ub || *ub != *ua)) by_uuid_[ua->str()] = UuidEntry{&c, after->ref};
  }
  if (c.name_label) {
    const Value* nb = before ? &before->values[c.name_label->index] : nullptr;
    const Value* na = after ? &after->values[c.name_label->index] : nullptr;
    if (nb && (!na || *nb != *na)) {
      auto [a, b] = t.by_name.equal_range(nb->str());
      for (auto it = a; it != b; ++it) {
        if (it->second == before->ref) {
          t.by_name.erase(it);
          break;
        }
      }
    }
    if (na && (!nb || *nb != *na)) t.by_name.emplace(na->str(), after->ref);
  }
}

}  // namespace xenapi
