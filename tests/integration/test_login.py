"""Logging in and out with Python's xmlrpc.client."""
from conftest import ROOT_PASSWORD, failure, ok


def test_login_with_two_and_four_parameters(proxy):
    s2 = ok(proxy.session.login_with_password("root", ROOT_PASSWORD))
    s4 = ok(proxy.session.login_with_password("root", ROOT_PASSWORD, "2.0", "integration-test"))
    assert s2.startswith("OpaqueRef:") and s4.startswith("OpaqueRef:") and s2 != s4
    assert ok(proxy.session.get_originator(s4, s4)) == "integration-test"
    ok(proxy.session.logout(s2))
    ok(proxy.session.logout(s4))


def test_bad_password_is_refused_with_the_user_name(proxy):
    assert failure(proxy.session.login_with_password("root", "wrong")) == [
        "SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]


def test_logged_out_session_is_invalid(proxy, session):
    ok(proxy.session.logout(session))
    assert failure(proxy.VM.get_all(session)) == ["SESSION_INVALID", session]
