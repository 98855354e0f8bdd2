"""The login form: Django's, with the username's length checked before anyone looks it up."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets max_length on the field after building it, so no validator checks it:
        # a 256-character name went on to authentication and the lockout table (255 wide).
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))
