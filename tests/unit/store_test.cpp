// Unit tests of the object store (classes/store/store.h): CRUD, indexes, transactions and rollback, generations, observers, relations.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "value_printer.h"
#include "classes/datamodel/datamodel.h"
#include "classes/errors.h"
#include "classes/store/store.h"

namespace xenapi::testing {
namespace {

using Fields = std::vector<std::pair<std::string, Value>>;

class StoreTest : public ::testing::Test {
 protected:
  Store store{dm::Datamodel::standard(), counting_ids()};
  const dm::Class& vm = store.cls("VM");
  const dm::Class& vbd = store.cls("VBD");
  const dm::Class& session = store.cls("session");
  std::vector<Commit> commits;

  void observe() {
    store.add_observer([this](const Commit& c) { commits.push_back(c); });
  }

  std::vector<Value> values(const dm::Class& c, const Fields& fields) {
    std::vector<Value> v = store.defaults(c);
    for (const auto& [name, value] : fields) {
      const dm::Field* f = c.field(name);
      if (!f) throw std::logic_error("no field " + name);
      v[f->index] = value;
    }
    return v;
  }
  std::string create(const dm::Class& c, const Fields& fields = {}) {
    return store.write([&](Txn& t) { return t.create(c, values(c, fields)); });
  }
  ObjectPtr get(const dm::Class& c, const std::string& ref) {
    return store.read([&](const View& v) { return v.get(c, ref); });
  }
  Value field(const dm::Class& c, const std::string& ref, const std::string& name) {
    ObjectPtr o = get(c, ref);
    if (!o) return Value("<destroyed>");
    return o->at(c, name);
  }
  size_t count(const dm::Class& c) {
    return store.read([&](const View& v) { return v.count(c); });
  }
  std::vector<std::string> named(const dm::Class& c, const std::string& label) {
    std::vector<std::string> refs;
    for (const auto& o : store.read([&](const View& v) { return v.by_name_label(c, label); })) refs.push_back(o->ref);
    std::sort(refs.begin(), refs.end());
    return refs;
  }
  ObjectPtr by_uuid(const dm::Class& c, const std::string& uuid) {
    return store.read([&](const View& v) { return v.by_uuid(c, uuid); });
  }
  std::string uuid_of(const dm::Class& c, const std::string& ref) { return field(c, ref, "uuid").str(); }
  std::string vbd_of(const std::string& vm_ref) {
    return create(vbd, {{"VM", Value(vm_ref)}, {"userdevice", Value("0")}});
  }
  static Value refs(std::vector<std::string> rs) {
    Array a;
    for (auto& r : rs) a.emplace_back(std::move(r));
    return Value(std::move(a));
  }
  static std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
};

// ------------------------------------------------------------------ objects

TEST_F(StoreTest, CreateGetSetDestroy) {
  std::string ref = create(vm, {{"name_label", Value("one")}});
  EXPECT_EQ(ref.rfind("OpaqueRef:", 0), 0u);
  ASSERT_NE(get(vm, ref), nullptr);
  EXPECT_EQ(get(vm, ref)->ref, ref);
  EXPECT_EQ(field(vm, ref, "name_label"), Value("one"));
  EXPECT_EQ(count(vm), 1u);

  store.write([&](Txn& t) { t.set(vm, ref, "name_label", Value("two")); });
  EXPECT_EQ(field(vm, ref, "name_label"), Value("two"));

  store.write([&](Txn& t) { t.destroy(vm, ref); });
  EXPECT_EQ(get(vm, ref), nullptr);
  EXPECT_EQ(count(vm), 0u);
}

TEST_F(StoreTest, MissingObjectsAreHandleInvalid) {
  try {
    store.read([&](const View& v) { return v.must_get(vm, "OpaqueRef:nope"); });
    ADD_FAILURE() << "must_get succeeded";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.description(), (std::vector<std::string>{"HANDLE_INVALID", "VM", "OpaqueRef:nope"}));
  }
  EXPECT_THROW(store.write([&](Txn& t) { t.set(vm, "OpaqueRef:nope", "name_label", Value("x")); }), ApiError);
  EXPECT_THROW(store.write([&](Txn& t) { t.destroy(vm, "OpaqueRef:nope"); }), ApiError);
}

TEST_F(StoreTest, CreateFillsInAUuidAndAcceptsAGivenRef) {
  std::vector<Value> v = values(vm, {});
  v[vm.uuid->index] = Value("");
  std::string ref = store.write([&](Txn& t) { return t.create(vm, std::move(v), "OpaqueRef:chosen"); });
  EXPECT_EQ(ref, "OpaqueRef:chosen");
  EXPECT_FALSE(uuid_of(vm, ref).empty());
  EXPECT_THROW(store.write([&](Txn& t) { t.create(vm, values(vm, {}), "OpaqueRef:chosen"); }), std::logic_error);
}

TEST_F(StoreTest, DuplicateUuidIsRefused) {
  std::string a = create(vm);
  std::string uuid = uuid_of(vm, a);
  EXPECT_THROW(create(vm, {{"uuid", Value(uuid)}}), ApiError);
  EXPECT_EQ(count(vm), 1u);
}

TEST_F(StoreTest, PublishedObjectsAreImmutable) {
  std::string ref = create(vm, {{"name_label", Value("before")}});
  ObjectPtr old = get(vm, ref);
  store.write([&](Txn& t) { t.set(vm, ref, "name_label", Value("after")); });
  EXPECT_EQ(old->at(vm, "name_label"), Value("before"));
  EXPECT_EQ(field(vm, ref, "name_label"), Value("after"));
}

// ------------------------------------------------------------------ indexes

TEST_F(StoreTest, UuidIndex) {
  std::string ref = create(vm);
  std::string uuid = uuid_of(vm, ref);
  ASSERT_NE(by_uuid(vm, uuid), nullptr);
  EXPECT_EQ(by_uuid(vm, uuid)->ref, ref);
  EXPECT_EQ(by_uuid(vbd, uuid), nullptr);  // another class
  EXPECT_EQ(by_uuid(vm, "no-such-uuid"), nullptr);
  store.write([&](Txn& t) { t.destroy(vm, ref); });
  EXPECT_EQ(by_uuid(vm, uuid), nullptr);
}

TEST_F(StoreTest, NameLabelIndexFollowsRenamesAndDestroys) {
  std::string a = create(vm, {{"name_label", Value("web")}});
  std::string b = create(vm, {{"name_label", Value("web")}});
  EXPECT_EQ(named(vm, "web"), sorted({a, b}));
  EXPECT_TRUE(named(vm, "db").empty());

  store.write([&](Txn& t) { t.set(vm, a, "name_label", Value("db")); });
  EXPECT_EQ(named(vm, "web"), std::vector<std::string>{b});
  EXPECT_EQ(named(vm, "db"), std::vector<std::string>{a});

  store.write([&](Txn& t) { t.update(vm, b, [&](Object& o) { o.values[vm.name_label->index] = Value("db"); }); });
  EXPECT_TRUE(named(vm, "web").empty());
  EXPECT_EQ(named(vm, "db"), sorted({a, b}));

  store.write([&](Txn& t) { t.destroy(vm, a); });
  EXPECT_EQ(named(vm, "db"), std::vector<std::string>{b});
}

// ------------------------------------------------------------------ transactions

TEST_F(StoreTest, ChangesAreVisibleInsideTheTransaction) {
  std::string ref = create(vm, {{"name_label", Value("a")}});
  store.write([&](Txn& t) {
    t.set(vm, ref, "name_label", Value("b"));
    EXPECT_EQ(t.must_get(vm, ref)->at(vm, "name_label"), Value("b"));
    EXPECT_EQ(t.by_name_label(vm, "b").size(), 1u);
    std::string n = t.create(vm, values(vm, {}));
    EXPECT_TRUE(t.exists(vm, n));
  });
}

TEST_F(StoreTest, ThrowingTransactionRollsBackEverything) {
  std::string keep = create(vm, {{"name_label", Value("keep")}});
  std::string doomed = create(vm, {{"name_label", Value("doomed")}});
  std::string disk = vbd_of(keep);
  ObjectPtr keep_before = get(vm, keep);
  ObjectPtr doomed_before = get(vm, doomed);
  ObjectPtr disk_before = get(vbd, disk);
  const std::string doomed_uuid = uuid_of(vm, doomed);
  const uint64_t gen = store.generation();
  observe();

  std::string created, created_uuid, created_vbd;
  struct Boom {};
  EXPECT_THROW(store.write([&](Txn& t) {
                 created = t.create(vm, values(vm, {{"name_label", Value("new")}}));
                 created_uuid = t.must_get(vm, created)->at(vm, "uuid").str();
                 t.set(vm, keep, "name_label", Value("renamed"));
                 created_vbd = t.create(vbd, values(vbd, {{"VM", Value(keep)}}));
                 t.set(vbd, disk, "VM", Value(created));  // moves the VBD to the new VM
                 t.destroy(vm, doomed);
                 t.set(vm, created, "name_label", Value("new2"));
                 throw Boom{};
               }),
               Boom);

  // Objects: back to the very same published versions.
  EXPECT_EQ(get(vm, keep), keep_before);
  EXPECT_EQ(get(vm, doomed), doomed_before);
  EXPECT_EQ(get(vbd, disk), disk_before);
  EXPECT_EQ(get(vm, created), nullptr);
  EXPECT_EQ(get(vbd, created_vbd), nullptr);
  EXPECT_EQ(count(vm), 2u);
  EXPECT_EQ(count(vbd), 1u);
  // Indexes.
  EXPECT_EQ(named(vm, "keep"), std::vector<std::string>{keep});
  EXPECT_EQ(named(vm, "doomed"), std::vector<std::string>{doomed});
  EXPECT_TRUE(named(vm, "renamed").empty());
  EXPECT_TRUE(named(vm, "new").empty());
  EXPECT_TRUE(named(vm, "new2").empty());
  EXPECT_EQ(by_uuid(vm, created_uuid), nullptr);
  ASSERT_NE(by_uuid(vm, doomed_uuid), nullptr);
  EXPECT_EQ(by_uuid(vm, doomed_uuid)->ref, doomed);
  // Relations.
  EXPECT_EQ(field(vm, keep, "VBDs"), refs({disk}));
  EXPECT_EQ(field(vbd, disk, "VM"), Value(keep));
  // Nobody was told, and the generation did not move.
  EXPECT_TRUE(commits.empty());
  EXPECT_EQ(store.generation(), gen);

  // The store still works normally afterwards.
  store.write([&](Txn& t) { t.set(vm, keep, "name_label", Value("later")); });
  EXPECT_EQ(named(vm, "later"), std::vector<std::string>{keep});
  EXPECT_EQ(store.generation(), gen + 1);
}

TEST_F(StoreTest, AnApiErrorInsideATransactionRollsBackToo) {
  std::string a = create(vm, {{"name_label", Value("a")}});
  const uint64_t gen = store.generation();
  EXPECT_THROW(store.write([&](Txn& t) {
                 t.set(vm, a, "name_label", Value("b"));
                 t.must_get(vm, "OpaqueRef:missing");
               }),
               ApiError);
  EXPECT_EQ(field(vm, a, "name_label"), Value("a"));
  EXPECT_EQ(named(vm, "a"), std::vector<std::string>{a});
  EXPECT_TRUE(named(vm, "b").empty());
  EXPECT_EQ(store.generation(), gen);
}

// ------------------------------------------------------------------ generations

TEST_F(StoreTest, GenerationBumpsOncePerCommittedTransaction) {
  const uint64_t g0 = store.generation();
  std::string a = create(vm);
  EXPECT_EQ(store.generation(), g0 + 1);
  store.write([&](Txn& t) {
    t.create(vm, values(vm, {}));
    t.create(vm, values(vm, {}));
    t.set(vm, a, "name_label", Value("x"));
  });
  EXPECT_EQ(store.generation(), g0 + 2);
  // Stamps: created/modified carry the generation of their commit.
  ObjectPtr o = get(vm, a);
  EXPECT_EQ(o->created, g0 + 1);
  EXPECT_EQ(o->modified, g0 + 2);
}

TEST_F(StoreTest, NoBumpWithoutChanges) {
  std::string a = create(vm, {{"name_label", Value("same")}});
  const uint64_t g = store.generation();
  store.write([&](Txn&) {});
  store.write([&](Txn& t) { t.set(vm, a, "name_label", Value("same")); });
  store.read([&](const View& v) { return v.count(vm); });
  EXPECT_EQ(store.generation(), g);
}

TEST_F(StoreTest, SessionOnlyWritesDoNotBumpTheGeneration) {
  ASSERT_FALSE(session.events);
  const uint64_t g = store.generation();
  std::string s = create(session, {{"originator", Value("test")}});
  store.write([&](Txn& t) { t.set(session, s, "last_active", Value(DateTime{100})); });
  store.write([&](Txn& t) { t.destroy(session, s); });
  EXPECT_EQ(store.generation(), g);
  // A transaction touching a session and an event class bumps once.
  store.write([&](Txn& t) {
    t.create(session, values(session, {}));
    t.create(vm, values(vm, {}));
  });
  EXPECT_EQ(store.generation(), g + 1);
}

TEST_F(StoreTest, TouchCountsAsAModification) {
  std::string a = create(vm);
  const uint64_t g = store.generation();
  observe();
  store.write([&](Txn& t) { t.touch(vm, a); });
  EXPECT_EQ(store.generation(), g + 1);
  ASSERT_EQ(commits.size(), 1u);
  ASSERT_EQ(commits[0].changes.size(), 1u);
  EXPECT_EQ(commits[0].changes[0].kind, ChangeKind::Mod);
  EXPECT_EQ(commits[0].changes[0].ref, a);
}

// ------------------------------------------------------------------ observers

TEST_F(StoreTest, ObserverSeesEachCommitWithItsGeneration) {
  observe();
  std::string a = create(vm, {{"name_label", Value("a")}});
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].generation, store.generation());
  ASSERT_EQ(commits[0].changes.size(), 1u);
  const Change& c = commits[0].changes[0];
  EXPECT_EQ(c.kind, ChangeKind::Add);
  EXPECT_EQ(c.cls, &vm);
  EXPECT_EQ(c.ref, a);
  ASSERT_NE(c.object, nullptr);
  EXPECT_EQ(c.object->at(vm, "name_label"), Value("a"));
  EXPECT_EQ(c.object->created, commits[0].generation);
}

TEST_F(StoreTest, AddThenModifyIsOneAddWithTheFinalState) {
  observe();
  std::string a = store.write([&](Txn& t) {
    std::string r = t.create(vm, values(vm, {{"name_label", Value("first")}}));
    t.set(vm, r, "name_label", Value("second"));
    t.set(vm, r, "name_description", Value("desc"));
    return r;
  });
  ASSERT_EQ(commits.size(), 1u);
  ASSERT_EQ(commits[0].changes.size(), 1u);
  const Change& c = commits[0].changes[0];
  EXPECT_EQ(c.kind, ChangeKind::Add);
  EXPECT_EQ(c.ref, a);
  EXPECT_EQ(c.object->at(vm, "name_label"), Value("second"));
  EXPECT_EQ(c.object->at(vm, "name_description"), Value("desc"));
  EXPECT_EQ(c.object, get(vm, a));
}

TEST_F(StoreTest, AddThenDestroyIsNothing) {
  std::string other = create(vm);
  observe();
  std::string gone;
  store.write([&](Txn& t) {
    gone = t.create(vm, values(vm, {}));
    t.destroy(vm, gone);
  });
  for (const auto& c : commits)
    for (const auto& ch : c.changes) EXPECT_NE(ch.ref, gone) << "a change was reported for an object that never existed";
  EXPECT_EQ(get(vm, gone), nullptr);
  EXPECT_NE(get(vm, other), nullptr);
}

TEST_F(StoreTest, ModifyTwiceIsOneModAndModifyThenDestroyIsOneDel) {
  std::string a = create(vm, {{"name_label", Value("a")}});
  std::string b = create(vm, {{"name_label", Value("b")}});
  observe();
  store.write([&](Txn& t) {
    t.set(vm, a, "name_label", Value("a1"));
    t.set(vm, a, "name_label", Value("a2"));
    t.set(vm, b, "name_label", Value("b1"));
    t.destroy(vm, b);
  });
  ASSERT_EQ(commits.size(), 1u);
  ASSERT_EQ(commits[0].changes.size(), 2u);
  const Change* ca = nullptr;
  const Change* cb = nullptr;
  for (const auto& ch : commits[0].changes) (ch.ref == a ? ca : cb) = &ch;
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(ca->kind, ChangeKind::Mod);
  EXPECT_EQ(ca->object->at(vm, "name_label"), Value("a2"));
  EXPECT_EQ(cb->kind, ChangeKind::Del);
  EXPECT_EQ(cb->ref, b);
  ASSERT_NE(cb->object, nullptr);
  EXPECT_EQ(cb->object->at(vm, "name_label"), Value("b1"));  // the last state
}

TEST_F(StoreTest, RelationUpdatesAreReportedAsChanges) {
  std::string v = create(vm);
  observe();
  std::string d = vbd_of(v);
  ASSERT_EQ(commits.size(), 1u);
  std::vector<std::pair<std::string, ChangeKind>> seen;
  for (const auto& ch : commits[0].changes) seen.emplace_back(ch.ref, ch.kind);
  std::sort(seen.begin(), seen.end());
  auto want = std::vector<std::pair<std::string, ChangeKind>>{{d, ChangeKind::Add}, {v, ChangeKind::Mod}};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(seen, want);
}

// ------------------------------------------------------------------ relations

TEST_F(StoreTest, CreatingTheRefSideFillsTheSetSide) {
  std::string v = create(vm);
  std::string d1 = vbd_of(v);
  std::string d2 = vbd_of(v);
  Value got = field(vm, v, "VBDs");
  ASSERT_TRUE(got.is_array());
  std::vector<std::string> members;
  for (const auto& x : got.arr()) members.push_back(x.str());
  EXPECT_EQ(sorted(members), sorted({d1, d2}));
  // A NULL ref links nothing.
  vbd_of(std::string(dm::kNullRef));
  EXPECT_EQ(field(vm, v, "VBDs").arr().size(), 2u);
}

TEST_F(StoreTest, SettingTheRefSideMovesTheMember) {
  std::string v1 = create(vm);
  std::string v2 = create(vm);
  std::string d = vbd_of(v1);
  store.write([&](Txn& t) { t.set(vbd, d, "VM", Value(v2)); });
  EXPECT_EQ(field(vm, v1, "VBDs"), Value::empty_array());
  EXPECT_EQ(field(vm, v2, "VBDs"), refs({d}));
  store.write([&](Txn& t) { t.set(vbd, d, "VM", Value(std::string(dm::kNullRef))); });
  EXPECT_EQ(field(vm, v2, "VBDs"), Value::empty_array());
}

TEST_F(StoreTest, DestroyingTheRefSideRemovesTheMember) {
  std::string v = create(vm);
  std::string d1 = vbd_of(v);
  std::string d2 = vbd_of(v);
  store.write([&](Txn& t) { t.destroy(vbd, d1); });
  EXPECT_EQ(field(vm, v, "VBDs"), refs({d2}));
}

TEST_F(StoreTest, DestroyingTheSetSideNullsTheRefSide) {
  std::string v = create(vm);
  std::string d = vbd_of(v);
  store.write([&](Txn& t) { t.destroy(vm, v); });
  EXPECT_EQ(field(vbd, d, "VM"), Value(std::string(dm::kNullRef)));
}

TEST_F(StoreTest, TheSetSideStartsEmptyWhateverCreateIsGiven) {
  std::string v = create(vm, {{"VBDs", Value::array({Value("OpaqueRef:made-up")})}});
  EXPECT_EQ(field(vm, v, "VBDs"), Value::empty_array());
}

TEST_F(StoreTest, DanglingRefsAreTolerated) {
  std::string d = vbd_of("OpaqueRef:no-such-vm");
  EXPECT_EQ(field(vbd, d, "VM"), Value("OpaqueRef:no-such-vm"));
  store.write([&](Txn& t) { t.destroy(vbd, d); });
  EXPECT_EQ(get(vbd, d), nullptr);
}

TEST_F(StoreTest, SelfRelationsAreMaintainedOnCreateSetAndDestroyOfTheMember) {
  // VM.snapshot_of <-> VM.snapshots: both sides in one class.
  std::string origin = create(vm);
  std::string snap = create(vm, {{"snapshot_of", Value(origin)}, {"is_a_snapshot", Value(true)}});
  EXPECT_EQ(field(vm, origin, "snapshots"), refs({snap}));
  std::string other = create(vm);
  store.write([&](Txn& t) { t.set(vm, snap, "snapshot_of", Value(other)); });
  EXPECT_EQ(field(vm, origin, "snapshots"), Value::empty_array());
  EXPECT_EQ(field(vm, other, "snapshots"), refs({snap}));
  store.write([&](Txn& t) { t.destroy(vm, snap); });
  EXPECT_EQ(field(vm, other, "snapshots"), Value::empty_array());
}

TEST_F(StoreTest, DestroyingTheSetSideOfASelfRelationNullsTheRefSide) {
  // As for VBD.VM when its VM goes: the members must not point at a destroyed object.
  std::string origin = create(vm);
  std::string snap = create(vm, {{"snapshot_of", Value(origin)}});
  std::string child = create(vm, {{"parent", Value(origin)}});
  store.write([&](Txn& t) { t.destroy(vm, origin); });
  EXPECT_EQ(field(vm, snap, "snapshot_of"), Value(std::string(dm::kNullRef)));
  EXPECT_EQ(field(vm, child, "parent"), Value(std::string(dm::kNullRef)));
}

}  // namespace
}  // namespace xenapi::testing
