from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from accounts import throttling

        # Every failed password counts, wherever it was typed (the sign-in page, the admin's).
        def failed(sender, credentials, request=None, **kwargs):
            username = credentials.get("username")
            if username:
                throttling.signin_failed(request, username)

        def succeeded(sender, request, user, **kwargs):
            throttling.signin_succeeded(request, user.get_username())

        user_login_failed.connect(failed, dispatch_uid="accounts.signin_failed", weak=False)
        user_logged_in.connect(succeeded, dispatch_uid="accounts.signin_succeeded", weak=False)
