// Tests generated from the datamodel: for every class and field, the implicit
// messages behave as declared (getters, setters iff RW, set/map adders,
// get_record keys); relations stay consistent; create enforces required
// fields. Adding a field to a declaration adds its tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "classes/api/handlers.h"
#include "harness.h"

namespace xenapi::testing {
namespace {

using dm::Type;
using K = dm::Type::Kind;

struct FieldCase {
  std::string cls;
  std::string field;
};
void PrintTo(const FieldCase& c, std::ostream* os) { *os << c.cls << "." << c.field; }

// Every (class, field) with implicit accessors that satisfies `keep`.
std::vector<FieldCase> field_cases(const std::function<bool(const dm::Field&)>& keep) {
  std::vector<FieldCase> out;
  for (const auto& c : dm::Datamodel::standard()->classes()) {
    if (!c->db_class || !(c->implicit & dm::kFieldAccessors)) continue;
    for (const auto& f : c->fields)
      if (!f.internal && keep(f)) out.push_back({c->name, f.name});
  }
  return out;
}
bool any_field(const dm::Field&) { return true; }
bool live_field(const dm::Field& f) { return !f.life.is_removed(); }
bool writable(const dm::Field& f) { return f.qual == dm::Qual::RW && live_field(f); }
bool writable_set(const dm::Field& f) { return writable(f) && f.type.is(K::Set); }
bool writable_map(const dm::Field& f) { return writable(f) && f.type.is(K::Map); }

// Live classes with get_record (and, if `listable`, get_all).
std::vector<std::string> db_classes(bool listable) {
  std::vector<std::string> out;
  for (const auto& c : dm::Datamodel::standard()->classes())
    if (c->db_class && (c->implicit & dm::kGetRecord) && !c->life.is_removed() &&
        (!listable || (c->implicit & dm::kGetAll)))
      out.push_back(c->name);
  return out;
}

// One harness for the whole suite: the cases only read, or write values that
// later cases do not depend on.
Harness& shared() {
  static Harness* h = new Harness();
  return *h;
}

// A ref to some object of class `cls`, creating one from defaults if needed.
std::string some_object(Harness& h, const std::string& cls) {
  const dm::Class* c = h.model().cls(cls);
  if (!c || !c->db_class) return std::string(dm::kNullRef);
  if (cls == "session") return h.session();
  std::string ref = h.store().read([&](const View& v) {
    auto all = v.all(*c);
    return all.empty() ? std::string() : all.front()->ref;
  });
  if (!ref.empty()) return ref;
  return h.store().write([&](Txn& t) { return t.create(*c, h.store().defaults(*c)); });
}

Value sample(Harness& h, const Type& t, const std::string& hint) {
  switch (t.kind) {
    case K::String: return Value("sample-" + hint);
    case K::Int: return Value(int64_t{7});
    case K::Float: return Value(1.5);
    case K::Bool: return Value(true);
    case K::DateTime: return Value(DateTime{1704153600});  // 2024-01-02
    case K::Enum: return Value(t.enumeration->values.back());
    case K::Ref: return Value(some_object(h, t.name));
    case K::Set: return Value::array({sample(h, *t.elem, hint)});
    case K::Map: return Value(Map{{sample(h, *t.elem, "key"), sample(h, *t.value, hint)}});
    default: return Value();
  }
}

class FieldTest : public ::testing::TestWithParam<FieldCase> {
 protected:
  Harness& h = shared();
  const dm::Class& cls() { return *h.model().cls(GetParam().cls); }
  const dm::Field& field() { return *cls().field(GetParam().field); }
  std::string wire(const std::string& prefix) { return GetParam().cls + "." + prefix + GetParam().field; }
  std::string object() { return some_object(h, GetParam().cls); }
};

TEST_P(FieldTest, GetterReturnsTheStoredValue) {
  std::string ref = object();
  Response r = h.call(wire("get_"), {Value(ref)});
  if (field().life.is_removed()) {
    ASSERT_EQ(r.kind, Response::Kind::Failure);
    EXPECT_EQ(r.error, std::vector<std::string>{"MESSAGE_REMOVED"});
    return;
  }
  ASSERT_EQ(r.kind, Response::Kind::Success) << r.error[0];
  Value stored = h.store().read([&](const View& v) { return v.must_get(cls(), ref)->values[field().index]; });
  EXPECT_EQ(r.result.to_value(), stored);
}

using LiveFieldTest = FieldTest;
TEST_P(LiveFieldTest, GetterRejectsAnUnknownRef) {
  auto e = h.fail(wire("get_"), {Value("OpaqueRef:no-such-object")});
  EXPECT_EQ(e, (std::vector<std::string>{"HANDLE_INVALID", GetParam().cls, "OpaqueRef:no-such-object"}));
}

TEST_P(FieldTest, ImplicitSetterExistsIffReadWrite) {
  const dm::Message* setter = h.model().message(wire("set_"));
  bool implicit_setter = setter && setter->kind == dm::MessageKind::SetField;
  EXPECT_EQ(implicit_setter, field().qual == dm::Qual::RW);
  if (field().qual != dm::Qual::RW) {
    // Calling a setter that does not exist fails, unless an explicit one does.
    if (!setter) {
      auto e = h.fail(wire("set_"), {Value(object()), sample(h, field().type, GetParam().field)});
      ASSERT_FALSE(e.empty());
      EXPECT_EQ(e[0], "MESSAGE_METHOD_UNKNOWN");
    }
  }
}

using WritableFieldTest = FieldTest;
TEST_P(WritableFieldTest, SetThenGetRoundTrips) {
  std::string ref = object();
  Value v = sample(h, field().type, GetParam().field);
  h.ok(wire("set_"), {Value(ref), v});
  EXPECT_EQ(h.ok(wire("get_"), {Value(ref)}), v);
}

using SetFieldTest = FieldTest;
TEST_P(SetFieldTest, AddersAndRemoversWork) {
  std::string ref = object();
  h.ok(wire("set_"), {Value(ref), Value::empty_array()});
  Value a = sample(h, *field().type.elem, "a");
  h.ok(wire("add_"), {Value(ref), a});
  h.ok(wire("add_"), {Value(ref), a});  // adding twice keeps one
  EXPECT_EQ(h.ok(wire("get_"), {Value(ref)}), Value::array({a}));
  h.ok(wire("remove_"), {Value(ref), a});
  h.ok(wire("remove_"), {Value(ref), a});  // removing an absent element is fine
  EXPECT_EQ(h.ok(wire("get_"), {Value(ref)}), Value::empty_array());
}

using MapFieldTest = FieldTest;
TEST_P(MapFieldTest, AddersAndRemoversWork) {
  std::string ref = object();
  h.ok(wire("set_"), {Value(ref), Value::empty_map()});
  Value k = sample(h, *field().type.elem, "key");
  Value v = sample(h, *field().type.value, "value");
  h.ok(wire("add_to_"), {Value(ref), k, v});
  auto e = h.fail(wire("add_to_"), {Value(ref), k, v});
  std::string key = k.is_int() ? std::to_string(k.integer()) : k.str();
  EXPECT_EQ(e, (std::vector<std::string>{"MAP_DUPLICATE_KEY", GetParam().cls, GetParam().field, ref, key}));
  EXPECT_EQ(h.ok(wire("get_"), {Value(ref)}), Value(Map{{k, v}}));
  h.ok(wire("remove_from_"), {Value(ref), k});
  h.ok(wire("remove_from_"), {Value(ref), k});  // a missing key is not an error
  EXPECT_EQ(h.ok(wire("get_"), {Value(ref)}), Value::empty_map());
}

TEST_P(WritableFieldTest, SetterChecksTheValueType) {
  // A struct is never a valid scalar, and a scalar never a valid set or map.
  Value wrong = field().type.is(K::Map) || field().type.is(K::Set) ? Value(true) : Value(Map{});
  auto e = h.fail(wire("set_"), {Value(object()), wrong});
  EXPECT_EQ(e, (std::vector<std::string>{"FIELD_TYPE_ERROR", "value"}));
}

std::string case_name(const ::testing::TestParamInfo<FieldCase>& i) { return i.param.cls + "_" + i.param.field; }

INSTANTIATE_TEST_SUITE_P(EveryField, FieldTest, ::testing::ValuesIn(field_cases(any_field)), case_name);
INSTANTIATE_TEST_SUITE_P(EveryLiveField, LiveFieldTest, ::testing::ValuesIn(field_cases(live_field)), case_name);
INSTANTIATE_TEST_SUITE_P(EveryWritableField, WritableFieldTest, ::testing::ValuesIn(field_cases(writable)),
                         case_name);
INSTANTIATE_TEST_SUITE_P(EveryWritableSet, SetFieldTest, ::testing::ValuesIn(field_cases(writable_set)), case_name);
INSTANTIATE_TEST_SUITE_P(EveryWritableMap, MapFieldTest, ::testing::ValuesIn(field_cases(writable_map)), case_name);

class ClassTest : public ::testing::TestWithParam<std::string> {
 protected:
  Harness& h = shared();
  const dm::Class& cls() { return *h.model().cls(GetParam()); }
};

TEST_P(ClassTest, GetRecordHasExactlyThePublishedFields) {
  std::string ref = some_object(h, GetParam());
  Value rec = h.ok(GetParam() + ".get_record", {Value(ref)});
  std::vector<std::string> keys, want;
  for (const auto& [k, v] : rec.map()) keys.push_back(k.str());
  for (const auto& f : cls().fields)
    if (f.published()) want.push_back(f.name);
  EXPECT_EQ(keys, want);
}

TEST_P(ClassTest, GetByUuidFindsTheObjectAndRejectsUnknownUuids) {
  std::string ref = some_object(h, GetParam());
  std::string uuid = h.ok(GetParam() + ".get_uuid", {Value(ref)}).str();
  EXPECT_EQ(h.ok(GetParam() + ".get_by_uuid", {Value(uuid)}).str(), ref);
  auto e = h.fail(GetParam() + ".get_by_uuid", {Value("00000000-0000-0000-0000-00000000dead")});
  EXPECT_EQ(e, (std::vector<std::string>{"UUID_INVALID", GetParam(), "00000000-0000-0000-0000-00000000dead"}));
}

using ListableClassTest = ClassTest;
TEST_P(ListableClassTest, GetAllRecordsAgreesWithGetAll) {
  some_object(h, GetParam());
  Value refs = h.ok(GetParam() + ".get_all");
  Value recs = h.ok(GetParam() + ".get_all_records");
  std::set<std::string> a, b;
  for (const auto& r : refs.arr()) a.insert(r.str());
  for (const auto& [k, v] : recs.map()) b.insert(k.str());
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  Value where = h.ok(GetParam() + ".get_all_records_where", {Value("true")});
  EXPECT_EQ(where.map().size(), recs.map().size());
  EXPECT_TRUE(h.ok(GetParam() + ".get_all_records_where", {Value("false")}).map().empty());
}

TEST_P(ClassTest, GetByNameLabelExistsIffDeclared) {
  bool declared = cls().implicit & dm::kGetByNameLabel;
  const dm::Message* m = h.model().message(GetParam() + ".get_by_name_label");
  EXPECT_EQ(m != nullptr, declared);
  if (!declared) return;
  std::string ref = some_object(h, GetParam());
  std::string label = h.store().read([&](const View& v) { return v.must_get(cls(), ref)->values[cls().name_label->index].str(); });
  Value found = h.ok(GetParam() + ".get_by_name_label", {Value(label)});
  EXPECT_NE(std::find(found.arr().begin(), found.arr().end(), Value(ref)), found.arr().end());
  EXPECT_TRUE(h.ok(GetParam() + ".get_by_name_label", {Value("no such label anywhere")}).arr().empty());
}

INSTANTIATE_TEST_SUITE_P(EveryClass, ClassTest, ::testing::ValuesIn(db_classes(false)),
                         [](const auto& i) { return i.param; });
INSTANTIATE_TEST_SUITE_P(EveryListableClass, ListableClassTest, ::testing::ValuesIn(db_classes(true)),
                         [](const auto& i) { return i.param; });

TEST(Datamodel, EveryImplementedMessageHasAMatchingHandler) {
  auto problems = Handlers::global().check(*dm::Datamodel::standard());
  for (const auto& p : problems) ADD_FAILURE() << p;
}

TEST(Datamodel, EveryRecordOfAClassHasTheSameFieldSet) {
  Harness& h = shared();
  for (const auto& c : h.model().classes()) {
    if (!c->db_class || !(c->implicit & dm::kGetAll) || c->life.is_removed()) continue;
    Value recs = h.ok(c->name + ".get_all_records");
    std::optional<std::vector<std::string>> first;
    for (const auto& [ref, rec] : recs.map()) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : rec.map()) keys.push_back(k.str());
      if (!first) first = keys;
      EXPECT_EQ(keys, *first) << c->name << " " << ref.str();
    }
  }
}

TEST(Datamodel, UuidsAreUniqueAcrossClasses) {
  Harness h;
  std::set<std::string> seen;
  size_t n = 0;
  h.store().read([&](const View& v) {
    for (const auto& c : h.model().classes()) {
      if (!c->db_class || !c->uuid) continue;
      for (const auto& o : v.all(*c)) {
        seen.insert(o->values[c->uuid->index].str());
        ++n;
      }
    }
    return 0;
  });
  EXPECT_GT(n, 20u);
  EXPECT_EQ(seen.size(), n);
}

// ---------------------------------------------------------------- relations

class Relations : public ::testing::Test {
 protected:
  Harness h;
  std::string vm() {
    return h.store().read([&](const View& v) {
      for (const auto& o : v.all(h.store().cls("VM")))
        if (!o->at(h.store().cls("VM"), "is_control_domain").boolean()) return o->ref;
      return std::string();
    });
  }
  std::string first(const std::string& cls) {
    return h.store().read([&](const View& v) { return v.all(h.store().cls(cls)).front()->ref; });
  }
  Value get(const std::string& wire, const std::string& ref) { return h.ok(wire, {Value(ref)}); }
  static bool contains(const Value& set, const std::string& ref) {
    return std::find(set.arr().begin(), set.arr().end(), Value(ref)) != set.arr().end();
  }
};

TEST_F(Relations, EveryDeclaredPairIsConsistentAfterBootstrap) {
  h.store().read([&](const View& v) {
    for (const auto& r : h.model().relations()) {
      for (const auto& o : v.all(*r.ref->cls)) {
        const std::string& target = o->values[r.ref->index].str();
        if (target == dm::kNullRef) continue;
        ObjectPtr t = v.get(*r.set->cls, target);
        if (!t) {
          ADD_FAILURE() << r.ref->cls->name << "." << r.ref->name << " dangles";
          continue;
        }
        EXPECT_TRUE(contains(t->values[r.set->index], o->ref)) << r.set->cls->name << "." << r.set->name;
      }
      for (const auto& o : v.all(*r.set->cls))
        for (const auto& member : o->values[r.set->index].arr()) {
          ObjectPtr m = v.get(*r.ref->cls, member.str());
          if (!m) {
            ADD_FAILURE() << "dangling member of " << r.set->cls->name << "." << r.set->name;
            continue;
          }
          EXPECT_EQ(m->values[r.ref->index].str(), o->ref);
        }
    }
    return 0;
  });
}

TEST_F(Relations, CreatingAndDestroyingDevicesUpdatesTheVm) {
  std::string sr = first("SR");
  std::string vdi = h.ok("VDI.create", {map_of({{"SR", Value(sr)},
                                                {"virtual_size", Value(int64_t{1} << 30)},
                                                {"type", Value("user")},
                                                {"sharable", Value(false)},
                                                {"read_only", Value(false)},
                                                {"other_config", Value::empty_map()}})})
                        .str();
  EXPECT_TRUE(contains(get("SR.get_VDIs", sr), vdi));
  std::string target = vm();
  std::string vbd = h.ok("VBD.create", {map_of({{"VM", Value(target)},
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
  EXPECT_TRUE(contains(get("VM.get_VBDs", target), vbd));
  EXPECT_TRUE(contains(get("VDI.get_VBDs", vdi), vbd));
  h.ok("VBD.destroy", {Value(vbd)});
  EXPECT_FALSE(contains(get("VM.get_VBDs", target), vbd));
  EXPECT_FALSE(contains(get("VDI.get_VBDs", vdi), vbd));
  h.ok("VDI.destroy", {Value(vdi)});
  EXPECT_FALSE(contains(get("SR.get_VDIs", sr), vdi));
}

TEST_F(Relations, ChangingTheRefSideMovesTheObjectBetweenSets) {
  std::string target = vm();
  std::string host = first("host");
  EXPECT_FALSE(contains(get("host.get_resident_VMs", host), target));
  const dm::Class& vmc = h.store().cls("VM");
  h.store().write([&](Txn& t) { t.set(vmc, target, "resident_on", Value(host)); });
  EXPECT_TRUE(contains(get("host.get_resident_VMs", host), target));
  h.store().write([&](Txn& t) { t.set(vmc, target, "resident_on", Value(std::string(dm::kNullRef))); });
  EXPECT_FALSE(contains(get("host.get_resident_VMs", host), target));
}

TEST_F(Relations, DestroyingTheSetSideClearsTheRefSide) {
  const dm::Class& net = h.store().cls("network");
  std::string n = h.ok("network.create", {map_of({{"name_label", Value("n")}, {"other_config", Value::empty_map()}})}).str();
  std::string vif = h.ok("VIF.create", {map_of({{"device", Value("0")},
                                                {"network", Value(n)},
                                                {"VM", Value(vm())},
                                                {"MAC", Value("")},
                                                {"MTU", Value(int64_t{1500})},
                                                {"other_config", Value::empty_map()},
                                                {"qos_algorithm_type", Value("")},
                                                {"qos_algorithm_params", Value::empty_map()}})})
                        .str();
  EXPECT_TRUE(contains(get("network.get_VIFs", n), vif));
  h.store().write([&](Txn& t) { t.destroy(net, n); });
  EXPECT_EQ(get("VIF.get_network", vif).str(), dm::kNullRef);
}

// ---------------------------------------------------------------- create

class CreateTest : public ::testing::TestWithParam<std::string> {
 protected:
  Harness& h = shared();
};

// A record with every constructor field set to something valid.
Value full_record(Harness& h, const dm::Class& c) {
  Map m;
  for (const auto& f : c.fields) {
    if (!f.in_constructor()) continue;
    Value v = sample(h, f.type, f.name);
    if (f.type.is(K::Ref)) v = Value(some_object(h, f.type.name));
    m.emplace_back(Value(f.name), std::move(v));
  }
  return Value(std::move(m));
}

TEST_P(CreateTest, RejectsEachMissingRequiredField) {
  const dm::Class& c = *h.model().cls(GetParam());
  size_t required = 0;
  for (const auto& f : c.fields) {
    if (!f.required_in_constructor()) continue;
    ++required;
    Value rec = full_record(h, c);
    auto& m = rec.map();
    m.erase(std::remove_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first.str() == f.name; }), m.end());
    auto e = h.fail(GetParam() + ".create", {rec});
    ASSERT_GE(e.size(), 2u);
    EXPECT_EQ(e[0], "INVALID_VALUE");
    EXPECT_EQ(e[1], f.name);
  }
  EXPECT_GT(required, 0u);
}

INSTANTIATE_TEST_SUITE_P(EveryConstructor, CreateTest, ::testing::Values("VM", "VBD", "VIF", "VDI", "PBD", "network", "console", "secret"),
                         [](const auto& i) { return i.param; });

TEST(Create, RequiredFieldsMatchTheClientCompatibilityLists) {
  auto m = dm::Datamodel::standard();
  auto required = [&](const char* cls) {
    std::set<std::string> out;
    for (const auto& f : m->cls(cls)->fields)
      if (f.required_in_constructor()) out.insert(f.name);
    return out;
  };
  EXPECT_EQ(required("VM"),
            (std::set<std::string>{"user_version", "is_a_template", "affinity", "memory_static_max",
                                   "memory_dynamic_max", "memory_dynamic_min", "memory_static_min", "VCPUs_params",
                                   "VCPUs_max", "VCPUs_at_startup", "actions_after_shutdown", "actions_after_reboot",
                                   "actions_after_crash", "PV_bootloader", "PV_kernel", "PV_ramdisk", "PV_args",
                                   "PV_bootloader_args", "PV_legacy_args", "HVM_boot_policy", "HVM_boot_params",
                                   "platform", "PCI_bus", "other_config", "recommendations"}));
  EXPECT_EQ(required("VBD"), (std::set<std::string>{"VM", "VDI", "userdevice", "bootable", "mode", "type", "empty",
                                                    "other_config", "qos_algorithm_type", "qos_algorithm_params"}));
  EXPECT_EQ(required("VIF"), (std::set<std::string>{"device", "network", "VM", "MAC", "MTU", "other_config",
                                                    "qos_algorithm_type", "qos_algorithm_params"}));
}

TEST(Create, UnknownKeysAreIgnoredAndDefaultsApplied) {
  Harness h;
  std::string n = h.ok("network.create", {map_of({{"other_config", Value::empty_map()},
                                                  {"no_such_field", Value("ignored")}})})
                      .str();
  EXPECT_EQ(h.ok("network.get_MTU", {Value(n)}), Value(int64_t{1500}));
  EXPECT_EQ(h.ok("network.get_managed", {Value(n)}), Value(true));
}

}  // namespace
}  // namespace xenapi::testing
