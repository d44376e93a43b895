// Lets GoogleTest print xenapi::Value in failure messages (debug_string instead of raw bytes).
#pragma once

#include <ostream>

#include "classes/value.h"

namespace xenapi {

inline void PrintTo(const Value& v, std::ostream* os) { *os << v.debug_string(); }

}  // namespace xenapi
