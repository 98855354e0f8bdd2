"""The accounts' own signals, so that the security record listens instead of being called.

- `password_changed(sender=User, user, by, how, request)`: a password was set. `by` is the
  user who set it (the user themself, or an administrator); `how` is one of "self",
  "reset" (a one-time link or code), "admin" (set by an administrator), "first_login"
  (the forced change after an administrator-set password).
- `password_reset_issued(sender=User, user, by, how, request)`: a one-time link or code was
  issued (`how`: "admin", "email", "sms").
"""

from django.dispatch import Signal

password_changed = Signal()
password_reset_issued = Signal()
