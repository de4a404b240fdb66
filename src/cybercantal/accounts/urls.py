from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    # Login and logout (RequireTwoFactorMiddleware and settings refer to these names).
    path("connexion/", views.login_view, name="login"),
    path("connexion/lien/", views.login_link_request, name="login_link_request"),
    path("connexion/lien/<int:login_id>/<str:secret>/", views.login_link, name="login_link"),
    path("connexion/sms/", views.login_code_request, name="login_code_request"),
    path("connexion/code/", views.login_code_verify, name="login_code_verify"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("inscription/", views.register, name="register"),
    path("inscription/code/", views.register_verify, name="register_verify"),
    path("inscription/nouveau-code/", views.register_resend, name="register_resend"),
    # Two-factor authentication.
    path("double-authentification/", views.two_factor_setup, name="two_factor_setup"),
    path(
        "double-authentification/verification/",
        views.two_factor_verify,
        name="two_factor_verify",
    ),
    path(
        "double-authentification/codes-de-secours/",
        views.two_factor_backup_codes,
        name="two_factor_backup_codes",
    ),
    path(
        "double-authentification/desactiver/",
        views.two_factor_disable,
        name="two_factor_disable",
    ),
    # The account page.
    path("", views.profile, name="profile"),
    path("coordonnees/", views.contact_edit, name="contact_edit"),
    path("coordonnees/confirmation/", views.contact_verify, name="contact_verify"),
    path("mot-de-passe/", views.password_change, name="password_change"),
    path("jetons/", views.api_tokens, name="api_tokens"),
    path("jetons/<int:token_id>/revoquer/", views.api_token_revoke, name="api_token_revoke"),
    # Personal data.
    path("mes-donnees/", views.personal_data, name="personal_data"),
    path("mes-donnees/telecharger/", views.personal_data_download, name="personal_data_download"),
    path("mes-donnees/effacement/", views.erasure_request, name="erasure_request"),
    path("effacements/", views.erasure_requests, name="erasure_requests"),
    path(
        "effacements/<int:request_id>/traiter/",
        views.erasure_request_process,
        name="erasure_request_process",
    ),
    # Accounts created at a desk or over the phone.
    path("creer-un-compte/", views.account_create_on_behalf, name="account_create_on_behalf"),
]
