"""Synthetic proposals at scale, with their whole handling history (`manage.py generate_data`).

Adds N proposals with their whole handling history (proposers, assignments, co-handling
opinions, contact records, reply letters, publications, receipts, audit events) to
fifteen sessions of terms 13–15 (2012–2026), on top of whatever the database holds.
Units, users and proposers it needs are created once and marked (unit names end in
（样本）, usernames start with gen_), so running it again adds N more proposals.
"""

import bisect
import datetime
import itertools
import queue
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max

from accounts.models import Membership, Proposer, Unit, User
from core import pagecache
from proposals.models import (
    Assignment,
    Category,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    ProposalProposer,
    RejectionReason,
    Session,
    Term,
)
from replies.models import DocNumberSequence, Publication, Receipt, ReplyLetter

from . import seed
from . import synthetic as words

State = Proposal.State
Role = Assignment.Role
Mode = Proposal.HandlingMode

CST = datetime.timezone(datetime.timedelta(hours=8))
# (term, number) of the session the demo data (load_demo) lives in.
DEMO_SESSION = (15, 1)
DAY = datetime.timedelta(days=1)

# The data's "today": fixed, so that the same seed always gives the same rows.
REFERENCE_NOW = datetime.datetime(2026, 10, 30, 9, 30, tzinfo=CST)

# Five plenaries a term, one each January.
PLAN = [
    (term, number, datetime.date(2012 + (term - 13) * 5 + number - 1, 1, 8 + number))
    for term in (13, 14, 15)
    for number in range(1, 6)
]

_NOT_ACCEPTED = {State.MERGED: 3, State.CONVERTED: 2, State.REJECTED: 4, State.WITHDRAWN: 1}
# Percent of a session's proposals in each state, by the session's age (0 = current).
STATE_SHARES = {
    0: {
        State.DRAFT: 1,
        State.AWAITING_COSIGNERS: 1,
        State.SUBMITTED: 4,
        State.ACCEPTED: 3,
        State.ASSIGNED: 6,
        State.HANDLING: 24,
        State.REPLIED: 22,
        State.CLOSED: 29,
        **_NOT_ACCEPTED,
    },
    1: {State.HANDLING: 2, State.REPLIED: 8, State.CLOSED: 80, **_NOT_ACCEPTED},
    2: {State.CLOSED: 90, **_NOT_ACCEPTED},
}
NUMBERED = {State.ACCEPTED, State.ASSIGNED, State.HANDLING, State.REPLIED, State.CLOSED}
ASSIGNED = {State.ASSIGNED, State.HANDLING, State.REPLIED, State.CLOSED}
HANDLED = {State.HANDLING, State.REPLIED, State.CLOSED}
ANSWERED = {State.REPLIED, State.CLOSED}


class Weights:
    """A weighted choice, with the cumulative weights worked out once."""

    def __init__(self, weights):
        self.population = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def pick(self, rng):
        return self.population[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


KIND_WEIGHTS = Weights(
    {
        Proposal.Kind.INDIVIDUAL: 57,
        Proposal.Kind.COSIGNED: 25,
        Proposal.Kind.PARTY: 10,
        Proposal.Kind.SECTOR: 4,
        Proposal.Kind.SPECIAL_COMMITTEE: 4,
    }
)
MODE_WEIGHTS = Weights({Mode.SINGLE: 55, Mode.JOINT: 35, Mode.SPLIT: 10})
RESULT_WEIGHTS = Weights({"A": 55, "B": 35, "C": 10})
ATTITUDE_WEIGHTS = Weights({"satisfied": 85, "basically": 12, "dissatisfied": 3})
RESULT_RATING_WEIGHTS = {
    "A": Weights({"satisfied": 88, "basically": 10, "understand": 1, "dissatisfied": 1}),
    "B": Weights({"satisfied": 72, "basically": 20, "understand": 5, "dissatisfied": 3}),
    "C": Weights({"satisfied": 40, "basically": 30, "understand": 20, "dissatisfied": 10}),
}
METHOD_WEIGHTS = Weights(
    {"meeting": 35, "phone": 30, "visit": 15, "forum": 10, "email": 5, "letter": 5}
)
COLLECTIVE_KIND = {
    Proposal.Kind.PARTY: ("party", "group"),
    Proposal.Kind.SECTOR: ("sector",),
    Proposal.Kind.SPECIAL_COMMITTEE: ("special_committee",),
}
DISCLOSURE_WEIGHTS = Weights(
    {
        ReplyLetter.Disclosure.FULL: 88,
        ReplyLetter.Disclosure.SUMMARY: 9,
        ReplyLetter.Disclosure.NONE: 3,
    }
)
ROLE_NAMES = {Role.LEAD: "主办", Role.CO: "协办", Role.SPLIT: "分办"}
MEMBER_COUNT = 366  # with the 34 collectives, 400 proposers


def quotas(n, shares, at_least_one):
    """Split n by percent shares (largest remainder), each state at least once if asked."""
    total = sum(shares.values())
    exact = {k: n * v / total for k, v in shares.items()}
    counts = {k: int(v) for k, v in exact.items()}
    if at_least_one and n >= len(shares):
        for k in counts:
            counts[k] = max(counts[k], 1)
    rest = n - sum(counts.values())
    by_remainder = sorted(shares, key=lambda k: exact[k] - int(exact[k]), reverse=True)
    i = 0
    while rest > 0:
        counts[by_remainder[i % len(by_remainder)]] += 1
        rest -= 1
        i += 1
    while rest < 0:  # the minimums overshot: take from the largest
        biggest = max(counts, key=counts.get)
        counts[biggest] -= 1
        rest += 1
    return counts


@contextmanager
def explicit_timestamps(*models):
    """Let bulk_create keep the historical created_at/updated_at we set, not 'now'."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Ids:
    """Primary keys handed out before rows are written, so that a batch is built whole.

    On PostgreSQL they are reserved from the table's sequence, safe next to other
    writers; elsewhere they count on from the largest id (a development database).
    """

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.next = {}

    def assign(self, model, objs):
        if not objs:
            return
        opts = model._meta
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [opts.db_table, opts.pk.column, len(objs)],
                )
                ids = [pk for (pk,) in cursor.fetchall()]
        else:
            start = self.next.get(model)
            if start is None:
                start = (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
            ids = range(start, start + len(objs))
            self.next[model] = start + len(objs)
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk


class Inserter:
    """Writes many new rows of one model: COPY on PostgreSQL, bulk_create elsewhere.

    Django's bulk_create spends most of its time preparing each value; COPY takes the
    attribute values as they are (plain Python values: no files, no expressions), several
    times faster at 100,000 proposals. Rows are model instances (with their ids handed
    out already) or, faster to build, dicts of attribute values.
    """

    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.use_copy = connection.vendor == "postgresql"

    def __call__(self, model, objs):
        if not objs:
            return
        as_dicts = isinstance(objs[0], dict)
        if not self.use_copy:
            if as_dicts:
                objs = [model(**row) for row in objs]
            model.objects.bulk_create(objs, batch_size=self.batch_size)
            return
        opts = model._meta
        with_pk = not as_dicts and objs[0].pk is not None
        fields = [f for f in opts.concrete_fields if with_pk or not f.primary_key]
        attnames = [f.attname for f in fields]
        defaults = {f.attname: f.get_default() for f in fields} if as_dicts else {}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(opts.db_table)
        sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for obj in objs:
                if as_dicts:
                    values = [obj.get(name, defaults[name]) for name in attnames]
                else:
                    values = [obj.__dict__[name] for name in attnames]
                copy.write_row(values)


def in_background(iterable, ahead=2):
    """Iterate in a thread, up to `ahead` items in advance.

    Building the next batch is Python work and writing this one is the database
    server's, so on a machine with two cores the two overlap.
    """
    items = queue.Queue(maxsize=ahead)
    stop = threading.Event()
    end = object()

    def offer(item):
        """Queue the item unless the consumer has stopped; False once it has."""
        while not stop.is_set():
            try:
                items.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterable:
                if not offer(item):
                    return
            offer(end)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=produce, name="generate_data", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


@dataclass(eq=False)
class Spec:
    """One proposal to write, with what hangs off it."""

    proposal: Proposal
    topic: str
    label: str  # 第十五届委员会第一次会议
    proposers: list
    t: dict  # stage → aware datetime
    units: list = field(default_factory=list)  # [(unit, role)]
    suggested: list = field(default_factory=list)
    result_class: str = ""
    merged_target: "Spec | None" = None
    returned_from: "Unit | None" = None
    return_refused: bool = False


class Generator:
    """Builds proposals batch by batch from one seeded random generator, and writes them."""

    def __init__(self, seed, batch_size=5000, password="", write=print):
        self.rng = random.Random(seed)
        self.batch_size = batch_size
        self.password = password
        self.write = write
        self.insert = Inserter(batch_size)
        self.ids = Ids()

    def run(self, n):
        started = time.monotonic()
        with transaction.atomic():
            self.setup()
        self.write(f"Reference data ready ({time.monotonic() - started:.1f} s).")
        batches = self.build_batches(n)
        if connection.vendor == "postgresql":
            batches = in_background(batches)
        done = 0
        for built in batches:
            done += self.write_batch(built)
            self.write(f"  {done}/{n} proposals ({time.monotonic() - started:.1f} s)")
        self.write(f"Generated {done} proposals in {time.monotonic() - started:.1f} s.")
        # Written around the workflow (COPY): the kept staff lists are stale all the same.
        pagecache.bump()
        # The rows were written by COPY (or in bulk): their search columns, in batches.
        from replies.management.commands.reindex_search import reindex_all

        reindex_all(2000, self.write)
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner: right after a bulk load, before autovacuum has
            # looked, the public column took 0.9–1.9 s a page instead of milliseconds.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.write("Analyzed the tables for the query planner.")

    # --- reference data: created once, found again on later runs ---------------------------

    def setup(self):
        self.setup_units()
        self.setup_users()
        self.setup_proposers()
        self.setup_categories()
        self.setup_sessions()
        self.setup_doc_numbers()

    def setup_units(self):
        names = [f"{words.DISTRICT}{full}{words.UNIT_MARK}" for full, *_ in words.UNITS]
        existing = {u.name: u for u in Unit.objects.filter(name__in=names)}
        Unit.objects.bulk_create(
            [
                Unit(
                    name=name,
                    short_name=short,
                    kind=kind,
                    doc_number_template=f"梁平{abbr}函〔{{year}}〕{{n}}号",
                )
                for name, (_full, short, kind, abbr) in zip(names, words.UNITS, strict=True)
                if name not in existing
            ]
        )
        by_name = {u.name: u for u in Unit.objects.filter(name__in=names)}
        self.units = [by_name[name] for name in names]
        self.unit_by_short = {u.short_name: u for u in self.units}
        self.unit_by_pk = {u.pk: u for u in self.units}
        self.handling_units = [
            u for u in self.units if u.kind not in (Unit.Kind.COMMITTEE, Unit.Kind.SUPERVISION)
        ]
        self.copied_units = [
            u for u in self.units if u.kind in (Unit.Kind.COMMITTEE, Unit.Kind.SUPERVISION)
        ]
        self.towns = {u.short_name: u for u in self.units if u.kind == Unit.Kind.TOWNSHIP}

    def setup_users(self):
        rng = random.Random("people")  # the same people whatever the seed
        password = make_password(self.password or None)
        wanted = {f"{words.USERNAME_PREFIX}staff": ("提案委工作人员", {"is_committee_staff": True})}
        for i, _unit in enumerate(self.units, 1):
            wanted[f"{words.USERNAME_PREFIX}u{i:02d}h"] = (words.person_name(rng), {})
            wanted[f"{words.USERNAME_PREFIX}u{i:02d}l"] = (words.person_name(rng), {})
        self.member_names = [words.person_name(rng) for _ in range(MEMBER_COUNT)]
        for i, name in enumerate(self.member_names, 1):
            wanted[f"{words.USERNAME_PREFIX}m{i:03d}"] = (name, {})
        for i, (_kind, name) in enumerate(words.COLLECTIVES, 1):
            wanted[f"{words.USERNAME_PREFIX}c{i:02d}"] = (name, {})
        existing = set(
            User.objects.filter(username__in=list(wanted)).values_list("username", flat=True)
        )
        User.objects.bulk_create(
            [
                User(username=username, full_name=full_name, password=password, **extra)
                for username, (full_name, extra) in wanted.items()
                if username not in existing
            ]
        )
        self.users = {u.username: u for u in User.objects.filter(username__in=list(wanted))}
        self.staff = self.users[f"{words.USERNAME_PREFIX}staff"]
        self.handler = {}
        self.leader = {}
        memberships = []
        for i, unit in enumerate(self.units, 1):
            self.handler[unit.pk] = self.users[f"{words.USERNAME_PREFIX}u{i:02d}h"]
            self.leader[unit.pk] = self.users[f"{words.USERNAME_PREFIX}u{i:02d}l"]
            memberships.append(
                Membership(user=self.handler[unit.pk], unit=unit, role=Membership.Role.HANDLER)
            )
            memberships.append(
                Membership(
                    user=self.leader[unit.pk],
                    unit=unit,
                    role=Membership.Role.LEADER,
                    title="主要领导",
                )
            )
        Membership.objects.bulk_create(memberships, ignore_conflicts=True)

    def setup_proposers(self):
        rng = random.Random("proposers")
        prefix = words.USERNAME_PREFIX
        existing = {
            p.user.username: p
            for p in Proposer.objects.filter(user__username__startswith=prefix).select_related(
                "user"
            )
        }
        rows = []
        for i, name in enumerate(self.member_names, 1):
            sector, party = rng.choice(words.SECTORS)
            party = party or rng.choice(words.OPEN_SECTOR_PARTIES)
            rows.append(
                Proposer(
                    kind=Proposer.Kind.MEMBER,
                    name=name,
                    user=self.users[f"{prefix}m{i:03d}"],
                    sector=sector,
                    party=party,
                    phone=f"139{rng.randrange(10**8):08d}",
                    address=f"梁平区{rng.choice(words.PLACES[9:])}",
                )
            )
        kinds = {
            "party": Proposer.Kind.PARTY,
            "group": Proposer.Kind.GROUP,
            "sector": Proposer.Kind.SECTOR,
            "special_committee": Proposer.Kind.SPECIAL_COMMITTEE,
        }
        for i, (kind, name) in enumerate(words.COLLECTIVES, 1):
            rows.append(
                Proposer(
                    kind=kinds[kind],
                    name=name,
                    user=self.users[f"{prefix}c{i:02d}"],
                    phone=f"023-5322{rng.randrange(10**4):04d}",
                )
            )
        Proposer.objects.bulk_create([p for p in rows if p.user.username not in existing])
        proposers = {
            p.user.username: p
            for p in Proposer.objects.filter(user__username__startswith=prefix).select_related(
                "user"
            )
        }
        self.members = [proposers[f"{prefix}m{i:03d}"] for i in range(1, MEMBER_COUNT + 1)]
        self.collectives = {}
        for i, (kind, _name) in enumerate(words.COLLECTIVES, 1):
            self.collectives.setdefault(kind, []).append(proposers[f"{prefix}c{i:02d}"])

    def setup_categories(self):
        names = list(words.CATEGORIES)
        existing = set(Category.objects.filter(name__in=names).values_list("name", flat=True))
        Category.objects.bulk_create(
            [
                Category(name=name, position=i)
                for i, name in enumerate(names, 1)
                if name not in existing
            ]
        )
        self.categories = list(Category.objects.filter(name__in=names))
        self.topics = {c.pk: words.CATEGORIES[c.name][0] for c in self.categories}
        self.category_units = {
            c.pk: [self.unit_by_short[s] for s in words.CATEGORIES[c.name][1]]
            for c in self.categories
        }
        codes = [code for code, _label in words.REJECTION_REASONS]
        existing = set(
            RejectionReason.objects.filter(code__in=codes).values_list("code", flat=True)
        )
        RejectionReason.objects.bulk_create(
            [
                RejectionReason(code=code, label=label)
                for code, label in words.REJECTION_REASONS
                if code not in existing
            ]
        )
        self.rejection_reasons = list(RejectionReason.objects.filter(code__in=codes))

    def setup_sessions(self):
        numbers = sorted({term for term, _n, _d in PLAN})
        existing = set(Term.objects.filter(number__in=numbers).values_list("number", flat=True))
        Term.objects.bulk_create(
            [
                Term(number=n, started_on=datetime.date(2012 + (n - 13) * 5, 1, 9))
                for n in numbers
                if n not in existing
            ]
        )
        terms = {t.number: t for t in Term.objects.filter(number__in=numbers)}
        existing = {
            (s.term.number, s.number)
            for s in Session.objects.filter(term__in=terms.values()).select_related("term")
        }
        Session.objects.bulk_create(
            [
                Session(term=terms[term], number=number, opened_on=opened_on)
                for term, number, opened_on in PLAN
                if (term, number) not in existing
            ]
        )
        sessions = {
            (s.term.number, s.number): s
            for s in Session.objects.filter(term__in=terms.values()).select_related("term")
        }
        # The planned opening dates, even for a session that was there before.
        self.sessions = [(sessions[term, number], opened_on) for term, number, opened_on in PLAN]
        if not Session.objects.filter(is_current=True).exists():
            latest = self.sessions[-1][0]
            latest.is_current = True
            latest.save(update_fields=["is_current"])
        last_numbers = dict(
            Proposal.objects.filter(session__in=[s for s, _ in self.sessions])
            .values("session")
            .annotate(last=Max("number"))
            .values_list("session", "last")
        )
        self.next_number = {s.pk: (last_numbers.get(s.pk) or 0) + 1 for s, _ in self.sessions}
        # The demo's session keeps the demo's numbers free (069 …), whichever loads first.
        demo_session = sessions.get(DEMO_SESSION)
        self.reserved = {demo_session.pk: seed.demo_numbers()} if demo_session else {}

    def setup_doc_numbers(self):
        """Document numbers continue each unit's yearly sequence and avoid any already used."""
        self.sequences = {
            (seq.unit_id, seq.year): seq.last
            for seq in DocNumberSequence.objects.filter(unit__in=self.units)
        }
        self.dirty_sequences = set()
        self.taken_doc_numbers = set(
            ReplyLetter.objects.exclude(doc_number="")
            .exclude(assignment__unit__in=self.units)
            .values_list("doc_number", flat=True)
        )

    def doc_number(self, unit, year):
        key = (unit.pk, year)
        while True:
            n = self.sequences.get(key, 0) + 1
            self.sequences[key] = n
            self.dirty_sequences.add(key)
            number = unit.doc_number_template.format(year=year, n=n)
            if number not in self.taken_doc_numbers:
                return number

    # --- proposals, session by session ----------------------------------------------------

    def specs(self, n):
        weights = {i: 1 + 0.06 * i for i in range(len(self.sessions))}
        per_session = quotas(n, weights, at_least_one=False)
        for i, (session, opened_on) in enumerate(self.sessions):
            age = len(self.sessions) - 1 - i
            yield from self.session_specs(session, opened_on, age, per_session[i])

    def session_specs(self, session, opened_on, age, n):
        if n == 0:
            return
        shares = STATE_SHARES[min(age, 2)]
        counts = quotas(n, shares, at_least_one=(age == 0))
        states = [state for state, count in counts.items() for _ in range(count)]
        self.rng.shuffle(states)
        label = words.session_label(session.term.number, session.number)
        specs = [self.make_spec(session, opened_on, label, state, age) for state in states]

        numbered = sorted(
            (s for s in specs if s.proposal.state in NUMBERED), key=lambda s: s.t["reviewed"]
        )
        reserved = self.reserved.get(session.pk, set())
        for spec in numbered:
            while self.next_number[session.pk] in reserved:
                self.next_number[session.pk] += 1
            spec.proposal.number = self.next_number[session.pk]
            self.next_number[session.pk] += 1
        merged = [s for s in specs if s.proposal.state == State.MERGED]
        for spec in merged:
            if numbered:
                spec.merged_target = self.rng.choice(numbered)
            else:  # nothing to merge into in a tiny session
                self.make_rejected(spec)
        # Merged proposals come last, so their target is written before them.
        order = sorted((s for s in specs if s.merged_target is None), key=lambda s: s.t["created"])
        yield from order
        yield from (s for s in merged if s.merged_target is not None)

    def make_spec(self, session, opened_on, label, state, age):
        rng = self.rng
        category = rng.choice(self.categories)
        topic = rng.choice(self.topics[category.pk])
        place = rng.choice(words.PLACES)
        kind = (
            Proposal.Kind.COSIGNED if state == State.AWAITING_COSIGNERS else KIND_WEIGHTS.pick(rng)
        )
        if kind == Proposal.Kind.INDIVIDUAL:
            proposers = [rng.choice(self.members)]
        elif kind == Proposal.Kind.COSIGNED:
            proposers = rng.sample(self.members, rng.randint(2, 5))
        else:
            pool = [p for k in COLLECTIVE_KIND[kind] for p in self.collectives[k]]
            proposers = [rng.choice(pool)]
        t = self.timeline(opened_on, state, age)
        consent = rng.random() < 0.95
        on_paper = rng.random() < 0.1
        first = proposers[0]
        proposal = Proposal(
            session_id=session.pk,
            title=words.proposal_title(rng, topic, place),
            reasons=words.proposal_reasons(rng, topic, place),
            suggestions=words.proposal_suggestions(rng, topic),
            category_id=category.pk,
            kind=kind,
            period=(
                Proposal.Period.PLENARY
                if t["submitted"] - t["opened"] < 7 * DAY
                else Proposal.Period.INTERIM
            ),
            consent_to_publish=consent,
            no_publish_reason="" if consent else rng.choice(words.NO_PUBLISH_REASONS),
            state=state,
            is_key=state in NUMBERED and rng.random() < 0.03,
            on_paper=on_paper,
            created_by_id=self.staff.pk if on_paper else first.user_id,
            created_at=t["created"],
            submitted_at=None if state == State.DRAFT else t["submitted"],
        )
        if proposal.is_key:
            proposal.supervising_leader = f"{words.person_name(rng)}副区长"
        spec = Spec(proposal=proposal, topic=topic, label=label, proposers=proposers, t=t)
        if state != State.DRAFT:
            units = self.category_units[category.pk]
            spec.suggested = rng.sample(units, min(len(units), rng.randint(0, 2)))
        if state in NUMBERED or state in (State.MERGED, State.CONVERTED, State.REJECTED):
            proposal.reviewed_at = t["reviewed"]
        if state in NUMBERED:
            proposal.review_outcome = Proposal.ReviewOutcome.ACCEPT
        elif state == State.MERGED:
            proposal.review_outcome = Proposal.ReviewOutcome.MERGE
        elif state == State.CONVERTED:
            proposal.review_outcome = Proposal.ReviewOutcome.CONVERT
            forward_to = rng.choice(self.category_units[category.pk])
            proposal.review_comment = f"转为意见建议，转交{forward_to.short_name}研究参考"
        elif state == State.REJECTED:
            self.make_rejected(spec)
        elif state == State.WITHDRAWN:
            proposal.review_outcome = Proposal.ReviewOutcome.WITHDRAW
        if state in ASSIGNED:
            self.plan_assignment(spec, category, place)
        if state in ANSWERED:
            spec.result_class = RESULT_WEIGHTS.pick(rng)
        if state == State.CLOSED:
            proposal.closed_at = t["closed"]
        done = self.stages_done(spec)
        proposal.updated_at = max(v for k, v in t.items() if k in done)
        return spec

    def make_rejected(self, spec):
        reason = self.rng.choice(self.rejection_reasons)
        proposal = spec.proposal
        proposal.state = State.REJECTED
        proposal.review_outcome = Proposal.ReviewOutcome.REJECT
        proposal.rejection_reason_id = reason.pk
        proposal.review_comment = f"经审查，该提案{reason.label}，不予立案。"
        proposal.reviewed_at = spec.t["reviewed"]

    def plan_assignment(self, spec, category, place):
        rng = self.rng
        preferred = self.category_units[category.pk]
        town = self.towns.get(place)
        mode = MODE_WEIGHTS.pick(rng)
        if town is not None and rng.random() < 0.3:
            lead = town
        elif rng.random() < 0.85:
            lead = rng.choice(preferred)
        else:
            lead = rng.choice(self.handling_units)
        others = [u for u in preferred if u != lead]
        if town is not None and town != lead:
            others.append(town)
        while len(others) < 3:
            extra = rng.choice(self.handling_units)
            if extra != lead and extra not in others:
                others.append(extra)
        if mode == Mode.SINGLE:
            spec.units = [(lead, Role.LEAD)]
        elif mode == Mode.SPLIT:
            spec.units = [(u, Role.SPLIT) for u in [lead, *rng.sample(others, rng.randint(1, 2))]]
        else:
            co = rng.sample(others, rng.randint(1, min(3, len(others))))
            spec.units = [(lead, Role.LEAD)] + [(u, Role.CO) for u in co]
        spec.proposal.handling_mode = mode
        roll = rng.random()
        if roll < 0.015:
            candidates = [u for u in self.handling_units if all(u != v for v, _ in spec.units)]
            spec.returned_from = rng.choice(candidates)
        elif roll < 0.025:
            spec.return_refused = True

    def timeline(self, opened_on, state, age):
        """When each stage happened, as days after the session opened, then as datetimes."""
        rng = self.rng
        window = 280 if age == 0 else 330
        plenary = rng.random() < 0.75
        d = {"opened": 0.0}
        d["submitted"] = rng.uniform(0, 4) if plenary else rng.uniform(10, window)
        d["created"] = d["submitted"] - rng.uniform(0.05, 3)
        d["cosigned"] = d["submitted"] + rng.uniform(1, 8)
        d["withdrawn"] = d["submitted"] + rng.uniform(2, 15)
        d["reviewed"] = d["submitted"] + rng.uniform(10, 40)
        d["assigned"] = d["reviewed"] + rng.uniform(3, 20)
        d["acknowledged"] = d["assigned"] + rng.uniform(0.1, 5)
        d["opinion"] = d["assigned"] + rng.uniform(10, 30)
        late = rng.random() < 0.06
        d["sent"] = d["assigned"] + (rng.uniform(92, 120) if late else rng.uniform(30, 88))
        d["signed"] = d["sent"] - rng.uniform(0.1, 3)
        # Contact comes before the reply is drafted and signed.
        d["contact"] = d["assigned"] + rng.uniform(5, d["signed"] - d["assigned"] - 3)
        d["published"] = d["sent"] + rng.uniform(3, 25)
        d["receipt"] = d["sent"] + rng.uniform(5, 30)
        d["closed"] = d["receipt"] + rng.uniform(3, 30)
        if age == 0:
            self.place_in_present(d, state)
        opened = datetime.datetime.combine(opened_on, datetime.time(9), tzinfo=CST)
        return {k: opened + datetime.timedelta(days=v) for k, v in d.items()}

    # For a proposal of the current session: the stage it last passed, and the next one.
    CURRENT_STAGE = {
        State.DRAFT: ("created", "submitted"),
        State.AWAITING_COSIGNERS: ("submitted", "cosigned"),
        State.SUBMITTED: ("submitted", "reviewed"),
        State.ACCEPTED: ("reviewed", "assigned"),
        State.ASSIGNED: ("assigned", "acknowledged"),
        State.HANDLING: ("acknowledged", "sent"),
        State.REPLIED: ("sent", "closed"),
        State.CLOSED: ("closed", None),
        State.MERGED: ("reviewed", None),
        State.CONVERTED: ("reviewed", None),
        State.REJECTED: ("reviewed", None),
        State.WITHDRAWN: ("withdrawn", None),
    }

    def place_in_present(self, d, state):
        """Shift a current-session timeline so that the proposal is in `state` today."""
        now = (REFERENCE_NOW - datetime.datetime.combine(PLAN[-1][2], datetime.time(9), CST)) / DAY
        last, following = self.CURRENT_STAGE[state]
        if following is None:
            shift = min(0.0, now - d[last] - self.rng.uniform(1, 30))
        elif d[last] <= now < d[following]:
            shift = 0.0
        else:
            shift = now - self.rng.uniform(d[last], d[following])
        if d["created"] + shift < 0:  # not before the session opened
            shift = -d["created"] + self.rng.uniform(0, 2)
        for k in d:
            if k != "opened":
                d[k] += shift

    @staticmethod
    def stages_done(spec):
        state = spec.proposal.state
        done = {"created"}
        if state != State.DRAFT:
            done.add("submitted")
        if state in NUMBERED or state in (State.MERGED, State.CONVERTED, State.REJECTED):
            done.add("reviewed")
        if state == State.WITHDRAWN:
            done.add("withdrawn")
        if state in ASSIGNED:
            done.add("assigned")
        if state in HANDLED:
            done.add("acknowledged")
        if state in ANSWERED:
            done.add("sent")
        if state == State.CLOSED:
            done.add("closed")
        return done

    # --- writing a batch ------------------------------------------------------------------

    def build_batches(self, n):
        batch = []
        for spec in self.specs(n):
            batch.append(spec)
            if len(batch) >= self.batch_size:
                yield self.build_batch(batch)
                batch = []
        if batch:
            yield self.build_batch(batch)

    def build_batch(self, batch):
        """Every row of a batch, ids included, in the order they are written."""
        self.out = []
        proposals = [s.proposal for s in batch]
        # A merged proposal's target comes before it, so already has its id.
        self.ids.assign(Proposal, proposals)
        for spec in batch:
            if spec.merged_target is not None:
                spec.proposal.merged_into_id = spec.merged_target.proposal.pk
        self.out.append((Proposal, proposals))
        self.write_proposer_lists(batch)
        assignments = self.write_assignments(batch)
        self.write_handling(batch, assignments)
        letters = self.write_letters(batch, assignments)
        self.write_events(batch, assignments, letters)
        sequences = {key: self.sequences[key] for key in self.dirty_sequences}
        self.dirty_sequences = set()
        return len(batch), self.out, sequences

    def write_batch(self, built):
        count, rows, sequences = built
        with (
            transaction.atomic(),
            explicit_timestamps(Proposal, CoOpinion, ContactRecord, ReplyLetter),
        ):
            for model, objs in rows:
                self.insert(model, objs)
            self.save_sequences(sequences)
        return count

    def write_proposer_lists(self, batch):
        entries, suggested = [], []
        through = Proposal.suggested_units.through
        for spec in batch:
            p = spec.proposal
            pending_ok = p.state in (State.DRAFT, State.AWAITING_COSIGNERS)
            for position, proposer in enumerate(spec.proposers):
                # An awaiting proposal waits for at least its last co-signer.
                pending = (
                    pending_ok
                    and position > 0
                    and (
                        p.state == State.DRAFT
                        or position == len(spec.proposers) - 1
                        or self.rng.random() < 0.5
                    )
                )
                entries.append(
                    dict(
                        proposal_id=p.pk,
                        proposer_id=proposer.pk,
                        position=position,
                        status=(
                            ProposalProposer.Status.PENDING
                            if pending
                            else ProposalProposer.Status.CONFIRMED
                        ),
                        responded_at=None if pending else spec.t["submitted"],
                    )
                )
            suggested.extend(dict(proposal_id=p.pk, unit_id=u.pk) for u in spec.suggested)
        self.out.append((ProposalProposer, entries))
        self.out.append((through, suggested))

    def write_assignments(self, batch):
        """Active assignments, then the approved return requests that they replaced."""
        rng = self.rng
        rows = {}
        for spec in batch:
            if not spec.units:
                continue
            p, t = spec.proposal, spec.t
            assigned_on = t["assigned"].astimezone(CST).date()
            for unit, role in spec.units:
                acknowledged = p.state in HANDLED or (
                    role == Role.CO and p.state == State.ASSIGNED and rng.random() < 0.5
                )
                a = Assignment(
                    proposal_id=p.pk,
                    session_id=p.session_id,
                    unit_id=unit.pk,
                    role=role,
                    assigned_at=t["assigned"],
                    assigned_by_id=self.staff.pk,
                    reply_due=words.add_months(assigned_on, 3) if role != Role.CO else None,
                    opinion_due=words.add_months(assigned_on, 1) if role == Role.CO else None,
                )
                if acknowledged and p.state == State.ASSIGNED:
                    # Only a co-handling unit has acknowledged yet, some time before today.
                    a.acknowledged_at = t["assigned"] + (REFERENCE_NOW - t["assigned"]) * (
                        rng.random()
                    )
                    a.acknowledged_by_id = self.handler[unit.pk].pk
                elif acknowledged:
                    a.acknowledged_at = t["acknowledged"]
                    a.acknowledged_by_id = self.handler[unit.pk].pk
                if spec.return_refused and not rows.get(spec):  # on the first unit
                    a.return_status = Assignment.ReturnStatus.REFUSED
                    a.return_reason = "该事项不属于我单位职责范围，申请退回。"
                    a.return_requested_at = t["assigned"] + DAY
                    a.return_requested_by_id = self.handler[unit.pk].pk
                    a.return_decided_at = t["assigned"] + 2 * DAY
                    a.return_decided_by_id = self.staff.pk
                    a.return_comment = "经审核，该事项属于你单位职责范围，请按期办理。"
                rows.setdefault(spec, []).append(a)
        for spec, group in rows.items():
            if spec.proposal.state not in ANSWERED:
                continue
            answering = [a for a in group if a.role != Role.CO]
            for a in answering:
                # Split units answer one by one; the last one moves the proposal to replied.
                a.replied_at = spec.t["sent"]
                if a is not answering[-1]:
                    a.replied_at -= rng.uniform(0, 10) * DAY
        active = [a for group in rows.values() for a in group]
        self.ids.assign(Assignment, active)
        self.out.append((Assignment, active))
        returned = []
        for spec, group in rows.items():
            if spec.returned_from is None:
                continue
            replacement = group[0]
            unit = spec.returned_from
            returned.append(
                Assignment(
                    proposal_id=spec.proposal.pk,
                    session_id=spec.proposal.session_id,
                    unit_id=unit.pk,
                    role=replacement.role,
                    is_active=False,
                    assigned_at=spec.t["assigned"] - 6 * DAY,
                    assigned_by_id=self.staff.pk,
                    reply_due=replacement.reply_due,
                    return_status=Assignment.ReturnStatus.APPROVED,
                    return_reason="该事项不属于我单位职责范围，申请退回。",
                    return_requested_at=spec.t["assigned"] - 4 * DAY,
                    return_requested_by_id=self.handler[unit.pk].pk,
                    return_decided_at=spec.t["assigned"],
                    return_decided_by_id=self.staff.pk,
                    return_comment=f"同意退回，改由{self.unit_by_pk[replacement.unit_id]}办理。",
                    replaced_by_id=replacement.pk,
                )
            )
        self.ids.assign(Assignment, returned)
        self.out.append((Assignment, returned))
        return rows

    def write_handling(self, batch, assignments):
        """Co-handling opinions and contact records."""
        rng = self.rng
        opinions, contacts = [], []
        units = self.unit_by_pk
        for spec in batch:
            p, t = spec.proposal, spec.t
            group = assignments.get(spec, [])
            lead = units[group[0].unit_id] if group else None
            for a in group:
                unit = units[a.unit_id]
                if a.role == Role.CO:
                    if p.state in ANSWERED or (
                        p.state == State.HANDLING
                        and t["opinion"] <= REFERENCE_NOW
                        and rng.random() < 0.6
                    ):
                        plain = plain_name(unit)
                        opinions.append(
                            dict(
                                assignment_id=a.pk,
                                doc_number=self.doc_number(unit, t["opinion"].year),
                                title=f"{plain}关于{p.display_number}提案的会办意见",
                                body=words.co_opinion_body(rng, spec.topic, lead.short_name),
                                signatory=self.leader[unit.pk].full_name,
                                created_by_id=self.handler[unit.pk].pk,
                                created_at=t["opinion"],
                                sent_at=t["opinion"],
                            )
                        )
                    continue
                share = 0.92 if p.state in ANSWERED else 0.6 if p.state == State.HANDLING else 0
                if rng.random() >= share or t["contact"] > REFERENCE_NOW:
                    continue
                for k in range(2 if rng.random() < 0.2 else 1):
                    when = t["contact"] - k * rng.uniform(5, 12) * DAY
                    on, method = when.astimezone(CST).date(), METHOD_WEIGHTS.pick(rng)
                    # As ContactRecord.save keeps it (the rows are copied in, not saved).
                    if method in ContactRecord.FACE_TO_FACE and (
                        a.face_to_face_on is None or on < a.face_to_face_on
                    ):
                        a.face_to_face_on = on
                    contacts.append(
                        dict(
                            assignment_id=a.pk,
                            contacted_on=on,
                            method=method,
                            participants=(
                                f"{self.handler[unit.pk].full_name}、{spec.proposers[0].name}"
                            ),
                            leader_took_part=rng.random() < 0.4,
                            summary=words.contact_summary(rng, spec.topic),
                            created_by_id=self.handler[unit.pk].pk,
                            created_at=when,
                        )
                    )
        self.out.append((CoOpinion, opinions))
        self.out.append((ContactRecord, contacts))
        self.contact_method = {}
        for c in contacts:
            self.contact_method.setdefault(c["assignment_id"], c["method"])

    def write_letters(self, batch, assignments):
        """Reply letters of lead and split units, their copies, publications and receipts."""
        rng = self.rng
        units = self.unit_by_pk
        letters, plans = [], []
        for spec in batch:
            p, t = spec.proposal, spec.t
            if p.state not in ANSWERED:
                continue
            group = assignments[spec]
            co_units = [units[a.unit_id] for a in group if a.role == Role.CO]
            answering = [a for a in group if a.role != Role.CO]
            for a in answering:
                unit = units[a.unit_id]
                sent = a.replied_at
                signed = sent - (t["sent"] - t["signed"])
                letter_date = signed.astimezone(CST).date()
                result_class = (
                    spec.result_class if a.role == Role.LEAD else RESULT_WEIGHTS.pick(rng)
                )
                plain = plain_name(unit)
                number_label = p.display_number
                title = f"{plain}关于政协{spec.label}{number_label}提案的答复函"
                body = words.letter_body(
                    rng,
                    title=p.title,
                    number_label=number_label,
                    co_units=[u.short_name for u in co_units],
                    result_class=result_class,
                    unit_name=plain,
                    letter_date=letter_date,
                    unit_short=unit.short_name,
                    signer_title="主要领导",
                    topic=spec.topic,
                )
                if not p.consent_to_publish:
                    disclosure = ReplyLetter.Disclosure.NONE
                else:
                    disclosure = DISCLOSURE_WEIGHTS.pick(rng)
                published_at = t["published"] + (sent - t["sent"])
                published = (
                    disclosure != ReplyLetter.Disclosure.NONE and published_at <= REFERENCE_NOW
                )
                letter = ReplyLetter(
                    assignment_id=a.pk,
                    session_id=a.session_id,
                    state=ReplyLetter.State.PUBLISHED if published else ReplyLetter.State.SENT,
                    doc_number=self.doc_number(unit, letter_date.year),
                    title=title,
                    salutation="、".join(s.salutation for s in spec.proposers) + "：",
                    body=body,
                    result_class=result_class,
                    letter_date=letter_date,
                    contact_person=self.handler[unit.pk].full_name,
                    contact_phone=f"023-5332{rng.randrange(10**4):04d}",
                    disclosure=disclosure,
                    public_summary=(
                        f"关于{spec.topic}的答复：{rng.choice(words.NEXT_STEPS)}。"
                        if disclosure == ReplyLetter.Disclosure.SUMMARY
                        else ""
                    ),
                    nondisclosure_reason=(
                        (p.no_publish_reason or rng.choice(words.NONDISCLOSURE_REASONS))
                        if disclosure == ReplyLetter.Disclosure.NONE
                        else ""
                    ),
                    drafted_by_id=self.handler[unit.pk].pk,
                    signed_by_id=self.leader[unit.pk].pk,
                    signer_title="主要领导",
                    attestation=f"此答复函已经{unit.short_name}主要领导审签。",
                    signed_at=signed,
                    sent_at=sent,
                    published_at=published_at if published else None,
                    is_public=published,
                    created_at=signed - rng.uniform(3, 15) * DAY,
                    updated_at=published_at if published else sent,
                )
                letters.append(letter)
                plans.append((spec, a, letter, co_units))
        self.ids.assign(ReplyLetter, letters)
        self.out.append((ReplyLetter, letters))

        cc_field = ReplyLetter._meta.get_field("cc_units")
        through = cc_field.remote_field.through
        src, dst = f"{cc_field.m2m_field_name()}_id", f"{cc_field.m2m_reverse_field_name()}_id"
        copies, publications, receipts = [], [], []
        for spec, a, letter, co_units in plans:
            for unit in [*co_units, *self.copied_units]:
                copies.append({src: letter.pk, dst: unit.pk})
            if letter.state == ReplyLetter.State.PUBLISHED:
                full = letter.disclosure == ReplyLetter.Disclosure.FULL
                publications.append(
                    dict(
                        letter_id=letter.pk,
                        title=letter.title,
                        text=letter.body if full else letter.public_summary,
                        letter_date=letter.letter_date,
                        attestation=letter.attestation,
                        unit_name=self.unit_by_pk[a.unit_id].name,
                        published_at=letter.published_at,
                        published_by_id=self.staff.pk,
                    )
                )
            receipts.extend(self.receipts(spec, a, letter))
        self.out.append((through, copies))
        self.out.append((Publication, publications))
        self.out.append((Receipt, receipts))
        return {spec: letter for spec, _a, letter, _co in plans}

    def receipts(self, spec, assignment, letter):
        rng = self.rng
        closed = spec.proposal.state == State.CLOSED
        method = self.contact_method.get(assignment.pk, "")
        rows = []
        for proposer in spec.proposers:
            answered_at = letter.sent_at + (spec.t["receipt"] - spec.t["sent"])
            submitted = answered_at <= REFERENCE_NOW and rng.random() < (0.95 if closed else 0.35)
            receipt = {
                "letter_id": letter.pk,
                "session_id": letter.session_id,
                "proposer_id": proposer.pk,
                "requested_at": letter.sent_at,
            }
            if submitted:
                contacted = bool(method) or rng.random() < 0.5
                channel = Receipt.Channel.ONLINE if rng.random() < 0.7 else Receipt.Channel.PAPER
                receipt.update(
                    contacted=contacted,
                    contact_method=method,
                    leader_took_part=contacted and rng.random() < 0.4,
                    attitude=ATTITUDE_WEIGHTS.pick(rng),
                    result=RESULT_RATING_WEIGHTS[letter.result_class].pick(rng),
                    opinion=rng.choice(words.RECEIPT_OPINIONS) if rng.random() < 0.3 else "",
                    channel=channel,
                    entered_by_id=self.staff.pk if channel == Receipt.Channel.PAPER else None,
                    submitted_at=answered_at,
                )
            rows.append(receipt)
        return rows

    # The last transition of a proposal in each state: verb, state before, stage time.
    LAST_TRANSITION = {
        State.ACCEPTED: ("accepted", State.SUBMITTED, "reviewed"),
        State.ASSIGNED: ("assigned", State.ACCEPTED, "assigned"),
        State.HANDLING: ("acknowledged", State.ASSIGNED, "acknowledged"),
        State.REPLIED: ("replied", State.HANDLING, "sent"),
        State.CLOSED: ("closed", State.REPLIED, "closed"),
        State.MERGED: ("merged", State.SUBMITTED, "reviewed"),
        State.CONVERTED: ("converted", State.SUBMITTED, "reviewed"),
        State.REJECTED: ("rejected", State.SUBMITTED, "reviewed"),
        State.WITHDRAWN: ("withdrawn", State.SUBMITTED, "withdrawn"),
    }

    def write_events(self, batch, assignments, letters):
        """Two audit rows a proposal: its submission and its last transition."""
        events = []
        for spec in batch:
            p, t, state = spec.proposal, spec.t, spec.proposal.state
            first_user = spec.proposers[0].user_id
            submitter = self.staff.pk if p.on_paper else first_user
            if state == State.DRAFT:
                events.append(self.event(p, submitter, "created", "", state, t["created"]))
                continue
            after = (
                State.AWAITING_COSIGNERS if state == State.AWAITING_COSIGNERS else State.SUBMITTED
            )
            events.append(self.event(p, submitter, "submitted", State.DRAFT, after, t["submitted"]))
            if state not in self.LAST_TRANSITION:
                continue
            verb, before, stage = self.LAST_TRANSITION[state]
            actor, comment, obj = self.staff.pk, p.review_comment, None
            if state == State.ASSIGNED:
                comment = "、".join(f"{u.short_name}（{ROLE_NAMES[r]}）" for u, r in spec.units)
            elif state == State.HANDLING:
                lead = assignments[spec][0]
                actor, comment, obj = lead.acknowledged_by_id, "", ("assignment", lead.pk)
            elif state == State.REPLIED:
                actor = letters[spec].drafted_by_id
            elif state == State.MERGED:
                target = spec.merged_target.proposal
                comment, obj = str(target), ("proposal", target.pk)
            elif state == State.WITHDRAWN:
                actor = first_user
            events.append(self.event(p, actor, verb, before, state, t[stage], comment, obj))
        self.out.append((Event, events))

    @staticmethod
    def event(proposal, actor_id, verb, from_state, to_state, when, comment="", obj=None):
        return dict(
            proposal_id=proposal.pk,
            session_id=proposal.session_id,
            actor_id=actor_id,
            verb=verb,
            from_state=from_state,
            to_state=to_state,
            comment=comment,
            object_type=obj[0] if obj else "",
            object_id=obj[1] if obj else None,
            created_at=when,
        )

    def save_sequences(self, sequences):
        if not sequences:
            return
        DocNumberSequence.objects.bulk_create(
            [
                DocNumberSequence(unit_id=unit_id, year=year, last=last)
                for (unit_id, year), last in sorted(sequences.items())
            ],
            update_conflicts=True,
            unique_fields=["unit", "year"],
            update_fields=["last"],
        )


def plain_name(unit):
    """The unit's name as printed on letters, without the synthetic-data mark."""
    return unit.name.removesuffix(words.UNIT_MARK)
