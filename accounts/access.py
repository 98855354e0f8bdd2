"""Who counts as what, before any app's own rules: the one committee-staff check."""


def is_committee(user):
    """Committee staff (提案委), and superusers: they register, review, assign, supervise."""
    return user.is_authenticated and (user.is_committee_staff or user.is_superuser)
