"""Where an app built on `proposals` adds to its screens, so that `proposals` never imports it.

`replies` (reply letters, receipts) builds on `proposals`; the proposal page and the
workspace show its letters. Rather than `proposals` reaching into `replies`, `replies`
registers here when it is loaded (its AppConfig.ready):

- `proposal_page(request, proposal, viewer)` → a section dict or None: `template` (drawn
  below the actions), `actions_template` (optional, drawn inside the actions panel), and
  whatever context those templates use;
- `workspace_panels(user)` → a dict of counts and links merged into the workspace panels;
- `timeline_rules(user, proposal)` → {object_type: TimelineRule}: which audit events about
  the app's objects the viewer may read, and how their states are named;
- `reminder_items(today, soon)` → iterable of (assignment, Reminder.Kind, due date): the
  app's deadlines for `send_reminders` (e.g. publishing a sent reply);
- `EVENT_LABELS`: the app's audit verbs, as the timeline shows them.
"""

from collections import defaultdict
from dataclasses import dataclass, field

_registry = defaultdict(list)

# Audit verb → label; proposals' own verbs are added by proposals.access, other apps' by them.
EVENT_LABELS = {}


def register(name):
    """Decorator: add a function to a hook."""

    def decorator(func):
        if func not in _registry[name]:
            _registry[name].append(func)
        return func

    return decorator


def call(name, *args, **kwargs):
    """Each registered function's answer, in registration order (None answers left out)."""
    results = (func(*args, **kwargs) for func in _registry[name])
    return [result for result in results if result is not None]


@dataclass
class TimelineRule:
    """How the timeline treats the events about one kind of object."""

    # The object ids whose internal events (`internal_verbs`) the viewer may read.
    internal_ids: set = field(default_factory=set)
    internal_verbs: frozenset = frozenset()
    # The object's state choices, to name from/to states.
    states: type | None = None
    # Verbs whose comment only insiders (committee, the units) read.
    private_comment_verbs: frozenset = frozenset()

    def hides(self, event):
        return event.verb in self.internal_verbs and event.object_id not in self.internal_ids

    def state_label(self, value):
        if self.states is not None and value in self.states.values:
            return self.states(value).label
        return value
