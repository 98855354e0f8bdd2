"""The one exception every workflow step raises when it may not happen now."""

from django.core.exceptions import ValidationError


class Refused(ValidationError):
    """A transition that may not happen now; the message says why, for the user."""
