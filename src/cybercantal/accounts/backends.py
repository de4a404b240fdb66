"""Authentication backend for one-time logins (e-mail link, SMS code).

The secret is checked by accounts.services.one_time_link_verify or one_time_code_verify;
this backend only turns a
verified user into a session, so that django.contrib.auth.login works as usual."""

from django.contrib.auth.backends import ModelBackend


class OneTimeLoginBackend(ModelBackend):
    def authenticate(self, request, *, one_time_login_user=None, **kwargs):
        if one_time_login_user is not None and self.user_can_authenticate(one_time_login_user):
            return one_time_login_user
        return None
