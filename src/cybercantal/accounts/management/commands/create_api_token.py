"""Create a personal API token for an account, from the command line.

Only the raw token goes to standard output, so that it can be piped or captured:
    TOKEN=$(manage.py create_api_token agent.dupont --name "Export tableur")
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cybercantal.accounts.models import User
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

    def handle(self, *args, username: str, name: str, **options):
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
        try:
            # The token belongs to the account, so the account is the actor of the audit row.
            _token, raw = api_token_create(actor=user, name=name)
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(raw)
