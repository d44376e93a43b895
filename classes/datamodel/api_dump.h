// A stable, line-per-item text dump of the whole API (classes, fields,
// messages with parameters, enums, relations, errors), derived from the live
// datamodel. tests/golden/api-dump.txt holds the reviewed copy; any change to
// the API shows up as a diff against it.
#pragma once

#include <string>

#include "classes/datamodel/datamodel.h"

namespace xenapi::dm {

std::string api_dump(const Datamodel& model);

}  // namespace xenapi::dm
