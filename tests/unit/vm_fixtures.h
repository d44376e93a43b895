// Shared fixtures for the VM lifecycle, device, storage, template and task tests: VMs, disks, CDs and NICs made through the API, and readers of their records.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "classes/vm/runtime.h"
#include "harness.h"
#include "value_printer.h"

namespace xenapi::testing {

using Strings = std::vector<std::string>;
using StringSet = std::set<std::string>;

inline constexpr int64_t kMiB = 1LL << 20;
inline constexpr int64_t kGiB = 1LL << 30;
inline constexpr const char* kNull = "OpaqueRef:NULL";

inline Strings strings_of(const Value& v) {
  Strings out;
  for (const auto& x : v.arr()) out.push_back(x.str());
  return out;
}

inline StringSet set_of(const Value& v) {
  StringSet out;
  for (const auto& x : v.arr()) out.insert(x.str());
  return out;
}

inline Value string_array(const Strings& s) {
  Array a;
  for (const auto& x : s) a.emplace_back(x);
  return Value(std::move(a));
}

// An operation held on an object the way a call in progress holds it
// (current_operations {key: op}), until released or destroyed.
class HeldOperation {
 public:
  HeldOperation(Harness& h, const char* cls, const std::string& ref, const std::string& op)
      : root_{h.session(), "root", dm::Role::PoolAdmin, true},
        call_(h.env(), *h.model().message("VM.start"), &root_),
        op_(std::make_unique<vm::Operation>(call_, cls, ref, op)) {}
  const std::string& key() { return call_.operation_key(); }
  void release() { op_.reset(); }

 private:
  Principal root_;
  Call call_;
  std::unique_ptr<vm::Operation> op_;
};

// Everything the lifecycle, device and template tests build on.
class VmFixture : public ::testing::Test {
 protected:
  Harness h;

  // ---------------------------------------------------------------- readers

  Value record(const std::string& cls, const std::string& ref) { return h.ok(cls + ".get_record", {Value(ref)}); }
  Value field(const std::string& cls, const std::string& ref, const std::string& f) {
    Value rec = record(cls, ref);
    const Value* x = rec.find(f);
    EXPECT_TRUE(x) << cls << " " << ref << " has no field " << f;
    return x ? *x : Value();
  }
  std::string str(const std::string& cls, const std::string& ref, const std::string& f) {
    return field(cls, ref, f).str();
  }
  bool flag(const std::string& cls, const std::string& ref, const std::string& f) {
    return field(cls, ref, f).boolean();
  }
  int64_t num(const std::string& cls, const std::string& ref, const std::string& f) {
    return field(cls, ref, f).integer();
  }
  StringSet allowed(const std::string& cls, const std::string& ref) {
    return set_of(field(cls, ref, "allowed_operations"));
  }
  std::string power(const std::string& vm) { return str("VM", vm, "power_state"); }
  size_t current_ops(const std::string& cls, const std::string& ref) {
    return field(cls, ref, "current_operations").map().size();
  }
  Value metrics(const std::string& vm) { return record("VM_metrics", str("VM", vm, "metrics")); }
  std::string host() { return h.env().this_host; }
  std::string host_metrics() { return str("host", host(), "metrics"); }
  // host_metrics.memory_free was removed from the wire in API "tampa"; the
  // server still keeps it (read here from the store).
  int64_t host_free() {
    const std::string m = host_metrics();
    return h.store().read([&](const View& v) {
      const dm::Class& c = h.store().cls("host_metrics");
      return v.must_get(c, m)->at(c, "memory_free").integer();
    });
  }
  size_t count(const std::string& cls) { return h.ok(cls + ".get_all").arr().size(); }

  std::string vm_by_name(const std::string& name) {
    Value all = h.ok("VM.get_by_name_label", {Value(name)});
    EXPECT_EQ(all.arr().size(), 1u) << name;
    return all.arr().empty() ? std::string() : all.arr().at(0).str();
  }
  std::string debian() { return vm_by_name("Debian Bookworm 12"); }
  std::string sr() { return h.ok("pool.get_default_SR", {Value(pool())}).str(); }
  std::string pool() { return h.ok("pool.get_all").arr().at(0).str(); }
  std::string network() { return h.ok("network.get_all").arr().at(0).str(); }
  std::string dom0() {
    Value all = h.ok("VM.get_all_records");
    for (const auto& [ref, rec] : all.map())
      if (rec.find("is_control_domain")->boolean()) return ref.str();
    ADD_FAILURE() << "no control domain";
    return "";
  }
  // The local SR's folder (content_path is internal: read from the store).
  std::string sr_dir() {
    const std::string ref = sr();
    return h.store().read([&](const View& v) {
      const dm::Class& c = h.store().cls("SR");
      return v.must_get(c, ref)->at(c, "content_path").str();
    });
  }

  // ---------------------------------------------------------------- makers

  // A halted VM (not a template) with `memory` bytes, `vcpus` vCPUs, the
  // given other_config and no devices.
  std::string new_vm(const std::string& name = "vm", int64_t memory = kGiB, int64_t vcpus = 1,
                     std::vector<std::pair<std::string, Value>> other_config = {}) {
    Value rec = record("VM", debian());
    rec.set_member("name_label", Value(name));
    rec.set_member("is_a_template", Value(false));
    for (const char* f : {"memory_static_min", "memory_dynamic_min", "memory_dynamic_max", "memory_static_max"})
      rec.set_member(f, Value(memory));
    rec.set_member("VCPUs_max", Value(vcpus));
    rec.set_member("VCPUs_at_startup", Value(vcpus));
    rec.set_member("other_config", map_of(std::move(other_config)));
    return h.ok("VM.create", {rec}).str();
  }

  std::string new_vdi(int64_t size = kGiB, const std::string& name = "disk", std::string in_sr = "") {
    if (in_sr.empty()) in_sr = sr();
    return h
        .ok("VDI.create", {map_of({{"name_label", Value(name)},
                                   {"name_description", Value("")},
                                   {"SR", Value(in_sr)},
                                   {"virtual_size", Value(size)},
                                   {"type", Value("user")},
                                   {"sharable", Value(false)},
                                   {"read_only", Value(false)},
                                   {"other_config", Value::empty_map()}})})
        .str();
  }

  Value vbd_record(const std::string& vm, const std::string& vdi, const std::string& userdevice,
                   const std::string& type = "Disk", bool bootable = false) {
    bool empty = vdi == kNull;
    return map_of({{"VM", Value(vm)},
                   {"VDI", Value(vdi)},
                   {"userdevice", Value(userdevice)},
                   {"bootable", Value(bootable)},
                   {"mode", Value(type == "CD" ? "RO" : "RW")},
                   {"type", Value(type)},
                   {"empty", Value(empty)},
                   {"other_config", Value::empty_map()},
                   {"qos_algorithm_type", Value("")},
                   {"qos_algorithm_params", Value::empty_map()}});
  }
  // A VBD of a new disk in slot `userdevice`; returns the VBD.
  std::string add_disk(const std::string& vm, const std::string& userdevice = "0", int64_t size = kGiB) {
    return h.ok("VBD.create", {vbd_record(vm, new_vdi(size, "disk " + userdevice), userdevice, "Disk", userdevice == "0")})
        .str();
  }
  std::string add_vbd(const std::string& vm, const std::string& vdi, const std::string& userdevice) {
    return h.ok("VBD.create", {vbd_record(vm, vdi, userdevice)}).str();
  }
  // A CD drive, empty or holding `vdi`.
  std::string add_cd(const std::string& vm, const std::string& userdevice = "3", const std::string& vdi = kNull) {
    return h.ok("VBD.create", {vbd_record(vm, vdi, userdevice, "CD")}).str();
  }
  std::string add_vif(const std::string& vm, const std::string& device = "0", const std::string& mac = "") {
    return h
        .ok("VIF.create", {map_of({{"device", Value(device)},
                                   {"network", Value(network())},
                                   {"VM", Value(vm)},
                                   {"MAC", Value(mac)},
                                   {"MTU", Value(int64_t{1500})},
                                   {"other_config", Value::empty_map()},
                                   {"qos_algorithm_type", Value("")},
                                   {"qos_algorithm_params", Value::empty_map()}})})
        .str();
  }

  // A VM with a disk (slot 0), a CD drive (slot 3) and a NIC.
  struct Kit {
    std::string vm, disk_vbd, disk_vdi, cd_vbd, vif;
  };
  Kit new_kit(const std::string& name = "vm", int64_t memory = kGiB,
              std::vector<std::pair<std::string, Value>> other_config = {}) {
    Kit k;
    k.vm = new_vm(name, memory, 1, std::move(other_config));
    k.disk_vbd = add_disk(k.vm, "0");
    k.disk_vdi = str("VBD", k.disk_vbd, "VDI");
    k.cd_vbd = add_cd(k.vm, "3");
    k.vif = add_vif(k.vm, "0");
    return k;
  }

  // ---------------------------------------------------------------- power

  Value start(const std::string& vm, bool paused = false) {
    return h.ok("VM.start", {Value(vm), Value(paused), Value(false)});
  }
  // Brings a halted VM to `state` through the API.
  void bring_to(const std::string& vm, const std::string& state) {
    if (state == "Halted") return;
    start(vm);
    if (state == "Paused") h.ok("VM.pause", {Value(vm)});
    if (state == "Suspended") h.ok("VM.suspend", {Value(vm)});
    ASSERT_EQ(power(vm), state);
  }

  // What the simulator says about the VM's domain ("halted" if it has none).
  hv::DomainInfo domain(const std::string& vm) {
    try {
      return h.backend().info(str("VM", vm, "uuid"));
    } catch (const hv::Error&) {
      return hv::DomainInfo{};
    }
  }

  // ---------------------------------------------------------------- events

  std::string now_token() {
    return h.ok("event.from", {string_array({"nosuchclass"}), Value(""), Value(0.0)}).find("token")->str();
  }
  // The events since `token` for `classes`, as (class, operation, ref, snapshot).
  struct Event {
    std::string cls, op, ref;
    Value snapshot;
  };
  std::vector<Event> events_since(const std::string& token, const Strings& classes) {
    Value batch = h.ok("event.from", {string_array(classes), Value(token), Value(0.0)});
    std::vector<Event> out;
    for (const auto& e : batch.find("events")->arr()) {
      const Value* snap = e.find("snapshot");
      out.push_back({e.find("class")->str(), e.find("operation")->str(), e.find("ref")->str(), snap ? *snap : Value()});
    }
    return out;
  }
  const Event* find_event(const std::vector<Event>& evs, const std::string& cls, const std::string& ref,
                          const std::string& op = "mod") {
    for (const auto& e : evs)
      if (e.cls == cls && e.ref == ref && e.op == op) return &e;
    return nullptr;
  }

  // Waits (briefly) until `pred` holds.
  template <typename Pred>
  bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
};

}  // namespace xenapi::testing
