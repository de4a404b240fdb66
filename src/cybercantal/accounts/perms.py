"""Who may do what with accounts. One place to read it; services check these first.

Platform administration is a role held through a membership, like every other role: Django's
`is_superuser` flag grants nothing here, so that no one escapes the two-factor requirement of
platform administrators (RequireTwoFactorMiddleware checks the role too)."""

import rules

from cybercantal.core import registries

from .models import ROLES_HANDLING_PERSONAL_DATA, Role

ROLES_CREATING_ACCOUNTS_ON_BEHALF = frozenset(
    {Role.MEDIATOR, Role.DEPARTMENT_AGENT, Role.TIERS_LIEU_MANAGER, Role.PLATFORM_ADMIN}
)


@rules.predicate
def is_authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def has_role(*roles: str) -> rules.Predicate:
    """A predicate true for a signed-in person holding one of `roles` (active membership)."""
    wanted = frozenset(roles)

    def check(user) -> bool:
        return is_authenticated(user) and user.has_role(*wanted)

    return rules.predicate(check, name=f"has_role({', '.join(sorted(wanted))})")


is_platform_admin = has_role(Role.PLATFORM_ADMIN)


@rules.predicate
def is_self(user, person) -> bool:
    return is_authenticated(user) and person is not None and user.pk == person.pk


@rules.predicate
def is_active_person(user) -> bool:
    return is_authenticated(user) and user.is_active and getattr(user, "erased_at", None) is None


@rules.predicate
def owns_token(user, token) -> bool:
    return is_authenticated(user) and token is not None and token.user_id == user.pk


@rules.predicate
def handles_personal_data_in_a_module(user) -> bool:
    """A module's team without a role (core.registries.personal_data_handlers)."""
    return is_authenticated(user) and registries.handles_personal_data_in_a_module(user)


# Two-factor authentication protects people who see others' personal data; it is offered to
# them only, to keep the residents' path simple.
can_enable_two_factor = has_role(*ROLES_HANDLING_PERSONAL_DATA) | handles_personal_data_in_a_module
# Platform administrators must keep it (see RequireTwoFactorMiddleware).
can_disable_two_factor = is_authenticated & ~is_platform_admin
can_create_account_on_behalf = has_role(*ROLES_CREATING_ACCOUNTS_ON_BEHALF)
can_process_erasure = is_platform_admin
# A person downloads their own data; an administrator answers a request made by letter.
can_export_personal_data = is_self | is_platform_admin
# A person changes their own contact details (proving a new e-mail or phone is theirs); a
# platform administrator may change anyone's, and vouches for them.
can_update_contact = is_self | is_platform_admin
contact_change_needs_proof = is_self

# Personal API tokens. A token authenticates API calls without any second factor, for as long
# as it lives: for a platform administrator it would turn a stolen password, or a session
# opened before two-factor authentication, into lasting administration rights through the API,
# around the obligation RequireTwoFactorMiddleware enforces on the site. So an administrator's
# token is minted only by a session verified by the second factor, or by an operator who has
# shell access and says so (`create_api_token --allow-admin`): see tokens.api_token_create.
can_create_api_token = is_active_person
api_token_needs_second_factor = is_platform_admin
can_revoke_api_token = owns_token | is_platform_admin

rules.add_perm("accounts.enable_two_factor", can_enable_two_factor)
rules.add_perm("accounts.disable_two_factor", can_disable_two_factor)
rules.add_perm("accounts.create_account_on_behalf", can_create_account_on_behalf)
rules.add_perm("accounts.process_erasure", can_process_erasure)
rules.add_perm("accounts.export_personal_data", can_export_personal_data)
rules.add_perm("accounts.update_contact", can_update_contact)
rules.add_perm("accounts.create_api_token", can_create_api_token)
rules.add_perm("accounts.revoke_api_token", can_revoke_api_token)
