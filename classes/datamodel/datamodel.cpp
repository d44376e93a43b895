// Builds and checks the datamodel from the declarations, deriving the
// implicit messages of every class.
#include "classes/datamodel/datamodel.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "classes/errors.h"

namespace xenapi::dm {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument(what); }

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits on commas outside (), {} and quotes.
std::vector<std::string> split_top(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  bool quoted = false;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      cur += c;
      if (c == '\\' && i + 1 < s.size()) cur += s[++i];
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    if (c == '(' || c == '{') ++depth;
    if (c == ')' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

std::string unquote(std::string_view s) {
  std::string t = trim(s);
  if (t.size() < 2 || t.front() != '"' || t.back() != '"') fail("expected a quoted string: " + t);
  std::string out;
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] == '\\' && i + 2 < t.size()) ++i;
    out += t[i];
  }
  return out;
}

Role role_or(const ClassDecl& c, const std::string& message, Role fallback) {
  for (const auto& [name, role] : c.role_exceptions)
    if (name == message) return role;
  return fallback;
}

void resolve_enums(Type& t, const Datamodel& dm);

}  // namespace

// ---------------------------------------------------------------- lifecycle

Lifecycle Lifecycle::parse(std::string_view text) {
  Lifecycle l;
  std::string s = trim(text);
  size_t pos = 0;
  bool first = true;
  while (pos < s.size()) {
    size_t end = s.find(' ', pos);
    if (end == std::string::npos) end = s.size();
    std::string tok = s.substr(pos, end - pos);
    pos = end + 1;
    if (tok.empty()) continue;
    auto inner = [&](const char* prefix) -> std::optional<std::string> {
      std::string p(prefix);
      if (tok.rfind(p + "(", 0) == 0 && tok.back() == ')')
        return tok.substr(p.size() + 1, tok.size() - p.size() - 2);
      return std::nullopt;
    };
    if (auto d = inner("dep")) {
      l.deprecated = *d;
    } else if (auto r = inner("REMOVED")) {
      l.removed = *r;
    } else if (tok == "proto") {
      l.prototype = true;
    } else if (first) {
      l.since = tok;
    } else {
      fail("bad lifecycle \"" + s + "\"");
    }
    first = false;
  }
  if (l.since.empty()) fail("lifecycle without a release: \"" + s + "\"");
  return l;
}

std::string Lifecycle::to_string() const {
  std::string s = since;
  if (prototype) s += " proto";
  if (!deprecated.empty()) s += " dep(" + deprecated + ")";
  if (!removed.empty()) s += " REMOVED(" + removed + ")";
  return s;
}

bool Enum::contains(std::string_view v) const {
  return std::find(values.begin(), values.end(), v) != values.end();
}

const char* to_string(MessageKind k) {
  switch (k) {
    case MessageKind::Explicit: return "explicit";
    case MessageKind::GetField: return "get_field";
    case MessageKind::SetField: return "set_field";
    case MessageKind::AddToSet: return "add_to_set";
    case MessageKind::RemoveFromSet: return "remove_from_set";
    case MessageKind::AddToMap: return "add_to_map";
    case MessageKind::RemoveFromMap: return "remove_from_map";
    case MessageKind::GetRecord: return "get_record";
    case MessageKind::GetByUuid: return "get_by_uuid";
    case MessageKind::GetByNameLabel: return "get_by_name_label";
    case MessageKind::GetAll: return "get_all";
    case MessageKind::GetAllRecords: return "get_all_records";
    case MessageKind::GetAllWhere: return "get_all_where";
    case MessageKind::GetAllRecordsWhere: return "get_all_records_where";
    case MessageKind::Create: return "create";
    case MessageKind::Destroy: return "destroy";
  }
  return "?";
}

const char* role_name(Role r) {
  switch (r) {
    case Role::ReadOnly: return "read-only";
    case Role::VmOperator: return "vm-operator";
    case Role::VmAdmin: return "vm-admin";
    case Role::VmPowerAdmin: return "vm-power-admin";
    case Role::PoolOperator: return "pool-operator";
    case Role::PoolAdmin: return "pool-admin";
    case Role::LocalRoot: return "local-root";
  }
  return "?";
}

// ---------------------------------------------------------------- literals

Value zero_value(const Type& t) {
  using K = Type::Kind;
  switch (t.kind) {
    case K::String: return Value(std::string());
    case K::Int: return Value(int64_t{0});
    case K::Float: return Value(0.0);
    case K::Bool: return Value(false);
    case K::DateTime: return Value(DateTime{0});
    case K::Ref: return Value(std::string(kNullRef));
    case K::Enum:
      return Value(t.enumeration && !t.enumeration->values.empty() ? t.enumeration->values.front()
                                                                   : std::string());
    case K::Set:
    case K::Option: return Value::empty_array();
    case K::Map:
    case K::Record:
    case K::AnyRecord:
    case K::EventBatch: return Value::empty_map();
    case K::Void: return Value(std::string());
  }
  return Value();
}

Value parse_literal(const Type& t, std::string_view literal) {
  using K = Type::Kind;
  std::string s = trim(literal);
  switch (t.kind) {
    case K::String:
      return Value(unquote(s));
    case K::Int: {
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end) fail("bad int literal " + s);
      return Value(static_cast<int64_t>(v));
    }
    case K::Float: {
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end) fail("bad float literal " + s);
      return Value(v);
    }
    case K::Bool:
      if (s == "true") return Value(true);
      if (s == "false") return Value(false);
      fail("bad bool literal " + s);
    case K::DateTime: {
      DateTime d;
      if (!parse_datetime(s.front() == '"' ? unquote(s) : s, d)) fail("bad datetime literal " + s);
      return Value(d);
    }
    case K::Ref:
      return Value(s.front() == '"' ? unquote(s) : s);
    case K::Enum: {
      std::string v = s.front() == '"' ? unquote(s) : s;
      if (t.enumeration && !t.enumeration->contains(v))
        fail("\"" + v + "\" is not a value of enum " + t.name);
      return Value(v);
    }
    case K::Set: {
      if (s.size() < 2 || s.front() != '{' || s.back() != '}') fail("bad set literal " + s);
      Array items;
      for (const auto& item : split_top(s.substr(1, s.size() - 2)))
        items.push_back(parse_literal(*t.elem, item));
      return Value(std::move(items));
    }
    case K::Map: {
      if (s.size() < 2 || s.front() != '{' || s.back() != '}') fail("bad map literal " + s);
      Map m;
      for (const auto& item : split_top(s.substr(1, s.size() - 2))) {
        size_t arrow = item.find("->");
        if (arrow == std::string::npos) fail("bad map entry " + item);
        m.emplace_back(parse_literal(*t.elem, item.substr(0, arrow)),
                       parse_literal(*t.value, item.substr(arrow + 2)));
      }
      return Value(std::move(m));
    }
    default:
      fail("no literal for type " + t.to_string());
  }
}

// ---------------------------------------------------------------- lookups

std::optional<Role> Field::key_role(std::string_view key) const {
  for (const auto& [pattern, role] : key_roles) {
    if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0) {
      if (key.substr(0, pattern.size() - 1) == std::string_view(pattern).substr(0, pattern.size() - 1)) return role;
    } else if (key == pattern) {
      return role;
    }
  }
  return std::nullopt;
}

const Field* Class::field(std::string_view name) const {
  auto it = field_index_.find(std::string(name));
  return it == field_index_.end() ? nullptr : &fields[it->second];
}

const Field* Class::field_by_column(std::string_view column) const {
  auto it = column_index_.find(std::string(column));
  return it == column_index_.end() ? nullptr : &fields[it->second];
}

const Message* Class::message(std::string_view name) const {
  auto it = message_index_.find(std::string(name));
  return it == message_index_.end() ? nullptr : &messages[it->second];
}

const Class* Datamodel::cls(std::string_view name) const {
  auto it = class_index_.find(std::string(name));
  return it == class_index_.end() ? nullptr : it->second;
}

const Class* Datamodel::cls_nocase(std::string_view name) const {
  auto it = class_lower_index_.find(lower(name));
  return it == class_lower_index_.end() ? nullptr : it->second;
}

const Enum* Datamodel::enumeration(std::string_view name) const {
  auto it = enum_index_.find(std::string(name));
  return it == enum_index_.end() ? nullptr : it->second;
}

const Message* Datamodel::message(std::string_view wire_name) const {
  auto it = message_index_.find(std::string(wire_name));
  return it == message_index_.end() ? nullptr : it->second;
}

std::vector<const Relation*> Datamodel::relations_of(const Class& c) const {
  std::vector<const Relation*> out;
  for (const auto& r : relations_)
    if (r.ref->cls == &c || r.set->cls == &c) out.push_back(&r);
  return out;
}

// ---------------------------------------------------------------- build

namespace {

void resolve_enums(Type& t, const Datamodel& dm) {
  if (t.kind == Type::Kind::Enum) {
    t.enumeration = dm.enumeration(t.name);
    if (!t.enumeration) fail("unknown enum " + t.name);
  }
  if (t.elem) {
    Type e = *t.elem;
    resolve_enums(e, dm);
    t.elem = std::make_shared<const Type>(std::move(e));
  }
  if (t.value) {
    Type v = *t.value;
    resolve_enums(v, dm);
    t.value = std::make_shared<const Type>(std::move(v));
  }
}

Type checked_type(const std::string& text, const Datamodel& dm, const std::string& where) {
  try {
    Type t = parse_type(text);
    resolve_enums(t, dm);
    return t;
  } catch (const std::invalid_argument& e) {
    fail(where + ": " + e.what());
  }
}

Type ref_type(const std::string& cls) {
  Type t;
  t.kind = Type::Kind::Ref;
  t.name = cls;
  return t;
}

Type simple(Type::Kind k, const std::string& name = {}) {
  Type t;
  t.kind = k;
  t.name = name;
  return t;
}

Type set_of(Type e) {
  Type t;
  t.kind = Type::Kind::Set;
  t.elem = std::make_shared<const Type>(std::move(e));
  return t;
}

Type map_of(Type k, Type v) {
  Type t;
  t.kind = Type::Kind::Map;
  t.elem = std::make_shared<const Type>(std::move(k));
  t.value = std::make_shared<const Type>(std::move(v));
  return t;
}

Param param(std::string name, Type t) {
  Param p;
  p.name = std::move(name);
  p.type = std::move(t);
  return p;
}

}  // namespace

std::shared_ptr<const Datamodel> Datamodel::build(const Declarations& decls) {
  auto dm = std::make_shared<Datamodel>();

  for (const auto& e : decls.enums()) {
    if (dm->enum_index_.count(e.name)) fail("enum " + e.name + " declared twice");
    auto en = std::make_unique<Enum>();
    en->name = e.name;
    en->values = e.values;
    if (en->values.empty()) fail("enum " + e.name + " has no values");
    dm->enum_index_.emplace(en->name, en.get());
    dm->enums_.push_back(std::move(en));
  }

  // Classes first (names only) so that types can refer to any class.
  for (const auto& cd : decls.classes()) {
    if (dm->class_index_.count(cd.name)) fail("class " + cd.name + " declared twice");
    auto c = std::make_unique<Class>();
    c->name = cd.name;
    c->lower_name = lower(cd.name);
    dm->class_index_.emplace(c->name, c.get());
    dm->class_lower_index_.emplace(c->lower_name, c.get());
    dm->classes_.push_back(std::move(c));
  }

  for (size_t ci = 0; ci < decls.classes().size(); ++ci) {
    const ClassDecl& cd = decls.classes()[ci];
    Class& c = *dm->classes_[ci];
    const std::string where = "class " + cd.name;
    c.doc = cd.doc;
    c.implicit = cd.implicit;
    c.events = cd.events;
    c.db_class = cd.db_class;
    try {
      c.life = Lifecycle::parse(cd.lifecycle);
    } catch (const std::invalid_argument& e) {
      fail(where + ": " + e.what());
    }

    c.fields.reserve(cd.fields.size());
    for (const auto& fd : cd.fields) {
      const std::string fwhere = where + " field " + fd.name;
      if (c.field_index_.count(fd.name)) fail(fwhere + " declared twice");
      Field f;
      f.cls = &c;
      f.index = static_cast<uint16_t>(c.fields.size());
      f.name = fd.name;
      f.column = fd.db_column.empty() ? fd.name : fd.db_column;
      f.type = checked_type(fd.type, *dm, fwhere);
      f.qual = fd.qual;
      f.doc = fd.doc;
      f.internal = fd.internal;
      f.key_roles = fd.key_roles;
      if (!f.key_roles.empty() && !f.type.is(Type::Kind::Map)) fail(fwhere + ": key roles on a field that is not a map");
      try {
        f.life = Lifecycle::parse(fd.lifecycle);
        f.has_default = fd.has_default;
        f.default_value = fd.has_default ? parse_literal(f.type, fd.default_literal) : zero_value(f.type);
      } catch (const std::invalid_argument& e) {
        fail(fwhere + ": " + e.what());
      }
      c.field_index_.emplace(f.name, f.index);
      c.column_index_.emplace(f.column, f.index);
      if (f.published()) c.published.push_back(f.index);
      c.fields.push_back(std::move(f));
    }
    c.uuid = c.field("uuid");
    c.name_label = c.field("name_label");
    if (c.db_class && !c.uuid) fail(where + " has no uuid field");

    // Explicit messages.
    for (const auto& md : cd.messages) {
      const std::string mwhere = where + " message " + md.name;
      if (c.message_index_.count(md.name)) fail(mwhere + " declared twice");
      Message m;
      m.cls = &c;
      m.name = md.name;
      m.wire_name = cd.name + "." + md.name;
      m.kind = MessageKind::Explicit;
      m.result = checked_type(md.result, *dm, mwhere + " result");
      m.role = md.role;
      m.doc = md.doc;
      m.errors = md.errors;
      m.async = md.async;
      m.implemented = md.implemented;
      m.blocking = md.blocking;
      m.session = md.session;
      try {
        m.life = Lifecycle::parse(md.lifecycle);
      } catch (const std::invalid_argument& e) {
        fail(mwhere + ": " + e.what());
      }
      for (const auto& ptext : split_top(md.params)) {
        size_t colon = ptext.find(':');
        if (colon == std::string::npos) fail(mwhere + ": parameter without type: " + ptext);
        Param p;
        p.name = trim(ptext.substr(0, colon));
        std::string rest = ptext.substr(colon + 1);
        size_t eq = rest.find('=');
        p.type = checked_type(trim(rest.substr(0, eq)), *dm, mwhere + " param " + p.name);
        if (eq != std::string::npos) {
          try {
            p.default_value = parse_literal(p.type, rest.substr(eq + 1));
          } catch (const std::invalid_argument& e) {
            fail(mwhere + " param " + p.name + ": " + e.what());
          }
        } else if (!m.params.empty() && m.params.back().default_value) {
          fail(mwhere + ": parameter " + p.name + " without default follows an optional one");
        }
        if (!p.default_value) ++m.required_params;
        m.params.push_back(std::move(p));
      }
      for (const auto& code : m.errors)
        if (!find_error(code)) fail(mwhere + ": undeclared error " + code);
      c.message_index_.emplace(m.name, c.messages.size());
      c.messages.push_back(std::move(m));
    }

    // Implicit messages, unless an explicit message of the same name exists.
    auto add = [&](std::string name, MessageKind kind, const Field* f, std::vector<Param> params,
                   Type result, Role role, bool async, const Lifecycle& life, std::string doc) {
      if (c.message_index_.count(name)) return;
      Message m;
      m.cls = &c;
      m.name = std::move(name);
      m.wire_name = c.name + "." + m.name;
      m.kind = kind;
      m.field = f;
      m.params = std::move(params);
      m.required_params = m.params.size();
      m.result = std::move(result);
      m.role = role_or(cd, m.name, role);
      m.async = async;
      m.life = life;
      m.doc = std::move(doc);
      c.message_index_.emplace(m.name, c.messages.size());
      c.messages.push_back(std::move(m));
    };
    const Type self_ref = ref_type(c.name);
    const Type record = simple(Type::Kind::Record, c.name);
    if (cd.implicit & kFieldAccessors) {
      for (const Field& f : c.fields) {
        if (f.internal) continue;
        add("get_" + f.name, MessageKind::GetField, &f, {param("self", self_ref)}, f.type, cd.read_role,
            false, f.life, "get the " + f.name + " field of the given " + c.name);
        if (f.qual != Qual::RW) continue;
        add("set_" + f.name, MessageKind::SetField, &f, {param("self", self_ref), param("value", f.type)},
            simple(Type::Kind::Void), cd.write_role, false, f.life,
            "set the " + f.name + " field of the given " + c.name);
        if (f.type.is(Type::Kind::Set)) {
          add("add_" + f.name, MessageKind::AddToSet, &f, {param("self", self_ref), param("value", *f.type.elem)},
              simple(Type::Kind::Void), cd.write_role, false, f.life,
              "add the given value to the " + f.name + " field of the given " + c.name);
          add("remove_" + f.name, MessageKind::RemoveFromSet, &f,
              {param("self", self_ref), param("value", *f.type.elem)}, simple(Type::Kind::Void), cd.write_role,
              false, f.life, "remove the given value from the " + f.name + " field of the given " + c.name);
        } else if (f.type.is(Type::Kind::Map)) {
          add("add_to_" + f.name, MessageKind::AddToMap, &f,
              {param("self", self_ref), param("key", *f.type.elem), param("value", *f.type.value)},
              simple(Type::Kind::Void), cd.write_role, false, f.life,
              "add the given key-value pair to the " + f.name + " field of the given " + c.name);
          add("remove_from_" + f.name, MessageKind::RemoveFromMap, &f,
              {param("self", self_ref), param("key", *f.type.elem)}, simple(Type::Kind::Void), cd.write_role,
              false, f.life,
              "remove the given key and its corresponding value from the " + f.name + " field of the given " +
                  c.name + "; if the key is not in the map, nothing happens");
        }
      }
    }
    if (cd.implicit & kGetRecord)
      add("get_record", MessageKind::GetRecord, nullptr, {param("self", self_ref)}, record, cd.read_role, false,
          c.life, "get a record containing the current state of the given " + c.name);
    if (cd.implicit & kGetByUuid)
      add("get_by_uuid", MessageKind::GetByUuid, nullptr, {param("uuid", simple(Type::Kind::String))}, self_ref,
          cd.read_role, false, c.life, "get a reference to the " + c.name + " instance with the specified UUID");
    if (cd.implicit & kGetByNameLabel)
      add("get_by_name_label", MessageKind::GetByNameLabel, nullptr, {param("label", simple(Type::Kind::String))},
          set_of(self_ref), cd.read_role, false, c.life,
          "get all the " + c.name + " instances with the given label");
    if (cd.implicit & kGetAll) {
      add("get_all", MessageKind::GetAll, nullptr, {}, set_of(self_ref), cd.read_role, false, c.life,
          "return a list of all the " + c.name + "s known to the system");
      add("get_all_records", MessageKind::GetAllRecords, nullptr, {}, map_of(self_ref, record), cd.read_role,
          false, c.life, "return a map of " + c.name + " references to " + c.name + " records for all " +
                             c.name + "s known to the system");
      add("get_all_where", MessageKind::GetAllWhere, nullptr, {param("expr", simple(Type::Kind::String))},
          set_of(self_ref), cd.read_role, false, c.life,
          "return the references of the " + c.name + "s matching a filter expression");
      add("get_all_records_where", MessageKind::GetAllRecordsWhere, nullptr,
          {param("expr", simple(Type::Kind::String))}, map_of(self_ref, record), cd.read_role, false, c.life,
          "return a map of references to records of the " + c.name + "s matching a filter expression");
    }
    if (cd.implicit & kCreate)
      add("create", MessageKind::Create, nullptr, {param("args", record)}, self_ref, cd.ctor_role, true, c.life,
          "create a new " + c.name + " instance, and return its handle");
    if (cd.implicit & kDestroy)
      add("destroy", MessageKind::Destroy, nullptr, {param("self", self_ref)}, simple(Type::Kind::Void),
          cd.ctor_role, true, c.life, "destroy the specified " + c.name + " instance");

    for (const auto& [name, role] : cd.role_exceptions)
      if (!c.message_index_.count(name)) fail(where + ": role exception for unknown message " + name);
  }

  // Wire-name index, with the Class_message alias where unambiguous.
  std::unordered_map<std::string, int> alias_count;
  for (const auto& c : dm->classes_)
    for (const auto& m : c->messages) ++alias_count[c->name + "_" + m.name];
  for (const auto& c : dm->classes_) {
    for (const auto& m : c->messages) {
      dm->message_index_.emplace(m.wire_name, &m);
      std::string alias = c->name + "_" + m.name;
      if (alias_count[alias] == 1) dm->message_index_.emplace(alias, &m);
    }
  }

  for (const auto& [ref_side, set_side] : decls.relations()) {
    auto field_of = [&](const std::string& spec) -> const Field* {
      size_t dot = spec.find('.');
      if (dot == std::string::npos) fail("bad relation end " + spec);
      const Class* c = dm->cls(spec.substr(0, dot));
      if (!c) fail("relation " + spec + ": unknown class");
      const Field* f = c->field(spec.substr(dot + 1));
      if (!f) fail("relation " + spec + ": unknown field");
      return f;
    };
    const Field* r = field_of(ref_side);
    const Field* s = field_of(set_side);
    if (!r->type.is(Type::Kind::Ref) || r->type.name != s->cls->name)
      fail("relation " + ref_side + ": must be a " + s->cls->name + " ref");
    if (!s->type.is(Type::Kind::Set) || !s->type.elem->is(Type::Kind::Ref) || s->type.elem->name != r->cls->name)
      fail("relation " + set_side + ": must be a " + r->cls->name + " ref set");
    if (s->qual == Qual::RW) fail("relation " + set_side + ": the set side must be read-only");
    dm->relations_.push_back(Relation{r, s});
  }
  return dm;
}

std::shared_ptr<const Datamodel> Datamodel::standard() {
  static const std::shared_ptr<const Datamodel> dm = [] {
    Declarations d;
    declare_all(d);
    return build(d);
  }();
  return dm;
}

}  // namespace xenapi::dm
