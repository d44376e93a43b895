// VBD: rules of the implicit VBD.create.
#include <algorithm>
#include <set>

#include "classes/api/handlers.h"
#include "classes/vm/runtime.h"

namespace xenapi {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

XENAPI_CLASS_HOOKS("VBD", ClassHooks{
    .before_create =
        [](Call& call, Txn& t, std::vector<Value>& v) {
          const dm::Class& vbd = call.cls("VBD");
          const dm::Class& vm_cls = call.cls("VM");
          auto at = [&](const char* f) -> Value& { return v[vbd.field(f)->index]; };
          const std::string vm = at("VM").str();
          ObjectPtr vm_obj = t.must_get(vm_cls, vm);
          const bool empty = at("empty").boolean();
          const std::string vdi = at("VDI").str();
          if (!empty && vdi == dm::kNullRef) throw err::HANDLE_INVALID("VDI", vdi);
          if (at("type").str() == "CD" && at("mode").str() != "RO") throw err::VBD_CDS_MUST_BE_READONLY();
          if (vdi != dm::kNullRef) {
            ObjectPtr vdi_obj = t.must_get(call.cls("VDI"), vdi);
            if (vdi_obj->at(call.cls("VDI"), "read_only").boolean()) at("mode") = Value("RO");
          }
          // userdevice: a slot number, "autodetect" for the lowest free one.
          std::set<std::string> used;
          for (const Value& other : vm_obj->at(vm_cls, "VBDs").arr())
            if (ObjectPtr o = t.get(vbd, other.str())) used.insert(o->at(vbd, "userdevice").str());
          std::string& dev = at("userdevice").str();
          if (dev == "autodetect") {
            int n = 0;
            while (used.count(std::to_string(n))) ++n;
            dev = std::to_string(n);
          } else if (!all_digits(dev) && dev.rfind("xvd", 0) != 0 && dev.rfind("hd", 0) != 0 &&
                     dev.rfind("sd", 0) != 0) {
            throw err::INVALID_DEVICE(dev);
          }
          if (used.count(dev)) throw err::DEVICE_ALREADY_EXISTS(dev);
        },
    .before_destroy =
        [](Call& call, Txn& t, const ObjectPtr& o) {
          if (o->at(call.cls("VBD"), "currently_attached").boolean())
            throw err::OPERATION_NOT_ALLOWED("VBD '" + o->ref + "' is still attached to a running VM");
        },
    .derive = [](Txn& t, const std::string& ref) { vm::derive_vbd(t, ref); },
});

}  // namespace xenapi
