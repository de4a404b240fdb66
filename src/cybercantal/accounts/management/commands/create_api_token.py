"""Create a personal API token for an account, from the command line.

Only the raw token goes to standard output, so that it can be piped or captured:
    TOKEN=$(manage.py create_api_token agent.dupont --name "Export tableur")

A platform administrator's token is refused unless --allow-admin is given: a token
authenticates API calls without the second factor administrators must use on the site, so
minting one must be a deliberate decision (see accounts.perms, "Personal API tokens").
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cybercantal.accounts.models import User
from cybercantal.accounts.perms import api_token_needs_second_factor
from cybercantal.accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Crée un jeton d'API personnel pour un compte et affiche le jeton (une seule fois)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Identifiant du compte (casse indifférente).")
        parser.add_argument(
            "--name",
            default="Jeton créé en ligne de commande",
            help="Nom du jeton, pour le reconnaître dans la liste des jetons.",
        )
        parser.add_argument(
            "--allow-admin",
            action="store_true",
            help=(
                "Autorise un jeton pour un administrateur de la plateforme. Un jeton ne passe "
                "pas par la double authentification : à n'utiliser qu'en connaissance de cause."
            ),
        )

    def handle(self, *args, username: str, name: str, allow_admin: bool = False, **options):
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(
                _("Compte inconnu : « %(username)s ».") % {"username": username}
            ) from None
        if not user.is_active:
            raise CommandError(
                _("Le compte « %(username)s » est désactivé.") % {"username": username}
            )
        if api_token_needs_second_factor(user) and not allow_admin:
            raise CommandError(
                _(
                    "« %(username)s » est administrateur de la plateforme : son jeton "
                    "contournerait la double authentification. Ajoutez --allow-admin si c'est "
                    "voulu."
                )
                % {"username": username}
            )
        try:
            # The token belongs to the account, so the account is the actor of the audit row.
            _token, raw = api_token_create(
                actor=user, name=name, second_factor_verified=allow_admin
            )
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(raw)
