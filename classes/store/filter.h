// get_all_records_where expressions (xapi's Db_filter language):
//   expr  := 'true' | 'false' | value '=' value | expr 'and' expr
//          | expr 'or' expr | 'not' expr | '(' expr ')'
//   value := '"' literal '"' | 'field' '"' column '"'
// 'and'/'or' are left-associative with equal precedence. Values compare as
// strings against the database representation of the field.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "classes/datamodel/datamodel.h"
#include "classes/store/store.h"

namespace xenapi {

class Filter {
 public:
  // Throws INVALID_VALUE [expr, reason] for a syntax error or unknown field.
  static Filter parse(const dm::Class& c, std::string_view expr);
  bool matches(const Object& o) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

// The database column representation of a value: "true", "42", "1.",
// "('a' 'b')", "(('k' 'v'))", "19700101T00:00:00Z", refs and enums verbatim.
std::string db_string(const Value& v);

}  // namespace xenapi
