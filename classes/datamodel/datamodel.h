// The checked XenAPI datamodel: every class with its fields, its explicit
// messages and the implicit messages derived from its fields, every enum and
// every relation. Built once from the declarations (declare.h); immutable and
// shared by the store, the dispatcher, the codecs and the API dump.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "classes/datamodel/declare.h"
#include "classes/datamodel/type.h"
#include "classes/value.h"

namespace xenapi::dm {

struct Class;

// "rio dep(boston)", "23.9.0 proto", "rio REMOVED(tampa)".
struct Lifecycle {
  std::string since;
  std::string deprecated;
  std::string removed;
  bool prototype = false;

  bool is_removed() const { return !removed.empty(); }
  std::string to_string() const;
  static Lifecycle parse(std::string_view text);  // throws std::invalid_argument
};

struct Enum {
  std::string name;
  std::vector<std::string> values;
  bool contains(std::string_view v) const;
};

struct Field {
  const Class* cls = nullptr;
  uint16_t index = 0;        // position in the object's value vector
  std::string name;          // wire name
  std::string column;        // database / filter column name
  Type type;
  Qual qual = Qual::DynamicRO;
  Lifecycle life;
  std::string doc;
  Value default_value;       // declared default, else the type's zero value
  bool has_default = false;  // declared default (create may omit the member)
  bool internal = false;
  std::vector<std::pair<std::string, Role>> key_roles;  // see FieldDecl::key_roles

  // The role a key of this map field needs, if it has its own.
  std::optional<Role> key_role(std::string_view key) const;

  // In records, get_record and events.
  bool published() const { return !internal && !life.is_removed(); }
  // Read by create(): RW and StaticRO fields that are published.
  bool in_constructor() const { return published() && qual != Qual::DynamicRO; }
  // create() rejects a record without this member.
  bool required_in_constructor() const { return in_constructor() && !has_default; }
};

enum class MessageKind : uint8_t {
  Explicit,
  GetField,
  SetField,
  AddToSet,
  RemoveFromSet,
  AddToMap,
  RemoveFromMap,
  GetRecord,
  GetByUuid,
  GetByNameLabel,
  GetAll,
  GetAllRecords,
  GetAllWhere,
  GetAllRecordsWhere,
  Create,
  Destroy,
};
const char* to_string(MessageKind k);

struct Param {
  std::string name;
  Type type;
  std::optional<Value> default_value;  // optional trailing parameter
};

struct Message {
  const Class* cls = nullptr;
  std::string name;       // "start"
  std::string wire_name;  // "VM.start"
  MessageKind kind = MessageKind::Explicit;
  const Field* field = nullptr;  // field accessors
  std::vector<Param> params;     // excluding the session
  size_t required_params = 0;    // params without defaults
  Type result;
  Role role = Role::PoolAdmin;
  Lifecycle life;
  std::string doc;
  std::vector<std::string> errors;
  bool async = false;
  bool implemented = true;
  bool blocking = false;
  bool session = true;
};

struct Class {
  std::string name;        // "VM"
  std::string lower_name;  // "vm", as in events
  std::string doc;
  Lifecycle life;
  unsigned implicit = kNone;
  bool events = true;
  bool db_class = true;
  std::vector<Field> fields;
  std::vector<Message> messages;  // explicit first, then implicit
  std::vector<uint16_t> published;  // indexes of published fields, declaration order
  const Field* uuid = nullptr;
  const Field* name_label = nullptr;

  const Field* field(std::string_view name) const;
  const Field* field_by_column(std::string_view column) const;
  const Message* message(std::string_view name) const;

 private:
  friend class Datamodel;
  std::unordered_map<std::string, uint16_t> field_index_;
  std::unordered_map<std::string, uint16_t> column_index_;
  std::unordered_map<std::string, size_t> message_index_;
};

// A ref field mirrored by a set field: VBD.VM <-> VM.VBDs.
struct Relation {
  const Field* ref;  // VBD.VM
  const Field* set;  // VM.VBDs
};

class Datamodel {
 public:
  // Checks everything (types, enums, defaults, errors, relations); throws
  // std::invalid_argument listing the first problem found.
  static std::shared_ptr<const Datamodel> build(const Declarations& decls);
  // The full XenAPI datamodel (declare_all), built once.
  static std::shared_ptr<const Datamodel> standard();

  const std::vector<std::unique_ptr<Class>>& classes() const { return classes_; }
  const Class* cls(std::string_view name) const;
  // Case-insensitive ("vm" finds VM), as event subscriptions need.
  const Class* cls_nocase(std::string_view name) const;
  const Enum* enumeration(std::string_view name) const;
  const std::vector<std::unique_ptr<Enum>>& enums() const { return enums_; }
  const std::vector<Relation>& relations() const { return relations_; }
  // Relations whose ref or set side is a field of `c`.
  std::vector<const Relation*> relations_of(const Class& c) const;
  // "VM.start" -> message; also "VM_start". nullptr if unknown.
  const Message* message(std::string_view wire_name) const;

 private:
  std::vector<std::unique_ptr<Class>> classes_;
  std::vector<std::unique_ptr<Enum>> enums_;
  std::vector<Relation> relations_;
  std::unordered_map<std::string, const Class*> class_index_;
  std::unordered_map<std::string, const Class*> class_lower_index_;
  std::unordered_map<std::string, const Enum*> enum_index_;
  std::unordered_map<std::string, const Message*> message_index_;
};

// Parses a XenAPI literal ("\"\"", "{}", "OpaqueRef:NULL", "1.", "Halted",
// "{\"k\" -> \"v\"}") as a value of type t. Throws std::invalid_argument.
Value parse_literal(const Type& t, std::string_view literal);
// The zero value of a type: "", 0, 0.0, false, epoch, OpaqueRef:NULL, the
// first enum value, [] or {}.
Value zero_value(const Type& t);

inline constexpr std::string_view kNullRef = "OpaqueRef:NULL";

const char* role_name(Role r);  // "pool-admin", ...

}  // namespace xenapi::dm
