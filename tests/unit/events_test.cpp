// Unit tests of events through the in-process harness: event.from (classes, tokens, coalescing, counts, timeouts, deferral), event.inject, the legacy register/next API, trimming and EVENTS_LOST, logout wake-up, bounds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "value_printer.h"
#include "xenapi-server/jsonrpc.h"
#include "xenapi-server/xmlrpc.h"

namespace xenapi::testing {
namespace {

using Strings = std::vector<std::string>;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Value strings(const Strings& s) {
  Array a;
  for (const auto& x : s) a.emplace_back(x);
  return Value(std::move(a));
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One event of a batch, flattened for comparisons (owns a copy of the event).
struct Ev {
  std::string cls, op, ref;
  std::shared_ptr<const Value> raw;
  const Value* snapshot = nullptr;  // inside *raw; null if absent
};

std::vector<Ev> events_of(const Value& batch_or_list) {
  const Value& list = batch_or_list.is_map() ? *batch_or_list.find("events") : batch_or_list;
  std::vector<Ev> out;
  for (const auto& e : list.arr()) {
    Ev x;
    x.raw = std::make_shared<const Value>(e);
    x.cls = x.raw->find("class")->str();
    x.op = x.raw->find("operation")->str();
    x.ref = x.raw->find("ref")->str();
    x.snapshot = x.raw->find("snapshot");
    out.push_back(x);
  }
  return out;
}

std::vector<Ev> of_class(const std::vector<Ev>& evs, const std::string& cls) {
  std::vector<Ev> out;
  for (const auto& e : evs)
    if (e.cls == cls) out.push_back(e);
  return out;
}

std::string token_of(const Value& batch) { return batch.find("token")->str(); }

// Tasks made and dropped the way the server does it (a store write).
std::string make_task(Harness& h, const std::string& label) {
  const dm::Class& tc = h.store().cls("task");
  return h.store().write([&](Txn& t) {
    std::vector<Value> v = h.store().defaults(tc);
    v[tc.field("name_label")->index] = Value(label);
    v[tc.field("status")->index] = Value("pending");
    return t.create(tc, std::move(v));
  });
}
void drop_task(Harness& h, const std::string& ref) {
  h.store().write([&](Txn& t) { t.destroy(h.store().cls("task"), ref); });
}
size_t count_of(Harness& h, const char* cls) {
  return h.store().read([&](const View& v) { return v.count(h.store().cls(cls)); });
}

class EventsTest : public ::testing::Test {
 protected:
  Harness h;

  Value from(const Strings& classes, const std::string& token, double timeout = 0.0, Harness* on = nullptr) {
    return (on ? *on : h).ok("event.from", {strings(classes), Value(token), Value(timeout)});
  }
  // A token for "now": an empty-class event.from answers at once.
  std::string now_token(Harness* on = nullptr) { return token_of(from({"nosuchclass"}, "", 0.0, on)); }

  std::string template_vm(Harness* on = nullptr) {
    Value all = (on ? *on : h).ok("VM.get_all_records");
    for (const auto& [ref, rec] : all.map())
      if (rec.find("is_a_template")->boolean()) return ref.str();
    ADD_FAILURE() << "no template VM";
    return "";
  }
  Value vm_record(const std::string& name, Harness* on = nullptr) {
    Value rec = (on ? *on : h).ok("VM.get_record", {Value(template_vm(on))});
    rec.set_member("name_label", Value(name));
    rec.set_member("is_a_template", Value(false));
    return rec;
  }
  std::string new_vm(const std::string& name = "vm", Harness* on = nullptr) {
    return (on ? *on : h).ok("VM.create", {vm_record(name, on)}).str();
  }
  std::string pool(Harness* on = nullptr) { return (on ? *on : h).ok("pool.get_all").arr().at(0).str(); }
  std::string network() { return h.ok("network.get_all").arr().at(0).str(); }

  // Starts a call through the dispatcher with a callback (deferrable).
  std::future<Response> start(const std::string& session, const std::string& method, std::vector<Value> params,
                              Harness* on = nullptr) {
    auto p = std::make_shared<std::promise<Response>>();
    auto f = p->get_future();
    Request r;
    r.method = method;
    params.insert(params.begin(), Value(session));
    r.params = std::move(params);
    (on ? *on : h).dispatcher().dispatch(std::move(r), [p](Response resp) { p->set_value(std::move(resp)); });
    return f;
  }
  std::future<Response> start_from(const std::string& session, const Strings& classes, const std::string& token,
                                   double timeout, Harness* on = nullptr) {
    return start(session, "event.from", {strings(classes), Value(token), Value(timeout)}, on);
  }
  std::string login() { return h.sessions().open(User{"root", dm::Role::PoolAdmin, true}, "events-test"); }
};

bool ready(std::future<Response>& f, std::chrono::milliseconds wait = 0ms) {
  return f.wait_for(wait) == std::future_status::ready;
}

Strings error_of(const Response& r) {
  EXPECT_EQ(r.kind, Response::Kind::Failure);
  return r.error;
}

// ---------------------------------------------------------------- token "" and classes

TEST_F(EventsTest, EmptyTokenReturnsEveryMatchingObjectOnceAsAdd) {
  Value vms = h.ok("VM.get_all");
  Value b = from({"vm"}, "");
  auto evs = events_of(b);
  ASSERT_EQ(evs.size(), vms.arr().size());
  std::set<std::string> refs;
  for (const auto& e : evs) {
    EXPECT_EQ(e.cls, "vm");
    EXPECT_EQ(e.op, "add");
    ASSERT_NE(e.snapshot, nullptr);
    EXPECT_EQ(*e.snapshot, h.ok("VM.get_record", {Value(e.ref)}));
    refs.insert(e.ref);
  }
  EXPECT_EQ(refs.size(), evs.size());
  for (const auto& r : vms.arr()) EXPECT_TRUE(refs.count(r.str())) << r.str();
}

TEST_F(EventsTest, ClassesInAnyCaseStarAndClassSlashRef) {
  const size_t n_vms = h.ok("VM.get_all").arr().size();
  EXPECT_EQ(events_of(from({"VM"}, "")).size(), n_vms);
  EXPECT_EQ(events_of(from({"Vm", "vM"}, "")).size(), n_vms);

  auto star = events_of(from({"*"}, ""));
  std::set<std::string> classes;
  for (const auto& e : star) classes.insert(e.cls);
  for (const char* c : {"vm", "host", "pool", "sr", "network", "pif", "pbd", "host_metrics", "host_cpu"})
    EXPECT_TRUE(classes.count(c)) << c;
  for (const char* c : {"session", "user", "event"}) EXPECT_FALSE(classes.count(c)) << c;
  for (const auto& c : classes) EXPECT_EQ(c, h.model().cls_nocase(c)->lower_name);

  std::string vm = template_vm();
  auto one = events_of(from({"VM/" + vm}, ""));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].ref, vm);
  EXPECT_EQ(one[0].op, "add");

  // Mixed: the class and one object of another class.
  std::string p = pool();
  auto mixed = events_of(from({"host", "pool/" + p}, ""));
  EXPECT_EQ(of_class(mixed, "pool").size(), 1u);
  EXPECT_EQ(of_class(mixed, "host").size(), h.ok("host.get_all").arr().size());

  // Unknown classes and classes without events match nothing.
  EXPECT_TRUE(events_of(from({"nosuchclass", "session", "user", "event"}, "")).empty());
}

TEST_F(EventsTest, FilteringByClassAndByRef) {
  std::string a = new_vm("a"), b = new_vm("b");
  std::string tok = now_token();
  h.ok("VM.set_name_label", {Value(a), Value("a2")});
  h.ok("VM.set_name_label", {Value(b), Value("b2")});
  h.ok("pool.set_name_label", {Value(pool()), Value("p2")});

  auto only_a = events_of(from({"vm/" + a}, tok));
  ASSERT_EQ(only_a.size(), 1u);
  EXPECT_EQ(only_a[0].ref, a);

  auto vms = events_of(from({"vm"}, tok));
  ASSERT_EQ(vms.size(), 2u);
  EXPECT_EQ(vms[0].ref, a);  // in the order of their changes
  EXPECT_EQ(vms[1].ref, b);

  auto pools = events_of(from({"POOL"}, tok));
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].cls, "pool");

  EXPECT_EQ(events_of(from({"*"}, tok)).size(), 3u);
  EXPECT_TRUE(events_of(from({"host", "vm/OpaqueRef:nothing"}, tok)).empty());
}

TEST_F(EventsTest, SubscriptionParseFailure) {
  for (const char* bad : {"vm/", "/OpaqueRef:x", "", "vm/a/b"})
    EXPECT_EQ(h.fail("event.from", {strings({"vm", bad}), Value(""), Value(0.0)}),
              (Strings{"EVENT_SUBSCRIPTION_PARSE_FAILURE", bad}));
  EXPECT_EQ(h.fail("event.register", {strings({"vm/"})}), (Strings{"EVENT_SUBSCRIPTION_PARSE_FAILURE", "vm/"}));
}

// ---------------------------------------------------------------- every write is an event

TEST_F(EventsTest, CreateModifyDestroyGiveAddModDel) {
  std::string t0 = now_token();
  std::string vm = new_vm("fresh");
  Value b1 = from({"vm"}, t0);
  auto add = events_of(b1);
  ASSERT_EQ(add.size(), 1u);
  EXPECT_EQ(add[0].op, "add");
  EXPECT_EQ(add[0].ref, vm);
  EXPECT_EQ(*add[0].snapshot->find("name_label"), Value("fresh"));

  h.ok("VM.set_name_description", {Value(vm), Value("changed")});
  Value b2 = from({"vm"}, token_of(b1));
  auto mod = events_of(b2);
  ASSERT_EQ(mod.size(), 1u);
  EXPECT_EQ(mod[0].op, "mod");
  EXPECT_EQ(*mod[0].snapshot->find("name_description"), Value("changed"));

  h.ok("VM.destroy", {Value(vm)});
  Value b3 = from({"vm"}, token_of(b2));
  auto del = events_of(b3);
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0].op, "del");
  EXPECT_EQ(del[0].ref, vm);
  EXPECT_EQ(del[0].snapshot, nullptr);  // absent, not empty
  EXPECT_EQ(del[0].raw->map().size(), 5u);
}

TEST_F(EventsTest, RelationsOtherEndsAreEvents) {
  std::string vm = new_vm("with-vif");
  std::string net = network();
  std::string tok = now_token();
  Value rec = map_of({{"device", Value("0")},
                      {"network", Value(net)},
                      {"VM", Value(vm)},
                      {"MAC", Value("")},
                      {"MTU", Value("1500")},
                      {"other_config", Value::empty_map()},
                      {"qos_algorithm_type", Value("")},
                      {"qos_algorithm_params", Value::empty_map()}});
  std::string vif = h.ok("VIF.create", {rec}).str();
  auto evs = events_of(from({"vm", "network", "vif"}, tok));
  ASSERT_EQ(of_class(evs, "vif").size(), 1u);
  EXPECT_EQ(of_class(evs, "vif")[0].op, "add");
  auto vms = of_class(evs, "vm");
  ASSERT_EQ(vms.size(), 1u);
  EXPECT_EQ(vms[0].op, "mod");
  EXPECT_EQ(*vms[0].snapshot->find("VIFs"), Value::array({Value(vif)}));
  auto nets = of_class(evs, "network");
  ASSERT_EQ(nets.size(), 1u);
  EXPECT_EQ(nets[0].op, "mod");
  const Array& net_vifs = nets[0].snapshot->find("VIFs")->arr();
  EXPECT_NE(std::find(net_vifs.begin(), net_vifs.end(), Value(vif)), net_vifs.end());
}

TEST_F(EventsTest, ServerMadeChangesAreEvents) {
  // An Async call: the server creates a task and completes it.
  std::string tok = now_token();
  std::string task = h.ok("Async.VM.create", {vm_record("made-async")}).str();
  std::string status;
  std::string t = tok;
  auto deadline = Clock::now() + 10s;
  bool saw_add = false;
  while (status != "success" && Clock::now() < deadline) {
    Value b = from({"task"}, t, 5.0);
    t = token_of(b);
    for (const auto& e : events_of(b)) {
      if (e.ref != task) continue;
      saw_add = saw_add || e.op == "add";
      status = e.snapshot->find("status")->str();
    }
  }
  EXPECT_TRUE(saw_add);
  EXPECT_EQ(status, "success");
  // The VM it made is an add too.
  auto vms = events_of(from({"vm"}, tok));
  ASSERT_EQ(vms.size(), 1u);
  EXPECT_EQ(vms[0].op, "add");
}

TEST_F(EventsTest, SessionsAndUsersMakeNoEvents) {
  std::string tok = now_token();
  std::string s2 = login();
  h.raw("session.logout", {Value(s2)});
  Value b = from({"*"}, tok);
  EXPECT_TRUE(events_of(b).empty());
  EXPECT_EQ(token_of(b), tok);  // nothing that generates events happened
}

// ---------------------------------------------------------------- coalescing

TEST_F(EventsTest, SeveralModsCoalesceIntoOneWithTheCurrentSnapshot) {
  std::string vm = new_vm("c");
  std::string tok = now_token();
  for (int i = 1; i <= 5; ++i) h.ok("VM.set_name_label", {Value(vm), Value("c" + std::to_string(i))});
  h.ok("VM.add_to_other_config", {Value(vm), Value("k"), Value("v")});
  auto evs = events_of(from({"vm"}, tok));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].op, "mod");
  EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("c5"));
  EXPECT_EQ(*evs[0].snapshot->find("other_config")->find("k"), Value("v"));
}

TEST_F(EventsTest, CreatedThenModifiedIsOneAdd) {
  std::string tok = now_token();
  std::string vm = new_vm("c");
  h.ok("VM.set_name_label", {Value(vm), Value("later")});
  auto evs = events_of(from({"vm"}, tok));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].op, "add");
  EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("later"));
}

TEST_F(EventsTest, CreatedAndDestroyedInsideTheWindowIsOmitted) {
  std::string tok = now_token();
  std::string vm = new_vm("ephemeral");
  h.ok("VM.set_name_label", {Value(vm), Value("still ephemeral")});
  h.ok("VM.destroy", {Value(vm)});
  drop_task(h, make_task(h, "t"));
  Value b = from({"vm", "task"}, tok);
  EXPECT_TRUE(events_of(b).empty());
  EXPECT_GT(token_of(b), tok);

  // A call parked after such a window waits for its timeout (one parked
  // before the create may see the add, then the del: both are true).
  std::string t2 = token_of(b);
  std::string vm2 = new_vm("ephemeral-2");
  h.ok("VM.destroy", {Value(vm2)});
  auto f = start_from(h.session(), {"vm"}, t2, 0.3);
  EXPECT_FALSE(ready(f, 100ms));
  ASSERT_TRUE(ready(f, 3000ms));
  Response r = f.get();
  ASSERT_EQ(r.kind, Response::Kind::Success);
  EXPECT_TRUE(events_of(r.result.to_value()).empty());
}

TEST_F(EventsTest, SeenThenModifiedAndDestroyedIsOneDel) {
  std::string vm = new_vm("doomed");
  std::string tok = now_token();
  h.ok("VM.set_name_label", {Value(vm), Value("x")});
  h.ok("VM.destroy", {Value(vm)});
  auto evs = events_of(from({"vm"}, tok));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].op, "del");
  EXPECT_EQ(evs[0].snapshot, nullptr);
}

// ---------------------------------------------------------------- tokens

TEST_F(EventsTest, TokensAreOrderedAndWellFormed) {
  std::regex shape("^[0-9]{20},[0-9]{20}$");
  std::string t1 = now_token();
  EXPECT_TRUE(std::regex_match(t1, shape)) << t1;
  std::string t2 = now_token();
  EXPECT_EQ(t1, t2);  // nothing happened
  h.ok("pool.set_name_description", {Value(pool()), Value("tick")});
  std::string t3 = now_token();
  EXPECT_TRUE(std::regex_match(t3, shape)) << t3;
  EXPECT_GT(t3, t2);
  // The batch's token continues where the events end: no change is seen twice.
  Value b = from({"pool"}, t2);
  EXPECT_EQ(events_of(b).size(), 1u);
  EXPECT_EQ(token_of(b), t3);
  EXPECT_TRUE(events_of(from({"pool"}, t3)).empty());
  // Event ids are the generations of the changes, as strings.
  const Value& id = *events_of(b)[0].raw->find("id");
  ASSERT_TRUE(id.is_string());
  EXPECT_EQ(std::stoull(id.str()), std::stoull(t3.substr(0, 20)));
  EXPECT_EQ(*events_of(b)[0].raw->find("timestamp"), Value("0.0"));
}

TEST_F(EventsTest, UnparsableTokensFail) {
  for (const char* bad : {"garbage", "12x,00000000000000000000", "1,2,3", "-5", ",", "1,", "99999999999999999999,0",
                          " 1", "0x10"}) {
    EXPECT_EQ(h.fail("event.from", {strings({"vm"}), Value(bad), Value(0.0)}),
              (Strings{"EVENT_FROM_TOKEN_PARSE_FAILURE", bad}))
        << bad;
  }
  // A token of another server run is stale.
  std::string tok = now_token();
  uint64_t epoch = std::stoull(tok.substr(21));
  char other[48];
  std::snprintf(other, sizeof other, "%s,%020llu", tok.substr(0, 20).c_str(),
                static_cast<unsigned long long>(epoch + 1));
  EXPECT_EQ(h.fail("event.from", {strings({"vm"}), Value(other), Value(0.0)}), (Strings{"EVENTS_LOST"}));
  // The generation alone is accepted.
  EXPECT_TRUE(events_of(from({"vm"}, tok.substr(0, 20))).empty());
}

// ---------------------------------------------------------------- valid_ref_counts

TEST_F(EventsTest, ValidRefCountsCoverEveryClassIncludingTask) {
  std::string task = make_task(h, "counted");
  Value b = from({"vm"}, now_token());
  const Value& counts = *b.find("valid_ref_counts");
  std::set<std::string> keys;
  for (const auto& [k, n] : counts.map()) {
    keys.insert(k.str());
    EXPECT_TRUE(n.is_int()) << k.str();
    for (char c : k.str()) EXPECT_FALSE(std::isupper(static_cast<unsigned char>(c))) << k.str();
  }
  for (const auto& c : h.model().classes()) {
    if (!c->db_class || c->life.is_removed()) continue;
    ASSERT_TRUE(keys.count(c->lower_name)) << c->lower_name;
    int64_t n = counts.find(c->lower_name)->integer();
    EXPECT_EQ(n, static_cast<int64_t>(h.store().read([&](const View& v) { return v.count(*c); }))) << c->name;
  }
  EXPECT_FALSE(keys.count("event"));
  EXPECT_EQ(counts.find("task")->integer(), static_cast<int64_t>(count_of(h, "task")));
  EXPECT_EQ(counts.find("vm")->integer(), static_cast<int64_t>(h.ok("VM.get_all").arr().size()));
  EXPECT_GE(counts.find("session")->integer(), 1);
  drop_task(h, task);
  Value b2 = from({"vm"}, now_token());
  EXPECT_EQ(b2.find("valid_ref_counts")->find("task")->integer(), counts.find("task")->integer() - 1);
}

TEST_F(EventsTest, WireShapesOfABatch) {
  std::string tok = now_token();
  h.ok("pool.set_name_description", {Value(pool()), Value("wire")});
  Response r = h.call("event.from", {strings({"pool"}), Value(tok), Value(0.0)});
  ASSERT_EQ(r.kind, Response::Kind::Success);
  ASSERT_EQ(r.result.shape, Result::Shape::Events);

  std::string xml;
  xmlrpc::write_success(xml, r.result);
  EXPECT_NE(xml.find("<member><name>task</name><value><i4>"), std::string::npos) << xml.substr(0, 400);
  EXPECT_NE(xml.find("<member><name>vm</name><value><i4>"), std::string::npos);
  EXPECT_EQ(xml.find("<i8>"), std::string::npos);
  EXPECT_EQ(xml.find("<string>"), std::string::npos);
  EXPECT_NE(xml.find("<member><name>class</name><value>pool</value></member>"), std::string::npos);
  EXPECT_NE(xml.find("<member><name>operation</name><value>mod</value></member>"), std::string::npos);
  EXPECT_NE(xml.find("<member><name>timestamp</name><value>0.0</value></member>"), std::string::npos);
  EXPECT_EQ(xml.find("> <"), std::string::npos);

  jsonrpc::MethodCall call;
  call.method = "event.from";
  call.id = "7";
  call.v2 = true;
  std::string js;
  jsonrpc::write_success(js, call, r.result);
  auto j = nlohmann::json::parse(js);
  const auto& res = j.at("result");
  EXPECT_TRUE(res.at("token").is_string());
  EXPECT_TRUE(res.at("valid_ref_counts").at("task").is_number_integer());
  ASSERT_EQ(res.at("events").size(), 1u);
  const auto& e = res.at("events")[0];
  EXPECT_TRUE(e.at("id").is_string());
  EXPECT_EQ(e.at("timestamp"), "0.0");
  EXPECT_EQ(e.at("class"), "pool");
  EXPECT_EQ(e.at("operation"), "mod");
  EXPECT_EQ(e.at("snapshot").at("name_description"), "wire");
  EXPECT_FALSE(j.contains("error"));
}

// ---------------------------------------------------------------- waiting, deferral, timeouts

TEST_F(EventsTest, AWaitingCallIsDeferredAndAnsweredByAMatchingWrite) {
  std::string vm = new_vm("watched");
  std::string tok = now_token();
  auto f = start_from(h.session(), {"vm"}, tok, 30.0);
  EXPECT_FALSE(ready(f, 50ms));  // parked: no thread holds it
  EXPECT_EQ(h.events().hub.waiting(), 1u);
  // A write of another class does not answer it.
  h.ok("pool.set_name_description", {Value(pool()), Value("not a vm")});
  EXPECT_FALSE(ready(f, 100ms));
  auto t0 = Clock::now();
  h.ok("VM.set_name_label", {Value(vm), Value("woken")});
  ASSERT_TRUE(ready(f, 2000ms));
  EXPECT_LT(seconds_since(t0), 0.5);
  Response r = f.get();
  ASSERT_EQ(r.kind, Response::Kind::Success);
  auto evs = events_of(r.result.to_value());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("woken"));
  EXPECT_EQ(h.events().hub.waiting(), 0u);
}

TEST_F(EventsTest, ReadyAnswersAreImmediateEvenWhenDeferrable) {
  auto f = start_from(h.session(), {"vm"}, "", 30.0);
  ASSERT_TRUE(ready(f));  // answered inside dispatch
  EXPECT_FALSE(events_of(f.get().result.to_value()).empty());
  EXPECT_EQ(h.events().hub.waiting(), 0u);
}

TEST_F(EventsTest, TimeoutsReturnAnEmptyBatchAndAFreshToken) {
  std::string tok = now_token();
  auto t0 = Clock::now();
  Value b = from({"vm"}, tok, 0.25);
  double took = seconds_since(t0);
  EXPECT_GE(took, 0.24);
  EXPECT_LT(took, 2.0);
  EXPECT_TRUE(events_of(b).empty());
  EXPECT_EQ(token_of(b), tok);

  // The token moves on with unrelated writes.
  h.ok("pool.set_name_description", {Value(pool()), Value("elsewhere")});
  Value b2 = from({"vm"}, tok, 0.05);
  EXPECT_TRUE(events_of(b2).empty());
  EXPECT_GT(token_of(b2), tok);

  // Zero, negative and NaN timeouts answer at once.
  for (double t : {0.0, -1.0, std::nan("")}) {
    auto t1 = Clock::now();
    Value b3 = from({"vm"}, tok, t);
    EXPECT_LT(seconds_since(t1), 0.2) << t;
    EXPECT_TRUE(events_of(b3).empty());
  }
  // Deferred calls time out the same way.
  auto f = start_from(h.session(), {"vm"}, tok, 0.2);
  EXPECT_FALSE(ready(f, 50ms));
  ASSERT_TRUE(ready(f, 3000ms));
  EXPECT_TRUE(events_of(f.get().result.to_value()).empty());
}

TEST_F(EventsTest, SeveralConcurrentCallsPerSessionAllWake) {
  std::string vm = new_vm("shared");
  std::string tok = now_token();
  std::vector<std::string> sessions{h.session(), login(), login()};
  std::vector<std::future<Response>> fs;
  for (const auto& s : sessions)
    for (int i = 0; i < 5; ++i) fs.push_back(start_from(s, {"vm"}, tok, 30.0));
  // Some watch something else and stay parked.
  auto other = start_from(h.session(), {"host"}, tok, 30.0);
  EXPECT_EQ(h.events().hub.waiting(), fs.size() + 1);
  EXPECT_EQ(h.events().hub.waiting(sessions[1]), 5u);
  auto t0 = Clock::now();
  h.ok("VM.set_name_label", {Value(vm), Value("everyone")});
  for (auto& f : fs) {
    ASSERT_TRUE(ready(f, 2000ms));
    auto evs = events_of(f.get().result.to_value());
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("everyone"));
  }
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_FALSE(ready(other, 50ms));
  EXPECT_EQ(h.events().hub.waiting(), 1u);
  h.raw("session.logout", {Value(sessions[1])});
  h.raw("session.logout", {Value(sessions[2])});
}

TEST_F(EventsTest, HundredsOfWaitersWakeWithinMilliseconds) {
  std::string vm = new_vm("popular");
  std::string tok = now_token();
  std::vector<std::string> sessions;
  for (int i = 0; i < 50; ++i) sessions.push_back(login());
  std::vector<std::future<Response>> fs;
  std::vector<Clock::time_point> woken(200);
  std::vector<std::shared_ptr<std::promise<Response>>> ps;
  for (int i = 0; i < 200; ++i) {
    auto p = std::make_shared<std::promise<Response>>();
    fs.push_back(p->get_future());
    Request r;
    r.method = "event.from";
    r.params = {Value(sessions[i % sessions.size()]), strings({"vm"}), Value(tok), Value(30.0)};
    h.dispatcher().dispatch(std::move(r), [p, &woken, i](Response resp) {
      woken[i] = Clock::now();
      p->set_value(std::move(resp));
    });
  }
  EXPECT_EQ(h.events().hub.waiting(), 200u);
  auto t0 = Clock::now();
  h.ok("VM.set_name_label", {Value(vm), Value("all 200")});
  for (auto& f : fs) ASSERT_TRUE(ready(f, 5000ms));
  std::vector<double> ms;
  for (auto& w : woken) ms.push_back(std::chrono::duration<double, std::milli>(w - t0).count());
  std::sort(ms.begin(), ms.end());
  std::cout << "200 waiters woken: p50 " << ms[100] << " ms, max " << ms.back() << " ms\n";
  EXPECT_LT(ms.back(), 500.0);  // generous: CI machines are slow and shared
  for (auto& f : fs) EXPECT_EQ(events_of(f.get().result.to_value()).size(), 1u);
  for (const auto& s : sessions) h.raw("session.logout", {Value(s)});
}

TEST_F(EventsTest, LogoutWakesWaitingCallsWithSessionInvalid) {
  std::string s2 = login();
  std::string tok = now_token();
  std::vector<std::future<Response>> fs;
  for (int i = 0; i < 3; ++i) fs.push_back(start_from(s2, {"*"}, tok, 60.0));
  h.ok("event.register", {strings({"vm"})});  // root's own registration is unaffected
  ASSERT_EQ(Harness::value(h.raw("event.register", {Value(s2), strings({"vm"})})), Value(""));
  auto next = start(s2, "event.next", {});
  auto mine = start_from(h.session(), {"*"}, tok, 60.0);
  EXPECT_EQ(h.events().hub.waiting(s2), 4u);
  auto t0 = Clock::now();
  ASSERT_EQ(h.raw("session.logout", {Value(s2)}).kind, Response::Kind::Success);
  for (auto* f : {&fs[0], &fs[1], &fs[2], &next}) {
    ASSERT_TRUE(ready(*f, 1000ms));
    EXPECT_EQ(error_of(f->get()), (Strings{"SESSION_INVALID", s2}));
  }
  EXPECT_LT(seconds_since(t0), 0.5);
  EXPECT_FALSE(ready(mine, 50ms));
  EXPECT_EQ(h.events().hub.waiting(s2), 0u);
  // Calls on the dead session are refused, by the dispatcher or by the hub.
  EXPECT_EQ(error_of(h.raw("event.from", {Value(s2), strings({"*"}), Value(tok), Value(1.0)})),
            (Strings{"SESSION_INVALID", s2}));
  std::promise<std::string> refused;
  h.events().hub.wait(s2, Subscription{}, 0, EventHub::Clock::now() + 10s,
                      Deferral{[&](Result) { refused.set_value("ok"); },
                               [&](const ApiError& e) { refused.set_value(e.code()); }});
  EXPECT_EQ(refused.get_future().get(), "SESSION_INVALID");
  h.events().hub.session_closed(h.session());  // let `mine` go
  ASSERT_TRUE(ready(mine, 1000ms));
}

TEST_F(EventsTest, TooManyWaitersOnOneSessionAnswerTheOldestEarly) {
  Harness small(true, EventLog::kDefaultMaxEntries, EventHubOptions{2, 30000ms});
  std::string tok = now_token(&small);
  auto f1 = start_from(small.session(), {"vm"}, tok, 30.0, &small);
  auto f2 = start_from(small.session(), {"vm"}, tok, 30.0, &small);
  EXPECT_FALSE(ready(f1, 50ms));
  auto f3 = start_from(small.session(), {"vm"}, tok, 30.0, &small);
  ASSERT_TRUE(ready(f1, 1000ms));  // as if it had timed out
  Response r = f1.get();
  ASSERT_EQ(r.kind, Response::Kind::Success);
  EXPECT_TRUE(events_of(r.result.to_value()).empty());
  EXPECT_FALSE(ready(f2, 50ms));
  EXPECT_EQ(small.events().hub.waiting(small.session()), 2u);
  small.events().hub.session_closed(small.session());
  EXPECT_TRUE(ready(f2, 1000ms));
  EXPECT_TRUE(ready(f3, 1000ms));
}

// ---------------------------------------------------------------- inject

TEST_F(EventsTest, InjectMakesTheNextFromReturnAtOnce) {
  std::string p = pool();
  std::string tok = h.ok("event.inject", {Value("pool"), Value(p)}).str();
  EXPECT_TRUE(std::regex_match(tok, std::regex("^[0-9]{20},[0-9]{20}$")));
  auto t0 = Clock::now();
  Value b = from({"*"}, tok, 30.0);
  EXPECT_LT(seconds_since(t0), 1.0);
  auto evs = events_of(b);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].cls, "pool");
  EXPECT_EQ(evs[0].op, "mod");
  EXPECT_EQ(evs[0].ref, p);
  EXPECT_GT(token_of(b), tok);

  // Any case for the class; unknown objects and classes are HANDLE_INVALID.
  EXPECT_TRUE(h.ok("event.inject", {Value("Pool"), Value(p)}).is_string());
  EXPECT_EQ(h.fail("event.inject", {Value("VM"), Value("OpaqueRef:nope")}),
            (Strings{"HANDLE_INVALID", "VM", "OpaqueRef:nope"}));
  EXPECT_EQ(h.fail("event.inject", {Value("nosuchclass"), Value(p)})[0], "HANDLE_INVALID");
  EXPECT_EQ(h.fail("event.inject", {Value("session"), Value(h.session())})[0], "HANDLE_INVALID");
}

TEST_F(EventsTest, GetCurrentIdIsTheIdOfTheNextEvent) {
  int64_t id = h.ok("event.get_current_id").integer();
  std::string tok = now_token();
  h.ok("pool.set_name_description", {Value(pool()), Value("next id")});
  auto evs = events_of(from({"pool"}, tok));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].raw->find("id")->str(), std::to_string(id));
  EXPECT_EQ(h.ok("event.get_current_id").integer(), id + 1);
}

// ---------------------------------------------------------------- legacy register / next

TEST_F(EventsTest, NextWithoutRegistrationIsSessionNotRegistered) {
  EXPECT_EQ(h.fail("event.next"), (Strings{"SESSION_NOT_REGISTERED", h.session()}));
}

TEST_F(EventsTest, RegisterThenNextDeliversChangesAfterTheRegistration) {
  std::string vm = new_vm("legacy");
  h.ok("VM.set_name_label", {Value(vm), Value("before registering")});
  h.ok("event.register", {strings({"VM"})});
  // Blocks: nothing happened since the registration.
  auto f = start(h.session(), "event.next", {});
  EXPECT_FALSE(ready(f, 100ms));
  h.ok("pool.set_name_description", {Value(pool()), Value("not watched")});
  EXPECT_FALSE(ready(f, 100ms));
  h.ok("VM.set_name_label", {Value(vm), Value("after")});
  ASSERT_TRUE(ready(f, 2000ms));
  Response r = f.get();
  ASSERT_EQ(r.kind, Response::Kind::Success);
  Value list = r.result.to_value();
  ASSERT_TRUE(list.is_array());  // event.next returns the events alone
  auto evs = events_of(list);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].cls, "vm");
  EXPECT_EQ(evs[0].op, "mod");
  EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("after"));
  const std::string ts = evs[0].raw->find("timestamp")->str();
  EXPECT_TRUE(std::regex_match(ts, std::regex("^[0-9]+\\.[0-9]{6}$"))) << ts;
  EXPECT_NEAR(std::stod(ts), static_cast<double>(std::time(nullptr)), 60.0);

  // Queued changes are delivered at once, coalesced; then the next call blocks again.
  h.ok("VM.set_name_label", {Value(vm), Value("one")});
  h.ok("VM.set_name_label", {Value(vm), Value("two")});
  Value got = h.ok("event.next");
  ASSERT_EQ(events_of(got).size(), 1u);
  EXPECT_EQ(*events_of(got)[0].snapshot->find("name_label"), Value("two"));
  auto g = start(h.session(), "event.next", {});
  EXPECT_FALSE(ready(g, 100ms));

  // Registering more classes widens the subscription.
  h.ok("event.register", {strings({"pool"})});
  h.ok("pool.set_name_description", {Value(pool()), Value("now watched")});
  ASSERT_TRUE(ready(g, 2000ms));
  auto pools = events_of(g.get().result.to_value());
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].cls, "pool");

  // Unregistering everything forgets the registration.
  h.ok("event.unregister", {strings({"vm", "pool"})});
  EXPECT_EQ(h.fail("event.next"), (Strings{"SESSION_NOT_REGISTERED", h.session()}));
}

TEST_F(EventsTest, UnregisteringEverythingFailsAParkedNext) {
  h.ok("event.register", {strings({"vm"})});
  auto f = start(h.session(), "event.next", {});
  EXPECT_FALSE(ready(f, 50ms));
  h.ok("event.unregister", {strings({"*"})});
  ASSERT_TRUE(ready(f, 1000ms));
  EXPECT_EQ(error_of(f.get()), (Strings{"SESSION_NOT_REGISTERED", h.session()}));
}

TEST_F(EventsTest, NextHeartbeatAnswersParkedCalls) {
  Harness hb(true, EventLog::kDefaultMaxEntries, EventHubOptions{256, 200ms});
  std::string p = pool(&hb);
  hb.ok("event.register", {strings({"pool"})});
  auto t0 = Clock::now();
  Value got = hb.ok("event.next");
  EXPECT_GE(seconds_since(t0), 0.15);
  auto evs = events_of(got);
  ASSERT_EQ(evs.size(), 1u);  // xapi's heartbeat: the pool's record
  EXPECT_EQ(evs[0].cls, "pool");
  EXPECT_EQ(evs[0].op, "mod");
  EXPECT_EQ(evs[0].ref, p);

  // Not watching the pool: an empty list.
  hb.ok("event.unregister", {strings({"pool"})});
  hb.ok("event.register", {strings({"vm"})});
  EXPECT_TRUE(hb.ok("event.next").arr().empty());
}

// ---------------------------------------------------------------- trimming and EVENTS_LOST

TEST_F(EventsTest, TheLogIsTrimmedAndOldTokensGetEventsLost) {
  Harness small(true, 20);
  std::string vm = new_vm("kept", &small);
  std::string tok = now_token(&small);
  for (int i = 0; i < 30; ++i) make_task(small, "churn " + std::to_string(i));
  EXPECT_LE(small.events().log.size(), 20u);
  // Task changes after the token were trimmed: lost.
  EXPECT_EQ(small.fail("event.from", {strings({"task"}), Value(tok), Value(0.0)}), (Strings{"EVENTS_LOST"}));
  EXPECT_EQ(small.fail("event.from", {strings({"*"}), Value(tok), Value(0.0)}), (Strings{"EVENTS_LOST"}));
  // No VM change was trimmed: a VM watcher at the same token loses nothing.
  EXPECT_TRUE(events_of(from({"vm"}, tok, 0.0, &small)).empty());
  small.ok("VM.set_name_label", {Value(vm), Value("still seen")});
  auto evs = events_of(from({"vm"}, tok, 0.0, &small));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("still seen"));
  // Recovery: start again with "".
  Value again = from({"task"}, "", 0.0, &small);
  EXPECT_EQ(events_of(again).size(), count_of(small, "task"));
}

TEST_F(EventsTest, AQuietWaiterDoesNotFallBehindTheTrimmedLog) {
  Harness small(true, 20);
  std::string vm = new_vm("quiet", &small);
  std::string tok = now_token(&small);
  auto f = start_from(small.session(), {"vm"}, tok, 30.0, &small);
  for (int i = 0; i < 50; ++i) {
    make_task(small, "churn");
    // Let the hub see each commit (a burst larger than the log could trim
    // entries before it looks, which would be EVENTS_LOST).
    if (i % 5 == 0) std::this_thread::sleep_for(2ms);
  }
  EXPECT_FALSE(ready(f, 50ms));
  small.ok("VM.set_name_label", {Value(vm), Value("finally")});
  ASSERT_TRUE(ready(f, 2000ms));
  Response r = f.get();
  ASSERT_EQ(r.kind, Response::Kind::Success) << ::testing::PrintToString(r.error);
  auto evs = events_of(r.result.to_value());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].ref, vm);
}

TEST_F(EventsTest, LegacyNextGetsEventsLostThenRecovers) {
  Harness small(true, 10);
  std::string vm = new_vm("behind", &small);
  small.ok("event.register", {strings({"vm"})});
  for (int i = 0; i < 20; ++i) small.ok("VM.set_name_label", {Value(vm), Value("n" + std::to_string(i))});
  EXPECT_EQ(small.fail("event.next"), (Strings{"EVENTS_LOST"}));
  // The client re-reads everything; its registration continues from now.
  auto f = start(small.session(), "event.next", {}, &small);
  EXPECT_FALSE(ready(f, 100ms));
  small.ok("VM.set_name_label", {Value(vm), Value("after recovery")});
  ASSERT_TRUE(ready(f, 2000ms));
  auto evs = events_of(f.get().result.to_value());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(*evs[0].snapshot->find("name_label"), Value("after recovery"));
  // Xen Orchestra's recovery: unregister, register again, next.
  for (int i = 0; i < 20; ++i) small.ok("VM.set_name_label", {Value(vm), Value("m" + std::to_string(i))});
  small.ok("event.unregister", {strings({"vm"})});
  small.ok("event.register", {strings({"vm"})});
  auto g = start(small.session(), "event.next", {}, &small);
  EXPECT_FALSE(ready(g, 100ms));
  small.ok("VM.set_name_label", {Value(vm), Value("fresh")});
  ASSERT_TRUE(ready(g, 2000ms));
  EXPECT_EQ(g.get().kind, Response::Kind::Success);
}

TEST_F(EventsTest, RegistrationsDieWithTheirSession) {
  std::string s2 = login();
  ASSERT_EQ(h.raw("event.register", {Value(s2), strings({"*"})}).kind, Response::Kind::Success);
  EXPECT_EQ(h.events().hub.registrations(), 1u);
  h.raw("session.logout", {Value(s2)});
  EXPECT_EQ(h.events().hub.registrations(), 0u);
  EXPECT_THROW(h.events().hub.register_classes(s2, Subscription{}), ApiError);
}

// ---------------------------------------------------------------- the log on its own

TEST(EventLogTest, CollectCoalescesAndHonoursPerClassHorizons) {
  Store store(dm::Datamodel::standard(), counting_ids());
  EventLog log(store, 4);
  const dm::Class& task = store.cls("task");
  const dm::Class& vm = store.cls("VM");
  std::string v = store.write([&](Txn& t) { return t.create(vm, store.defaults(vm)); });
  uint64_t since = store.generation();
  std::string a = store.write([&](Txn& t) { return t.create(task, store.defaults(task)); });
  store.write([&](Txn& t) { t.set(task, a, "name_label", Value("x")); });
  store.write([&](Txn& t) { t.set(task, a, "name_label", Value("y")); });
  Subscription tasks = Subscription::parse(store.model(), {"task"});
  Subscription vms = Subscription::parse(store.model(), {"vm"});
  store.read([&](const View& view) {
    EventBatch b = log.collect(view, tasks, since);
    EXPECT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events.at(0).op, ChangeKind::Add);
    EXPECT_EQ(b.events.at(0).snapshot->at(task, "name_label"), Value("y"));
    EXPECT_TRUE(log.pending(tasks, since));
    EXPECT_FALSE(log.pending(vms, since));
    return 0;
  });
  for (int i = 0; i < 5; ++i) store.write([&](Txn& t) { t.set(task, a, "name_label", Value(std::to_string(i))); });
  EXPECT_EQ(log.size(), 4u);
  store.read([&](const View& view) {
    EXPECT_THROW(log.collect(view, tasks, since), ApiError);
    EXPECT_TRUE(log.pending(tasks, since));  // lost is something to tell
    EXPECT_NO_THROW(log.collect(view, vms, since));
    EXPECT_GT(log.horizon(tasks), since);
    EXPECT_LE(log.horizon(vms), since);
    return 0;
  });
  (void)v;
}

}  // namespace
}  // namespace xenapi::testing
