// Tasks and Async calls: results as XML-RPC fragments, failures equal to the sync errors, progress, the task.* messages, cancellation (queued and running), allowed/current operations, garbage collection and the bounded queue.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <future>
#include <mutex>

#include "classes/task/task.h"
#include "vm_fixtures.h"

namespace xenapi::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Tasks : public VmFixture {
 protected:
  // Waits until the task leaves pending (and cancelling); returns its record.
  Value wait_task(const std::string& task) {
    EXPECT_TRUE(eventually([&] {
      std::string s = str("task", task, "status");
      return s != "pending" && s != "cancelling";
    }, 20000ms))
        << "task " << task << " still " << str("task", task, "status");
    return record("task", task);
  }
  Strings sync_error(const std::string& method, std::vector<Value> args) { return h.fail(method, std::move(args)); }
  std::string path_of(const std::string& vdi) {
    return h.store().read([&](const View& v) {
      const dm::Class& c = h.store().cls("VDI");
      return v.must_get(c, vdi)->at(c, "path").str();
    });
  }
  // A VM with `n` disks each holding `mib` MiB of real data (slow to copy).
  std::string heavy_vm(int n, int mib) {
    std::string vm = new_vm("heavy");
    const std::string block(kMiB, 'd');
    for (int i = 0; i < n; ++i) {
      std::string vbd = add_disk(vm, std::to_string(i), mib * kMiB);
      std::ofstream f(path_of(str("VBD", vbd, "VDI")), std::ios::in | std::ios::out | std::ios::binary);
      for (int m = 0; m < mib; ++m) f.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    return vm;
  }
  void set_task(const std::string& task, const char* f, Value v) {
    h.store().write([&](Txn& t) { t.set(h.store().cls("task"), task, f, std::move(v)); });
  }
};

// ---------------------------------------------------------------- results

TEST_F(Tasks, AsyncRefResult) {
  const int64_t before = std::time(nullptr);
  std::string task = h.ok("Async.VM.clone", {Value(debian()), Value("async clone")}).str();
  EXPECT_EQ(task.rfind("OpaqueRef:", 0), 0u);
  Value rec = wait_task(task);
  EXPECT_EQ(rec.find("status")->str(), "success");
  std::string vm = vm_by_name("async clone");
  EXPECT_EQ(rec.find("result")->str(), "<value>" + vm + "</value>");
  EXPECT_EQ(rec.find("progress")->real(), 1.0);
  EXPECT_TRUE(rec.find("error_info")->arr().empty());
  EXPECT_GE(rec.find("created")->datetime().seconds, before - 1);
  EXPECT_GE(rec.find("finished")->datetime().seconds, rec.find("created")->datetime().seconds);
  EXPECT_EQ(rec.find("name_label")->str(), "Async.VM.clone");
  EXPECT_EQ(rec.find("resident_on")->str(), host());
  EXPECT_EQ(rec.find("type")->str(), "<none/>");
  EXPECT_EQ(set_of(*rec.find("allowed_operations")), StringSet{"destroy"});
  EXPECT_TRUE(set_of(field("session", h.session(), "tasks")).count(task));
  h.ok("task.destroy", {Value(task)});
  EXPECT_EQ(h.fail("task.get_record", {Value(task)}), (Strings{"HANDLE_INVALID", "task", task}));
}

TEST_F(Tasks, AsyncVoidResult) {
  std::string vm = new_vm();
  std::string task = h.ok("Async.VM.start", {Value(vm), Value(false), Value(false)}).str();
  Value rec = wait_task(task);
  EXPECT_EQ(rec.find("status")->str(), "success");
  EXPECT_EQ(rec.find("result")->str(), "<value></value>");
  EXPECT_EQ(power(vm), "Running");
  EXPECT_EQ(current_ops("VM", vm), 0u);
}

TEST_F(Tasks, AsyncFailureCarriesTheSyncError) {
  std::string vm = new_vm();
  start(vm);
  const Strings want = sync_error("VM.start", {Value(vm), Value(false), Value(false)});
  ASSERT_EQ(want, (Strings{"VM_BAD_POWER_STATE", vm, "halted", "running"}));
  std::string task = h.ok("Async.VM.start", {Value(vm), Value(false), Value(false)}).str();
  Value rec = wait_task(task);
  EXPECT_EQ(rec.find("status")->str(), "failure");
  EXPECT_EQ(strings_of(*rec.find("error_info")), want);
  EXPECT_EQ(rec.find("result")->str(), "");
  EXPECT_EQ(rec.find("progress")->real(), 1.0);
  EXPECT_GT(rec.find("finished")->datetime().seconds, 0);

  // A dangling reference fails inside the task, as the sync call does.
  const std::string ghost = "OpaqueRef:00000000-dead-4000-8000-000000000000";
  const Strings bad = sync_error("VM.pause", {Value(ghost)});
  EXPECT_EQ(bad, (Strings{"HANDLE_INVALID", "VM", ghost}));
  task = h.ok("Async.VM.pause", {Value(ghost)}).str();
  EXPECT_EQ(strings_of(*wait_task(task).find("error_info")), bad);

  // Memory exhaustion, with the sync call's numbers.
  std::string huge = new_vm("huge", 80 * kGiB);
  const Strings nomem = sync_error("VM.start", {Value(huge), Value(false), Value(false)});
  EXPECT_EQ(nomem[0], "HOST_NOT_ENOUGH_FREE_MEMORY");
  task = h.ok("Async.VM.start", {Value(huge), Value(false), Value(false)}).str();
  EXPECT_EQ(strings_of(*wait_task(task).find("error_info")), nomem);
}

TEST_F(Tasks, ArityAndSessionAreCheckedBeforeATaskExists) {
  const size_t tasks = count("task");
  std::string vm = new_vm();
  EXPECT_EQ(h.fail("Async.VM.start", {Value(vm)}), (Strings{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.start", "3", "1"}));
  Response r = h.raw("Async.VM.start", {Value("OpaqueRef:not-a-session"), Value(vm), Value(false), Value(false)});
  ASSERT_EQ(r.kind, Response::Kind::Failure);
  EXPECT_EQ(r.error, (Strings{"SESSION_INVALID", "OpaqueRef:not-a-session"}));
  // Sync-only messages have no Async form.
  EXPECT_EQ(h.fail("Async.VM.get_power_state", {Value(vm)}),
            (Strings{"Fault", "No async mode for this operation (rpc: VM.get_power_state)"}));
  EXPECT_EQ(h.fail("Async.task.create", {Value("a"), Value("b")}),
            (Strings{"Fault", "No async mode for this operation (rpc: task.create)"}));
  EXPECT_EQ(count("task"), tasks);
  // create and destroy are async-capable.
  std::string task = h.ok("Async.VM.destroy", {Value(vm)}).str();
  EXPECT_EQ(wait_task(task).find("status")->str(), "success");
  EXPECT_EQ(h.fail("VM.get_record", {Value(vm)})[0], "HANDLE_INVALID");
}

TEST_F(Tasks, ProgressRisesToOneAndEveryChangeIsAnEvent) {
  std::string vm = heavy_vm(6, 4);
  std::string token = now_token();
  std::string task = h.ok("Async.VM.clone", {Value(vm), Value("copy of heavy")}).str();
  std::vector<double> seen;
  std::string status = "pending";
  const std::string sub = "task/" + task;
  for (int i = 0; i < 1000 && status == "pending"; ++i) {
    Value batch = h.ok("event.from", {string_array({sub}), Value(token), Value(5.0)});
    token = batch.find("token")->str();
    for (const auto& e : batch.find("events")->arr()) {
      EXPECT_EQ(e.find("class")->str(), "task");
      EXPECT_EQ(e.find("ref")->str(), task);
      const Value* snap = e.find("snapshot");
      ASSERT_TRUE(snap);
      seen.push_back(snap->find("progress")->real());
      status = snap->find("status")->str();
    }
  }
  EXPECT_EQ(status, "success");
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "progress never goes back";
  EXPECT_EQ(seen.back(), 1.0);
  for (double p : seen) EXPECT_TRUE(p >= 0.0 && p <= 1.0) << p;
}

// ---------------------------------------------------------------- task.* messages

TEST_F(Tasks, ClientMadeTasks) {
  const int64_t before = std::time(nullptr);
  std::string task = h.ok("task.create", {Value("import"), Value("a client's own task")}).str();
  Value rec = record("task", task);
  EXPECT_EQ(rec.find("name_label")->str(), "import");
  EXPECT_EQ(rec.find("name_description")->str(), "a client's own task");
  EXPECT_EQ(rec.find("status")->str(), "pending");
  EXPECT_EQ(rec.find("progress")->real(), 0.0);
  EXPECT_EQ(rec.find("finished")->datetime().seconds, 0);
  EXPECT_GE(rec.find("created")->datetime().seconds, before - 1);
  EXPECT_EQ(rec.find("resident_on")->str(), host());
  EXPECT_EQ(set_of(*rec.find("allowed_operations")), StringSet{"destroy"});
  EXPECT_TRUE(set_of(field("session", h.session(), "tasks")).count(task));
  // Not cancellable.
  EXPECT_EQ(h.fail("task.cancel", {Value(task)}), (Strings{"OPERATION_NOT_ALLOWED", "task " + task + " cannot be cancelled"}));
  EXPECT_EQ(str("task", task, "status"), "pending");

  h.ok("task.set_progress", {Value(task), Value(0.5)});
  EXPECT_EQ(field("task", task, "progress").real(), 0.5);
  EXPECT_EQ(h.fail("task.set_progress", {Value(task), Value(1.5)}), (Strings{"INVALID_VALUE", "value", "1.5"}));
  EXPECT_EQ(h.fail("task.set_progress", {Value(task), Value(-0.1)})[0], "INVALID_VALUE");
  h.ok("task.set_result", {Value(task), Value("<value>done</value>")});
  EXPECT_EQ(str("task", task, "result"), "<value>done</value>");
  h.ok("task.set_error_info", {Value(task), string_array({"SR_BACKEND_FAILURE", "1", "", "disk on fire"})});
  EXPECT_EQ(strings_of(field("task", task, "error_info")), (Strings{"SR_BACKEND_FAILURE", "1", "", "disk on fire"}));
  h.ok("task.set_status", {Value(task), Value("failure")});
  EXPECT_EQ(str("task", task, "status"), "failure");
  EXPECT_GE(field("task", task, "finished").datetime().seconds, before - 1);
  EXPECT_EQ(h.fail("task.set_status", {Value(task), Value("exploded")}), (Strings{"INVALID_VALUE", "value", "exploded"}));
  h.ok("task.destroy", {Value(task)});
  EXPECT_EQ(h.fail("task.destroy", {Value(task)}), (Strings{"HANDLE_INVALID", "task", task}));
}

// ---------------------------------------------------------------- a dispatcher with one worker

// A second dispatcher over the same store with one worker and a queue of
// one; a failed login holds the worker for a while.
class OneWorker : public Tasks {
 protected:
  OneWorker()
      : auth2_(make_auth()),
        env2_{h.store(), h.backend(), ProductInfo{}, h.env().this_host, "127.0.0.1", nullptr, nullptr, &h.events()},
        sessions2_(env2_, *auth2_, SessionOptions{1500ms}),
        d_(std::make_unique<Dispatcher>(env2_, sessions2_, DispatcherOptions{1, 1})) {
    env2_.sessions = &sessions2_;
    session2_ = Harness::value(d_->call(login(kRootPassword))).str();
  }
  ~OneWorker() override { d_.reset(); }

  std::unique_ptr<Auth> make_auth() {
    std::string pw = dir_.path() + "/root-password";
    std::ofstream(pw) << kRootPassword << "\n";
    return std::make_unique<Auth>(AuthConfig{dir_.path(), pw, "", 1000});
  }
  static Request login(const std::string& password) {
    Request r;
    r.method = "session.login_with_password";
    r.params = {Value("root"), Value(password)};
    return r;
  }
  // Occupies the only worker for about 1.5 s.
  std::future<Response> occupy() {
    auto p = std::make_shared<std::promise<Response>>();
    auto f = p->get_future();
    d_->dispatch(login("wrong password"), [p](Response r) { p->set_value(std::move(r)); });
    std::this_thread::sleep_for(100ms);  // the worker has taken it
    return f;
  }
  Response async(const std::string& method, std::vector<Value> args) {
    Request r;
    r.method = "Async." + method;
    args.insert(args.begin(), Value(session2_));
    r.params = std::move(args);
    return d_->call(std::move(r));
  }

  TempDir dir_;
  std::unique_ptr<Auth> auth2_;
  Env env2_;
  Sessions sessions2_;
  std::unique_ptr<Dispatcher> d_;
  std::string session2_;
};

TEST_F(OneWorker, CancelBeforeAQueuedJobStarts) {
  std::string vm = new_vm("source");
  auto busy = occupy();
  Response r = async("VM.clone", {Value(vm), Value("never")});
  ASSERT_EQ(r.kind, Response::Kind::Success);
  std::string task = r.result.value.str();
  EXPECT_EQ(str("task", task, "status"), "pending");
  EXPECT_EQ(allowed("task", task), (StringSet{"cancel", "destroy"}));
  EXPECT_EQ(current_ops("VM", vm), 0u) << "not started yet";

  h.ok("task.cancel", {Value(task)});
  EXPECT_EQ(allowed("task", task), StringSet{"destroy"}) << "cancel only while pending";
  Value rec = wait_task(task);
  EXPECT_EQ(rec.find("status")->str(), "cancelled");
  EXPECT_EQ(strings_of(*rec.find("error_info")), (Strings{"TASK_CANCELLED", task}));
  EXPECT_EQ(set_of(*rec.find("allowed_operations")), StringSet{"destroy"});
  EXPECT_EQ(h.ok("VM.get_by_name_label", {Value("never")}).arr().size(), 0u);
  EXPECT_EQ(busy.get().error.at(0), "SESSION_AUTHENTICATION_FAILED");
}

TEST_F(OneWorker, NonCancellableQueuedTaskCannotBeCancelled) {
  std::string vm = new_vm("source");
  start(vm);
  auto busy = occupy();
  std::string task = async("VM.pause", {Value(vm)}).result.value.str();
  EXPECT_EQ(allowed("task", task), StringSet{"destroy"});
  EXPECT_EQ(h.fail("task.cancel", {Value(task)}), (Strings{"OPERATION_NOT_ALLOWED", "task " + task + " cannot be cancelled"}));
  EXPECT_EQ(wait_task(task).find("status")->str(), "success");
  EXPECT_EQ(power(vm), "Paused");
  busy.get();
}

TEST_F(OneWorker, FullQueueRefusesWithTooManyPendingTasks) {
  std::string vm = new_vm("source");
  auto busy = occupy();
  Response first = async("VM.clone", {Value(vm), Value("queued")});
  ASSERT_EQ(first.kind, Response::Kind::Success);
  const size_t tasks = count("task");
  Response second = async("VM.clone", {Value(vm), Value("refused")});
  ASSERT_EQ(second.kind, Response::Kind::Failure);
  EXPECT_EQ(second.error, Strings{"TOO_MANY_PENDING_TASKS"});
  EXPECT_EQ(count("task"), tasks) << "the refused call leaves no task";
  EXPECT_EQ(wait_task(first.result.value.str()).find("status")->str(), "success");
  EXPECT_EQ(h.ok("VM.get_by_name_label", {Value("refused")}).arr().size(), 0u);
  busy.get();
  // Room again.
  Response third = async("VM.clone", {Value(vm), Value("later")});
  ASSERT_EQ(third.kind, Response::Kind::Success);
  EXPECT_EQ(wait_task(third.result.value.str()).find("status")->str(), "success");
}

// ---------------------------------------------------------------- running operations

TEST_F(Tasks, CancelARunningCloneCleansUp) {
  std::string vm = heavy_vm(12, 8);
  const size_t vdis = count("VDI"), vms = count("VM");
  const auto files = std::distance(fs::directory_iterator(sr_dir()), {});
  std::string task = h.ok("Async.VM.clone", {Value(vm), Value("cancelled clone")}).str();
  // As soon as it has copied a disk, ask it to stop.
  ASSERT_TRUE(eventually([&] { return field("task", task, "progress").real() > 0.0 || str("task", task, "status") != "pending"; }, 20000ms));
  ASSERT_EQ(str("task", task, "status"), "pending") << "the clone finished before it could be cancelled";
  EXPECT_EQ(allowed("task", task), (StringSet{"cancel", "destroy"}));
  h.ok("task.cancel", {Value(task)});
  Value rec = wait_task(task);
  EXPECT_EQ(rec.find("status")->str(), "cancelled");
  EXPECT_EQ(strings_of(*rec.find("error_info")), (Strings{"TASK_CANCELLED", task}));
  EXPECT_EQ(count("VDI"), vdis) << "copied disks removed";
  EXPECT_EQ(count("VM"), vms);
  EXPECT_EQ(std::distance(fs::directory_iterator(sr_dir()), {}), files);
  EXPECT_EQ(current_ops("VM", vm), 0u);
}

TEST_F(Tasks, CurrentOperationsHoldTheTaskWhileAnAsyncOpRuns) {
  std::string vm = heavy_vm(8, 8);
  std::string task = h.ok("Async.VM.clone", {Value(vm), Value("watched clone")}).str();
  bool seen = false;
  ASSERT_TRUE(eventually([&] {
    Value cur = field("VM", vm, "current_operations");
    if (const Value* op = cur.find(task)) {
      EXPECT_EQ(op->str(), "clone");
      EXPECT_EQ(cur.map().size(), 1u);
      if (!seen) {
        // Reads proceed, and allowed_operations reflects the clone.
        EXPECT_EQ(allowed("VM", vm), (StringSet{"clone", "copy"}));
        EXPECT_EQ(power(vm), "Halted");
        EXPECT_EQ(h.fail("VM.start", {Value(vm), Value(false), Value(false)}),
                  (Strings{"OTHER_OPERATION_IN_PROGRESS", "VM", vm, "clone", task}));
      }
      seen = true;
    }
    return str("task", task, "status") != "pending";
  }, 20000ms));
  EXPECT_TRUE(seen) << "never saw the clone in current_operations";
  EXPECT_EQ(str("task", task, "status"), "success");
  EXPECT_EQ(current_ops("VM", vm), 0u);
  EXPECT_EQ(allowed("VM", vm).count("start"), 1u);
}

TEST_F(Tasks, AsyncCloneHoldsTheVmAndEachDiskUnderItsTask) {
  std::string vm = heavy_vm(3, 4);
  std::set<std::string> disks;
  const Value vbds = field("VM", vm, "VBDs");
  for (const auto& vbd : vbds.arr()) disks.insert(str("VBD", vbd.str(), "VDI"));
  ASSERT_EQ(disks.size(), 3u);
  // Every committed current_operations entry of the VM and its disks.
  struct Held {
    std::string cls, ref, key, op;
  };
  auto seen = std::make_shared<std::vector<Held>>();
  auto mu = std::make_shared<std::mutex>();
  const dm::Class& vc = h.store().cls("VM");
  const dm::Class& dc = h.store().cls("VDI");
  h.store().add_observer([seen, mu, &vc, &dc](const Commit& commit) {
    for (const auto& ch : commit.changes) {
      if ((ch.cls != &vc && ch.cls != &dc) || !ch.object || ch.kind == ChangeKind::Del) continue;
      const dm::Class& c = *ch.cls;
      for (const auto& [key, op] : ch.object->at(c, "current_operations").map()) {
        std::lock_guard lock(*mu);
        seen->push_back({c.name, ch.ref, key.str(), op.str()});
      }
    }
  });
  std::string task = h.ok("Async.VM.clone", {Value(vm), Value("held clone")}).str();
  EXPECT_EQ(wait_task(task).find("status")->str(), "success");
  std::lock_guard lock(*mu);
  auto held = [&](const std::string& cls, const std::string& ref, const std::string& op) {
    return std::any_of(seen->begin(), seen->end(),
                       [&](const Held& x) { return x.cls == cls && x.ref == ref && x.key == task && x.op == op; });
  };
  EXPECT_TRUE(held("VM", vm, "clone"));
  for (const auto& d : disks) EXPECT_TRUE(held("VDI", d, "clone")) << d;
  for (const auto& x : *seen) EXPECT_EQ(x.key, task) << "only the task's own entries";
  EXPECT_EQ(current_ops("VM", vm), 0u);
  for (const auto& d : disks) EXPECT_EQ(current_ops("VDI", d), 0u) << d;
}

TEST_F(Tasks, AsyncDevicePlugFailsWithTheSyncErrorAndHoldsNothing) {
  std::string vm = new_vm();
  std::string vbd = add_disk(vm, "0");
  start(vm);
  h.ok("VBD.unplug", {Value(vbd)});
  std::string task = h.ok("Async.VBD.plug", {Value(vbd)}).str();
  EXPECT_EQ(wait_task(task).find("status")->str(), "success");
  EXPECT_TRUE(flag("VBD", vbd, "currently_attached"));
  const Strings sync = sync_error("VBD.plug", {Value(vbd)});
  EXPECT_EQ(sync, (Strings{"DEVICE_ALREADY_ATTACHED", vbd}));
  task = h.ok("Async.VBD.plug", {Value(vbd)}).str();
  EXPECT_EQ(strings_of(*wait_task(task).find("error_info")), sync);
  EXPECT_EQ(current_ops("VBD", vbd), 0u);
}

// ---------------------------------------------------------------- garbage collection

TEST_F(Tasks, CollectRemovesOldAndOrphanedFinishedTasksOnly) {
  auto make = [&](const std::string& label, const std::string& status, int64_t finished_ago) {
    std::string t = h.ok("task.create", {Value(label), Value("")}).str();
    if (status != "pending") {
      h.ok("task.set_status", {Value(t), Value(status)});
      set_task(t, "finished", Value(DateTime{std::time(nullptr) - finished_ago}));
    }
    return t;
  };
  std::string old_done = make("old", "success", 7200);
  std::string fresh_done = make("fresh", "failure", 10);
  std::string old_pending = make("pending", "pending", 0);
  set_task(old_pending, "created", Value(DateTime{std::time(nullptr) - 7200}));
  std::string old_cancelled = make("cancelled", "cancelled", 7200);

  // Tasks of a session that logged out.
  std::string other = Harness::value(h.raw("session.login_with_password", {Value("root"), Value(kRootPassword)})).str();
  auto made_by_other = [&](const std::string& label) {
    return Harness::value(h.raw("task.create", {Value(other), Value(label), Value("")})).str();
  };
  std::string orphan_done = made_by_other("orphan done");
  std::string orphan_pending = made_by_other("orphan pending");
  h.ok("task.set_status", {Value(orphan_done), Value("success")});
  ASSERT_EQ(Harness::value(h.raw("session.logout", {Value(other)})).str(), "");
  EXPECT_EQ(str("task", orphan_done, "status"), "success");

  std::string token = now_token();
  EXPECT_EQ(collect_tasks(h.store(), 3600), 3u);
  for (const auto& gone : {old_done, old_cancelled, orphan_done})
    EXPECT_EQ(h.fail("task.get_record", {Value(gone)}), (Strings{"HANDLE_INVALID", "task", gone}));
  for (const auto& kept : {fresh_done, old_pending, orphan_pending}) EXPECT_EQ(str("task", kept, "uuid").size(), 36u);
  // Collected tasks are `del` events.
  auto evs = events_since(token, {"task"});
  for (const auto& gone : {old_done, old_cancelled, orphan_done}) EXPECT_TRUE(find_event(evs, "task", gone, "del")) << gone;
  EXPECT_EQ(collect_tasks(h.store(), 3600), 0u);
  // A pending task of a dead session is collected once it finishes.
  h.ok("task.set_status", {Value(orphan_pending), Value("success")});
  EXPECT_EQ(collect_tasks(h.store(), 3600), 1u);
}

}  // namespace
}  // namespace xenapi::testing
