// session: session.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_session(Declarations& d) {
  auto c = d.cls("session", "session", "rio");
  c.implicit(kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PA, PA)
      .no_events();

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("this_host", "host ref", DRO, "rio", "currently connected host");
  c.field("this_user", "user ref", DRO, "rio", "currently connected user");
  c.field("last_active", "datetime", DRO, "rio", "timestamp for last time session was active");
  c.field("pool", "bool", DRO, "rio", "true if this session relates to a intra-pool login, false otherwise");
  c.field("other_config", "(string->string) map", RW, "miami", "additional configuration").def("{}");
  c.field("is_local_superuser", "bool", DRO, "george", "true iff this session was created using local superuser credentials");
  c.field("subject", "subject ref", DRO, "george", "references the subject instance that created the session");
  c.field("validation_time", "datetime", DRO, "george", "time when session was last validated");
  c.field("auth_user_sid", "string", DRO, "george", "subject identifier of the user that was externally authenticated");
  c.field("auth_user_name", "string", DRO, "midnight-ride", "subject name of the user that was externally authenticated");
  c.field("rbac_permissions", "string set", SRO, "midnight-ride", "list with all RBAC permissions for this session").def("{}");
  c.field("tasks", "task ref set", DRO, "midnight-ride", "list of tasks created using the current session");
  c.field("parent", "session ref", SRO, "midnight-ride", "references the parent session that created this session").def("OpaqueRef:NULL");
  c.field("originator", "string", DRO, "clearwater", "key string provided by a API user to distinguish itself from other user…");
  c.field("client_certificate", "bool", DRO, "21.2.0", "indicates whether this session was authenticated using a client certifi…");

  c.message("change_password", "old_pwd:string, new_pwd:string", "void", ROOT, "rio",
            "change the account password; if your session is authenticated with root privileges then the old_pwd "
            "is validated and the new_pwd is set regardless")
      .errors("CHANGE_PASSWORD_REJECTED")
      .sync_only()
      .blocking();
  c.message("create_from_db_file", "filename:string", "session ref", ROOT, "dundee",
            "")
      .ni();
  c.message("get_all_subject_identifiers", "", "string set", RO, "george",
            "returns a list of all the user subject-identifiers of all e…")
      .ni();
  c.message("local_logout", "", "void", PA, "miami",
            "log out of local session")
      .sync_only()
      .ni();
  c.message("login_with_password", "uname:string, pwd:string, version:string = \"1.1\", originator:string = \"\"", "session ref", RO, "rio",
            "attempt to authenticate the user, returning a session reference if successful")
      .errors("SESSION_AUTHENTICATION_FAILED, HOST_IS_SLAVE")
      .sync_only()
      .no_session()
      .blocking();
  c.message("logout", "", "void", RO, "rio",
            "log out of a session")
      .sync_only();
  c.message("logout_subject_identifier", "subject_identifier:string", "void", PO, "george",
            "log out all sessions associated to a user subject-identifie…")
      .ni();
  c.message("slave_local_login_with_password", "uname:string, pwd:string", "session ref", PA, "miami",
            "authenticate locally against a slave in emergency mode")
      .sync_only()
      .no_session()
      .ni();
}

}  // namespace xenapi::dm
