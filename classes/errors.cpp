// The table of declared XenAPI errors.
#include "classes/errors.h"

#include <unordered_map>

namespace xenapi {

std::vector<std::string> ApiError::description() const {
  std::vector<std::string> d;
  d.reserve(params_.size() + 1);
  d.push_back(code_);
  d.insert(d.end(), params_.begin(), params_.end());
  return d;
}

const char* ApiError::what() const noexcept {
  if (what_.empty()) {
    what_ = code_;
    for (const auto& p : params_) what_ += " [" + p + "]";
  }
  return what_.c_str();
}

const std::vector<ErrorInfo>& all_errors() {
  static const std::vector<ErrorInfo> table = {
#define XENAPI_ERROR(code, doc, ...) ErrorInfo{#code, doc, {__VA_ARGS__}},
#include "classes/errors.def"
#undef XENAPI_ERROR
  };
  return table;
}

const ErrorInfo* find_error(std::string_view code) {
  static const auto index = [] {
    std::unordered_map<std::string_view, const ErrorInfo*> m;
    for (const auto& e : all_errors()) m.emplace(e.code, &e);
    return m;
  }();
  auto it = index.find(code);
  return it == index.end() ? nullptr : it->second;
}

}  // namespace xenapi
