// XenAPI types, parsed from the reference notation used in the declarations:
//   "string", "int", "float", "bool", "datetime", "void",
//   "enum vm_power_state", "VM ref", "VM record", "VM ref set",
//   "(string->enum vm_operations) map", "string set set", "an event batch".
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace xenapi::dm {

struct Enum;

struct Type {
  enum class Kind : uint8_t {
    Void,
    String,
    Int,
    Float,
    Bool,
    DateTime,
    Ref,
    Enum,
    Set,
    Map,
    Record,      // a class's record, or a named struct such as data_source
    AnyRecord,   // "<class> record": the record of whatever class an event is about
    EventBatch,  // result of event.from
    Option,      // array of zero or one element
  };

  Kind kind = Kind::Void;
  std::string name;                    // class (Ref/Record) or enum name (Enum)
  std::shared_ptr<const Type> elem;    // Set/Option element, Map key
  std::shared_ptr<const Type> value;   // Map value
  const Enum* enumeration = nullptr;   // resolved when the datamodel is built

  bool is(Kind k) const { return kind == k; }
  // Canonical notation, as in the reference: "(string->string) map".
  std::string to_string() const;
};

// Throws std::invalid_argument with a message naming the problem.
Type parse_type(std::string_view text);

}  // namespace xenapi::dm
