// The declaration builder (declare.h) and the list of declared classes.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

MessageRef& MessageRef::errors(const std::string& codes) {
  size_t start = 0;
  while (start < codes.size()) {
    size_t end = codes.find(',', start);
    if (end == std::string::npos) end = codes.size();
    std::string code = codes.substr(start, end - start);
    while (!code.empty() && code.front() == ' ') code.erase(code.begin());
    while (!code.empty() && code.back() == ' ') code.pop_back();
    if (!code.empty()) m_.errors.push_back(code);
    start = end + 1;
  }
  return *this;
}

FieldRef ClassBuilder::field(std::string name, std::string type, Qual q, std::string lifecycle,
                             std::string doc) {
  FieldDecl& f = c_.fields.emplace_back();
  f.name = std::move(name);
  f.type = std::move(type);
  f.qual = q;
  f.lifecycle = std::move(lifecycle);
  f.doc = std::move(doc);
  return FieldRef(f);
}

MessageRef ClassBuilder::message(std::string name, std::string params, std::string result,
                                 Role role, std::string lifecycle, std::string doc) {
  MessageDecl& m = c_.messages.emplace_back();
  m.name = std::move(name);
  m.params = std::move(params);
  m.result = std::move(result);
  m.role = role;
  m.lifecycle = std::move(lifecycle);
  m.doc = std::move(doc);
  return MessageRef(m);
}

ClassBuilder Declarations::cls(std::string name, std::string doc, std::string lifecycle) {
  ClassDecl& c = classes_.emplace_back();
  c.name = std::move(name);
  c.doc = std::move(doc);
  c.lifecycle = std::move(lifecycle);
  return ClassBuilder(c);
}

void Declarations::enumeration(std::string name, const std::string& values, std::string doc) {
  EnumDecl& e = enums_.emplace_back();
  e.name = std::move(name);
  e.doc = std::move(doc);
  size_t start = 0;
  while (start <= values.size()) {
    size_t end = values.find(',', start);
    if (end == std::string::npos) end = values.size();
    std::string v = values.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    while (!v.empty() && v.back() == ' ') v.pop_back();
    if (!v.empty()) e.values.push_back(v);
    start = end + 1;
  }
}

void Declarations::relation(std::string ref_side, std::string set_side) {
  relations_.emplace_back(std::move(ref_side), std::move(set_side));
}

}  // namespace xenapi::dm
