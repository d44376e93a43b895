// VIF helpers shared outside the VIF hooks.
#pragma once

#include <string>

namespace xenapi::vif {

// A random unicast, locally administered MAC address ("02:..." style).
std::string random_mac();

}  // namespace xenapi::vif
