// XenAPI errors: the exception every layer throws, and one typed constructor
// per code generated from errors.def so parameter counts cannot drift.
//
//   throw err::HANDLE_INVALID("VM", ref);
//   throw err::VM_BAD_POWER_STATE(vm, "halted", "running");
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xenapi {

// An API failure: ErrorDescription = [code, params...].
class ApiError : public std::exception {
 public:
  ApiError(std::string code, std::vector<std::string> params)
      : code_(std::move(code)), params_(std::move(params)) {}

  const std::string& code() const { return code_; }
  const std::vector<std::string>& params() const { return params_; }
  // [code, params...], as sent on the wire.
  std::vector<std::string> description() const;
  const char* what() const noexcept override;

 private:
  std::string code_;
  std::vector<std::string> params_;
  mutable std::string what_;
};

struct ErrorInfo {
  std::string_view code;
  std::string_view doc;
  std::vector<std::string_view> params;
};

// Every declared error, in declaration order (for the API dump and checks).
const std::vector<ErrorInfo>& all_errors();
const ErrorInfo* find_error(std::string_view code);

namespace err {

namespace detail {
template <typename T>
std::string to_param(T&& v) {
  if constexpr (std::is_arithmetic_v<std::decay_t<T>>) {
    return std::to_string(v);
  } else {
    return std::string(std::forward<T>(v));
  }
}
}  // namespace detail

#define XENAPI_ERROR(code, doc, ...)                                                      \
  template <typename... A>                                                                \
  [[nodiscard]] ApiError code(A&&... a) {                                                 \
    constexpr const char* names[] = {"" __VA_OPT__(, ) __VA_ARGS__};                      \
    static_assert(sizeof...(A) == sizeof(names) / sizeof(names[0]) - 1,                   \
                  "wrong number of parameters for XenAPI error " #code);                  \
    return ApiError(#code, std::vector<std::string>{detail::to_param(std::forward<A>(a))...}); \
  }
#include "classes/errors.def"
#undef XENAPI_ERROR

}  // namespace err

}  // namespace xenapi
