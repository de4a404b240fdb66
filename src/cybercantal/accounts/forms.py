"""Forms of the accounts pages. They validate input; services do the writing."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cybercantal.territory.selectors import commune_list

from .services import phone_normalize


def _attrs(**attrs) -> dict:
    return attrs


# The contact fields appear in three forms (my details, sign-up, an account created on someone's
# behalf); they differ only by help text and autocomplete (off when an agent types for someone).
def _email_field(*, autocomplete: str = "email") -> forms.EmailField:
    return forms.EmailField(
        label=_("Adresse électronique"),
        required=False,
        widget=forms.EmailInput(attrs=_attrs(autocomplete=autocomplete)),
    )


def _phone_field(*, help_text, autocomplete: str = "tel") -> forms.CharField:
    return forms.CharField(
        label=_("Téléphone portable"),
        required=False,
        max_length=40,
        help_text=help_text,
        widget=forms.TextInput(
            attrs=_attrs(autocomplete=autocomplete, inputmode="tel", type="tel")
        ),
    )


def _home_commune_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Commune de résidence"),
        queryset=commune_list(),
        required=False,
        empty_label=_("— Non renseignée —"),
    )


class _PhoneCleaningMixin:
    def clean_phone(self) -> str:
        return phone_normalize(self.cleaned_data.get("phone", ""))


class PasswordLoginForm(forms.Form):
    identifier = forms.CharField(
        label=_("Identifiant, adresse électronique ou numéro de portable"),
        max_length=254,
        widget=forms.TextInput(
            attrs=_attrs(autocomplete="username", autocapitalize="none", spellcheck="false")
        ),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="current-password")),
    )


class LinkRequestForm(forms.Form):
    identifier = forms.CharField(
        label=_("Votre adresse électronique"),
        help_text=_("Vous recevrez un lien : il suffit de cliquer dessus pour être connecté."),
        max_length=254,
        widget=forms.TextInput(
            attrs=_attrs(
                autocomplete="email", inputmode="email", autocapitalize="none", spellcheck="false"
            )
        ),
    )


class CodeRequestForm(forms.Form):
    identifier = forms.CharField(
        label=_("Votre numéro de téléphone portable"),
        help_text=_("Par exemple 06 12 34 56 78. Vous recevrez un code à 6 chiffres par SMS."),
        max_length=40,
        widget=forms.TextInput(attrs=_attrs(autocomplete="tel", inputmode="tel", type="tel")),
    )


class OneTimeCodeField(forms.CharField):
    def __init__(self, *, label, help_text="", max_length=6, **kwargs):
        super().__init__(
            label=label,
            help_text=help_text,
            max_length=max_length + 4,  # spaces typed between groups of digits
            widget=forms.TextInput(
                attrs=_attrs(
                    autocomplete="one-time-code",
                    inputmode="numeric",
                    pattern=r"[0-9 ]*",
                    autocapitalize="none",
                    spellcheck="false",
                )
            ),
            **kwargs,
        )


class CodeVerifyForm(forms.Form):
    code = OneTimeCodeField(
        label=_("Code reçu par SMS"), help_text=_("Les 6 chiffres du message, sans espace.")
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise ValidationError(_("Le code compte exactement 6 chiffres."), code="format")
        return code


class ContactCodeForm(forms.Form):
    """The code sent to prove an e-mail address or a mobile number (sign-up, new contact)."""

    code = OneTimeCodeField(label=_("Code reçu"), help_text=_("Les 6 chiffres du message."))

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        if channel == "phone":
            self.fields["code"].label = _("Code reçu par SMS")
        else:
            self.fields["code"].label = _("Code reçu par courriel")

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise ValidationError(_("Le code compte exactement 6 chiffres."), code="format")
        return code


class TwoFactorVerifyForm(forms.Form):
    token = forms.CharField(
        label=_("Code de votre application d'authentification, ou code de secours"),
        help_text=_("6 chiffres affichés par l'application, ou l'un de vos codes de secours."),
        max_length=20,
        widget=forms.TextInput(
            attrs=_attrs(
                autocomplete="one-time-code",
                autocapitalize="none",
                spellcheck="false",
            )
        ),
    )


class TwoFactorSetupForm(forms.Form):
    token = OneTimeCodeField(
        label=_("Code affiché par l'application"),
        help_text=_("Les 6 chiffres que l'application affiche après avoir scanné le QR code."),
    )


class ContactForm(_PhoneCleaningMixin, forms.Form):
    email = forms.EmailField(
        label=_("Adresse électronique"),
        required=False,
        help_text=_("Une nouvelle adresse est enregistrée une fois confirmée par un code."),
        widget=forms.EmailInput(attrs=_attrs(autocomplete="email")),
    )
    phone = _phone_field(
        help_text=_(
            "Pour recevoir des codes et des rappels par SMS. Exemple : 06 12 34 56 78. Un "
            "nouveau numéro est enregistré une fois confirmé par un code."
        )
    )
    home_commune = _home_commune_field()
    postal_address = forms.CharField(
        label=_("Adresse postale"),
        required=False,
        max_length=500,
        help_text=_("Nécessaire pour recevoir des courriers."),
        widget=forms.Textarea(attrs=_attrs(rows=3, autocomplete="street-address")),
    )
    prefers_sms = forms.BooleanField(label=_("Je préfère être prévenu(e) par SMS"), required=False)
    prefers_letter = forms.BooleanField(
        label=_("Je préfère recevoir des courriers papier"), required=False
    )


class PasswordSetForm(forms.Form):
    """Choose a password; the current one is asked when the account has one."""

    old_password = forms.CharField(
        label=_("Mot de passe actuel"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="current-password")),
    )
    new_password1 = forms.CharField(
        label=_("Nouveau mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
    )
    new_password2 = forms.CharField(
        label=_("Nouveau mot de passe (à nouveau)"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields[
            "new_password1"
        ].help_text = password_validation.password_validators_help_text_html()
        if not user.has_usable_password():
            del self.fields["old_password"]

    def clean_old_password(self) -> str:
        old = self.cleaned_data.get("old_password", "")
        if not self.user.check_password(old):
            raise ValidationError(_("Le mot de passe actuel n'est pas le bon."), code="wrong")
        return old

    def clean(self):
        cleaned = super().clean()
        new1, new2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if new1 and new2 and new1 != new2:
            self.add_error(
                "new_password2",
                ValidationError(_("Les deux mots de passe sont différents."), code="mismatch"),
            )
        elif new1:
            try:
                password_validation.validate_password(new1, self.user)
            except ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class OnBehalfForm(_PhoneCleaningMixin, forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    phone = _phone_field(
        help_text=_("La personne pourra se connecter avec un code reçu par SMS."),
        autocomplete="off",
    )
    email = _email_field(autocomplete="off")
    home_commune = _home_commune_field()


class RegisterForm(_PhoneCleaningMixin, forms.Form):
    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=150,
        widget=forms.TextInput(attrs=_attrs(autocomplete="given-name")),
    )
    last_name = forms.CharField(
        label=_("Nom"),
        max_length=150,
        widget=forms.TextInput(attrs=_attrs(autocomplete="family-name")),
    )
    email = forms.EmailField(
        label=_("Adresse électronique"),
        required=False,
        help_text=_("Nous y enverrons un code pour vérifier qu'elle est bien à vous."),
        widget=forms.EmailInput(attrs=_attrs(autocomplete="email")),
    )
    phone = _phone_field(
        help_text=_(
            "Ou, à la place de l'adresse électronique : nous y enverrons un code par SMS. "
            "Exemple : 06 12 34 56 78."
        )
    )
    home_commune = _home_commune_field()
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
        help_text=password_validation.password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("Mot de passe (à nouveau)"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
    )

    def clean(self):
        cleaned = super().clean()
        email, phone = cleaned.get("email"), cleaned.get("phone")
        if not email and not phone and not self.has_error("phone"):
            self.add_error(
                "email",
                ValidationError(
                    _("Indiquez une adresse électronique ou un numéro de portable."),
                    code="contact_required",
                ),
            )
        elif email and phone:
            # The code goes to one of them; the other is added later and proven the same way.
            self.add_error(
                "phone",
                ValidationError(
                    _(
                        "Indiquez soit une adresse électronique, soit un numéro de portable : "
                        "nous y enverrons un code. Vous pourrez ajouter l'autre ensuite depuis "
                        "votre compte."
                    ),
                    code="one_contact",
                ),
            )
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error(
                "password2",
                ValidationError(_("Les deux mots de passe sont différents."), code="mismatch"),
            )
        elif p1:
            # Checked here, before a code is sent (and counted against the rate limit); the
            # service checks again.
            person = get_user_model()(
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=email or "",
            )
            try:
                password_validation.validate_password(p1, person)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ErasureRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif (facultatif)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=_attrs(rows=3)),
    )
    confirm = forms.BooleanField(
        label=_("Je comprends que mon compte et mes données seront effacés définitivement."),
    )


class ErasureProcessForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[("approve", _("Effacer le compte")), ("refuse", _("Refuser"))],
        widget=forms.RadioSelect,
    )
    response = forms.CharField(
        label=_("Réponse à la personne"),
        required=False,
        max_length=2000,
        help_text=_("Obligatoire en cas de refus."),
        widget=forms.Textarea(attrs=_attrs(rows=2)),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not (cleaned.get("response") or "").strip():
            self.add_error(
                "response",
                ValidationError(_("Expliquez le refus à la personne."), code="required"),
            )
        return cleaned


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=100,
        help_text=_("Pour le reconnaître, par exemple l'outil qui l'utilisera."),
    )
