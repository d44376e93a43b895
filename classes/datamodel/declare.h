// The vocabulary of the datamodel declarations in classes/datamodel/decl/.
//
// Every XenAPI class is declared once, in one file, with this small builder:
// fields (wire name, type, qualifier, lifecycle, doc, default), explicit
// messages (params, result, minimum role, lifecycle, errors, doc) and the
// implicit messages the class publishes. Types, defaults and lifecycles are
// written in the notation of the XenAPI reference ("(string -> string) map",
// "VM ref set", "rio dep(boston)") and are parsed and checked when the
// Datamodel is built (see datamodel.h), so a typo fails at start-up and in
// the unit tests, never on the wire.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace xenapi::dm {

// How a field may be written: RW has an implicit setter; StaticRO is set only
// by the constructor; DynamicRO is maintained by the server.
enum class Qual : uint8_t { RW, StaticRO, DynamicRO };
inline constexpr Qual RW = Qual::RW;
inline constexpr Qual SRO = Qual::StaticRO;
inline constexpr Qual DRO = Qual::DynamicRO;

// RBAC roles, least privileged first; each role holds every permission of
// the roles before it. LocalRoot means "no role suffices": only the local
// superuser may call.
enum class Role : uint8_t {
  ReadOnly,
  VmOperator,
  VmAdmin,
  VmPowerAdmin,
  PoolOperator,
  PoolAdmin,
  LocalRoot,
};
inline constexpr Role RO = Role::ReadOnly;
inline constexpr Role VO = Role::VmOperator;
inline constexpr Role VA = Role::VmAdmin;
inline constexpr Role VPA = Role::VmPowerAdmin;
inline constexpr Role PO = Role::PoolOperator;
inline constexpr Role PA = Role::PoolAdmin;
inline constexpr Role ROOT = Role::LocalRoot;

// Implicit class-level messages a class publishes.
enum Implicit : unsigned {
  kNone = 0,
  kGetRecord = 1u << 0,
  kGetByUuid = 1u << 1,
  kGetAll = 1u << 2,  // get_all, get_all_records, get_all_where, get_all_records_where
  kGetByNameLabel = 1u << 3,
  kCreate = 1u << 4,
  kDestroy = 1u << 5,
  kFieldAccessors = 1u << 6,  // get_<f>, set_<f>, add_/remove_, add_to_/remove_from_
};

struct FieldDecl {
  std::string name;       // wire name, e.g. "memory_static_max"
  std::string type;       // e.g. "(string -> string) map"
  Qual qual = Qual::DynamicRO;
  std::string lifecycle;  // e.g. "rio dep(boston)"
  std::string doc;
  std::string db_column;  // database column when it differs ("memory__static_max")
  std::string default_literal;
  bool has_default = false;
  bool internal = false;  // kept by the server, never published
  // Map keys whose add_to_/remove_from_ need a role other than the class's
  // writer role ("folder", "XenCenter.CustomFields.*" for vm-operators).
  std::vector<std::pair<std::string, Role>> key_roles;
};

struct MessageDecl {
  std::string name;
  std::string params;  // "vm:VM ref, start_paused:bool, force:bool"
  std::string result;  // "void", "VM ref", ...
  Role role = Role::PoolAdmin;
  std::string lifecycle;
  std::string doc;
  std::vector<std::string> errors;
  bool async = true;           // an Async. variant exists
  bool implemented = true;     // false: answers NOT_IMPLEMENTED (and must have no handler)
  bool blocking = false;       // may block for long: runs off the network threads
  bool session = true;         // first wire argument is a session
};

struct ClassDecl {
  std::string name;
  std::string doc;
  std::string lifecycle;
  unsigned implicit = kNone;
  bool events = true;          // writes generate add/mod/del events
  bool db_class = true;        // objects live in the store
  Role read_role = Role::ReadOnly;
  Role write_role = Role::PoolAdmin;   // implicit setters/adders
  Role ctor_role = Role::PoolAdmin;    // implicit create/destroy
  std::vector<std::pair<std::string, Role>> role_exceptions;  // ("add_tags", VO)
  std::deque<FieldDecl> fields;
  std::deque<MessageDecl> messages;
};

struct EnumDecl {
  std::string name;
  std::vector<std::string> values;
  std::string doc;
};

// Fluent handles returned by the builder. They point into the ClassDecl
// (std::deque keeps element addresses stable while the class grows).
class FieldRef {
 public:
  explicit FieldRef(FieldDecl& f) : f_(f) {}
  // Default used by create when the member is omitted (XenAPI literal).
  FieldRef& def(std::string literal) {
    f_.default_literal = std::move(literal);
    f_.has_default = true;
    return *this;
  }
  // Database column name when it differs from the wire name.
  FieldRef& db(std::string column) {
    f_.db_column = std::move(column);
    return *this;
  }
  FieldRef& internal() {
    f_.internal = true;
    return *this;
  }
  // Role needed to add or remove one map key; a trailing ".*" matches a prefix.
  FieldRef& key_role(std::string key, Role r) {
    f_.key_roles.emplace_back(std::move(key), r);
    return *this;
  }

 private:
  FieldDecl& f_;
};

class MessageRef {
 public:
  explicit MessageRef(MessageDecl& m) : m_(m) {}
  // Comma-separated error codes the message declares.
  MessageRef& errors(const std::string& codes);
  MessageRef& sync_only() {
    m_.async = false;
    return *this;
  }
  // Declared but not implemented: the call answers NOT_IMPLEMENTED.
  MessageRef& ni() {
    m_.implemented = false;
    return *this;
  }
  MessageRef& blocking() {
    m_.blocking = true;
    return *this;
  }
  MessageRef& no_session() {
    m_.session = false;
    return *this;
  }

 private:
  MessageDecl& m_;
};

class ClassBuilder {
 public:
  explicit ClassBuilder(ClassDecl& c) : c_(c) {}
  ClassBuilder& implicit(unsigned flags) {
    c_.implicit = flags;
    return *this;
  }
  ClassBuilder& roles(Role read, Role write, Role ctor) {
    c_.read_role = read;
    c_.write_role = write;
    c_.ctor_role = ctor;
    return *this;
  }
  // Minimum role of one implicit message that differs from the class's.
  ClassBuilder& role(const std::string& implicit_message, Role r) {
    c_.role_exceptions.emplace_back(implicit_message, r);
    return *this;
  }
  ClassBuilder& no_events() {
    c_.events = false;
    return *this;
  }
  ClassBuilder& not_in_db() {
    c_.db_class = false;
    return *this;
  }
  FieldRef field(std::string name, std::string type, Qual q, std::string lifecycle,
                 std::string doc);
  MessageRef message(std::string name, std::string params, std::string result, Role role,
                     std::string lifecycle, std::string doc);

 private:
  ClassDecl& c_;
};

// Collects every declaration; Datamodel::build() turns it into the checked
// registry.
class Declarations {
 public:
  ClassBuilder cls(std::string name, std::string doc, std::string lifecycle);
  void enumeration(std::string name, const std::string& values, std::string doc = {});
  // VBD.VM <-> VM.VBDs: a ref field and the set field that mirrors it.
  void relation(std::string ref_side, std::string set_side);

  const std::deque<ClassDecl>& classes() const { return classes_; }
  const std::deque<EnumDecl>& enums() const { return enums_; }
  const std::vector<std::pair<std::string, std::string>>& relations() const {
    return relations_;
  }

 private:
  std::deque<ClassDecl> classes_;
  std::deque<EnumDecl> enums_;
  std::vector<std::pair<std::string, std::string>> relations_;
};

// Adds the whole XenAPI datamodel (classes/datamodel/decl/*.cpp).
void declare_all(Declarations& d);

}  // namespace xenapi::dm
