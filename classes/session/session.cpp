// session: log in, log out, change the password. Authentication itself lives
// in the server layer behind SessionService.
#include "classes/api/handlers.h"

namespace xenapi {

namespace {

SessionService& sessions(Call& c) {
  if (!c.env().sessions) throw err::INTERNAL_ERROR("no session service configured");
  return *c.env().sessions;
}

}  // namespace

XENAPI_HANDLER("session.login_with_password",
               [](Call& c, const std::string& uname, const std::string& pwd, const std::string& version,
                  const std::string& originator) -> Result {
                 // `version` is accepted and ignored, as xapi does.
                 std::string ref = sessions(c).login(c, uname, pwd, originator);
                 if (c.deferred()) return Result::deferred();  // a delayed refusal
                 return Result(Value(ref));
               });

XENAPI_HANDLER("session.logout", [](Call& c) { sessions(c).logout(c, c.who()->session); });

XENAPI_HANDLER("session.change_password", [](Call& c, const std::string& old_pwd, const std::string& new_pwd) {
  sessions(c).change_password(c, old_pwd, new_pwd);
});

}  // namespace xenapi
