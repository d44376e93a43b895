// Benchmark: encoding VM records for a get_all_records response. Our direct
// encoder (xmlrpc::write_record) against the baseline of building an xmlrpc-c
// value tree and serialising it, measured in the same run; prints the ratio.
#include <xmlrpc-c/base.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "classes/api/handlers.h"
#include "classes/host/bootstrap.h"
#include "hypervisor-backend/simulator/sim_backend.h"
#include "xenapi-server/xmlrpc.h"

namespace {

using namespace xenapi;
using Clock = std::chrono::steady_clock;

xmlrpc_value* to_tree(xmlrpc_env* env, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::String: return xmlrpc_string_new(env, v.str().c_str());
    case Value::Kind::Int: return xmlrpc_string_new(env, std::to_string(v.integer()).c_str());
    case Value::Kind::Float: return xmlrpc_double_new(env, v.real());
    case Value::Kind::Bool: return xmlrpc_bool_new(env, v.boolean());
    case Value::Kind::DateTime: return xmlrpc_datetime_new_sec(env, static_cast<time_t>(v.datetime().seconds));
    case Value::Kind::Array: {
      xmlrpc_value* a = xmlrpc_array_new(env);
      for (const auto& x : v.arr()) {
        xmlrpc_value* item = to_tree(env, x);
        xmlrpc_array_append_item(env, a, item);
        xmlrpc_DECREF(item);
      }
      return a;
    }
    case Value::Kind::Map: {
      xmlrpc_value* s = xmlrpc_struct_new(env);
      for (const auto& [k, x] : v.map()) {
        xmlrpc_value* item = to_tree(env, x);
        std::string key = k.is_string() ? k.str() : k.debug_string();
        xmlrpc_struct_set_value(env, s, key.c_str(), item);
        xmlrpc_DECREF(item);
      }
      return s;
    }
    default: return xmlrpc_string_new(env, "");
  }
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  Store store(dm::Datamodel::standard(), counting_ids());
  hv::SimBackend backend;
  Env env{store, backend, ProductInfo{}, "", "127.0.0.1", nullptr};
  env.this_host = bootstrap_host(env);
  const dm::Class& vm = store.cls("VM");
  ObjectPtr rec = store.read([&](const View& v) {
    for (const auto& o : v.all(vm))
      if (o->at(vm, "name_label").str() == "Debian Bookworm 12") return o;
    return v.all(vm).front();
  });

  // Ours: straight from the stored values.
  std::string out;
  size_t bytes_ours = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    out.clear();
    xmlrpc::write_record(out, vm, *rec);
    bytes_ours += out.size();
  }
  double ours_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iterations;

  // Baseline: xmlrpc-c value tree, then its serialiser.
  Value record = record_value(vm, *rec);
  xmlrpc_env e;
  xmlrpc_env_init(&e);
  size_t bytes_tree = 0;
  auto t1 = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    xmlrpc_value* tree = to_tree(&e, record);
    xmlrpc_mem_block* mem = xmlrpc_mem_block_new(&e, 0);
    xmlrpc_serialize_value(&e, mem, tree);
    bytes_tree += xmlrpc_mem_block_size(mem);
    xmlrpc_mem_block_free(mem);
    xmlrpc_DECREF(tree);
  }
  double tree_us = std::chrono::duration<double, std::micro>(Clock::now() - t1).count() / iterations;
  if (e.fault_occurred) {
    std::fprintf(stderr, "xmlrpc-c: %s\n", e.fault_string);
    return 1;
  }

  std::printf("VM record encoding, %d iterations, %zu published fields\n", iterations, vm.published.size());
  std::printf("  xmlrpc-c value tree + serialise: %8.2f us/record (%zu bytes)\n", tree_us, bytes_tree / iterations);
  std::printf("  direct encoder (ours):           %8.2f us/record (%zu bytes)\n", ours_us, bytes_ours / iterations);
  std::printf("  speed-up: %.1fx\n", tree_us / ours_us);
  return 0;
}
