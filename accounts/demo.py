"""Demo users for `load_demo`. Passwords are fixed and printed: this data is for a local trial only."""

from __future__ import annotations

from accounts.models import User

DEMO_USERS = [
    # username, password, e-mail, is_staff, represented CA owner names
    ("staff", "rootwatch-staff", "staff@rootwatch.test", True, []),
    ("carep", "rootwatch-carep", "carep@rootwatch.test", False, ["DigiCert"]),
    ("reviewer", "rootwatch-reviewer", "reviewer@rootwatch.test", False, []),
]


def load(stdout) -> None:
    # The CA owner model through the field that names it (registry sits a floor above accounts).
    CAOwner = User._meta.get_field("represented_owners").related_model

    for username, password, email, staff, owner_names in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": email, "is_staff": staff})
        if created:
            user.set_password(password)
            user.save()
        for name in owner_names:
            owner, _ = CAOwner.objects.get_or_create(name=name)
            user.represented_owners.add(owner)
        stdout.write(f"  {username:<9} password {password:<20} {'(new)' if created else '(kept)'}")
