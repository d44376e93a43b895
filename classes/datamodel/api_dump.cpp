// Renders the API dump.
#include "classes/datamodel/api_dump.h"

#include <sstream>

#include "classes/errors.h"

namespace xenapi::dm {

namespace {

const char* qual_name(Qual q) {
  switch (q) {
    case Qual::RW: return "RW";
    case Qual::StaticRO: return "StaticRO";
    case Qual::DynamicRO: return "DynamicRO";
  }
  return "?";
}

std::string literal(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::String: return "\"" + v.str() + "\"";
    case Value::Kind::Array: {
      std::string s = "{";
      for (size_t i = 0; i < v.arr().size(); ++i) s += (i ? ", " : "") + literal(v.arr()[i]);
      return s + "}";
    }
    case Value::Kind::Map: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, x] : v.map()) {
        s += (first ? "" : ", ") + literal(k) + " -> " + literal(x);
        first = false;
      }
      return s + "}";
    }
    default: return v.debug_string();
  }
}

std::string implicit_list(unsigned f) {
  std::string s;
  auto add = [&](unsigned bit, const char* name) {
    if (f & bit) s += std::string(s.empty() ? "" : ",") + name;
  };
  add(kGetRecord, "get_record");
  add(kGetByUuid, "get_by_uuid");
  add(kGetAll, "get_all");
  add(kGetByNameLabel, "get_by_name_label");
  add(kCreate, "create");
  add(kDestroy, "destroy");
  add(kFieldAccessors, "fields");
  return s.empty() ? "none" : s;
}

}  // namespace

std::string api_dump(const Datamodel& model) {
  std::ostringstream out;
  for (const auto& c : model.classes()) {
    out << "class " << c->name << " since=" << c->life.to_string() << " implicit=" << implicit_list(c->implicit)
        << (c->events ? " events" : "") << (c->db_class ? "" : " not-in-db") << "\n";
    for (const auto& f : c->fields) {
      out << "  field " << c->name << "." << f.name << " : " << f.type.to_string() << " " << qual_name(f.qual)
          << " since=" << f.life.to_string();
      if (f.column != f.name) out << " column=" << f.column;
      if (f.has_default) out << " default=" << literal(f.default_value);
      if (f.internal) out << " internal";
      if (!f.key_roles.empty()) {
        out << " key-roles=";
        for (size_t i = 0; i < f.key_roles.size(); ++i)
          out << (i ? "," : "") << f.key_roles[i].first << ":" << role_name(f.key_roles[i].second);
      }
      if ((c->implicit & kCreate) && f.in_constructor())
        out << (f.required_in_constructor() ? " ctor-required" : " ctor-optional");
      out << "\n";
    }
    for (const auto& m : c->messages) {
      out << "  message " << m.wire_name << "(";
      for (size_t i = 0; i < m.params.size(); ++i) {
        const auto& p = m.params[i];
        out << (i ? ", " : "") << p.name << ": " << p.type.to_string();
        if (p.default_value) out << " = " << literal(*p.default_value);
      }
      out << ") -> " << m.result.to_string() << " [" << to_string(m.kind) << "] role=" << role_name(m.role)
          << " since=" << m.life.to_string();
      if (m.async) out << " async";
      if (!m.session) out << " no-session";
      if (m.blocking) out << " blocking";
      if (!m.implemented) out << " NOT-IMPLEMENTED";
      if (!m.errors.empty()) {
        out << " errors=";
        for (size_t i = 0; i < m.errors.size(); ++i) out << (i ? "," : "") << m.errors[i];
      }
      out << "\n";
    }
  }
  for (const auto& e : model.enums()) {
    out << "enum " << e->name << " =";
    for (size_t i = 0; i < e->values.size(); ++i) out << (i ? ", " : " ") << e->values[i];
    out << "\n";
  }
  for (const auto& r : model.relations())
    out << "relation " << r.ref->cls->name << "." << r.ref->name << " <-> " << r.set->cls->name << "." << r.set->name
        << "\n";
  for (const auto& e : all_errors()) {
    out << "error " << e.code << "(";
    for (size_t i = 0; i < e.params.size(); ++i) out << (i ? ", " : "") << e.params[i];
    out << ")\n";
  }
  return out.str();
}

}  // namespace xenapi::dm
