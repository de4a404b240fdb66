from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.accounts.models import Role, User
from cybercantal.core.demo import (
    ACCOUNTS,
    DEMO_BACKUP_CODES,
    DEMO_PASSWORD,
    DEMO_TOTP_DEVICE_NAME,
    DemoError,
    check_demo_allowed,
    demo_totp_secret,
)


class Command(BaseCommand):
    help = "Affiche l'adresse du site et les comptes de démonstration (un par rôle)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port du serveur local.")

    def handle(self, *args, port, **options):
        try:
            check_demo_allowed()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        usernames = [account.username for account in ACCOUNTS]
        existing = set(
            User.objects.filter(username__in=usernames, is_demo=True).values_list(
                "username", flat=True
            )
        )
        if missing := [name for name in usernames if name not in existing]:
            raise CommandError(
                f"Comptes de démonstration absents ({', '.join(missing)}). "
                "Lancez d'abord : manage.py seed_demo"
            )

        out = self.stdout.write
        out("")
        out(self.style.SUCCESS(f"CyberCantal est ouvert sur http://127.0.0.1:{port}/"))
        out(f"Comptes de démonstration — mot de passe commun : {DEMO_PASSWORD}")
        out("")
        rows = [("Rôle", "Identifiant", "Mot de passe", "À essayer d'abord")]
        rows += [
            (str(Role(a.role).label), a.username, DEMO_PASSWORD, a.try_first) for a in ACCOUNTS
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for number, row in enumerate(rows):
            out(
                "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
                + "  "
                + row[3]
            )
            if number == 0:
                out("  ".join("-" * width for width in widths) + "  " + "-" * len(row[3]))
        self.print_two_factor(out)

    def print_two_factor(self, out) -> None:
        device = TOTPDevice.objects.filter(
            user__username="demo-admin", name=DEMO_TOTP_DEVICE_NAME
        ).first()
        if device is None:
            return
        token = totp(
            device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
        )
        code = f"{token:0{device.digits}d}"
        out("")
        out("Double authentification de demo-admin (obligatoire pour l'administrateur) :")
        out(f"  application TOTP : {device.config_url}")
        out(f"  clé à saisir     : {demo_totp_secret()}")
        out(f"  code à l'instant : {code} (change toutes les {device.step} s)")
        out(f"  codes de secours : {', '.join(DEMO_BACKUP_CODES)} (chacun sert une fois)")
        out("")
