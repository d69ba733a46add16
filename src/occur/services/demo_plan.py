"""Drawing the demo dataset: plain values from a seed and a moment, no store.

The shape is what an analysis page should show: fewer completions on weekends and at
night, more people arriving every week (the rate doubles across the window), and a
funnel in which every trial follows one of the person's pricing-page views and every
purchase follows their trial.

Stability matters as much as realism, because a second load of the same seed must find
the first one's completions by uuid (see `demo`). So the people come from one stream
that never looks at the clock, each person's journey from a stream of its own, and
time is placed by `Clock` with exactly one uniform per moment (no rejection loop whose
length depends on the date). A uuid names (seed, event, record, n-th draw of that
event for that record), counted whether or not the draw fell inside the window. Moving
`now` then moves moments, and changes only the draws that cross the window's edges.
"""

from __future__ import annotations

import math
import random
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from occur.domain.timestamps import iso_from_ms
from occur.services import demo_catalogue as cat
from occur.services.demo_catalogue import Choice

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_NAMESPACE = uuid.UUID("6f0c1f4e-5d0e-4d8e-9a47-0d3c8a2b7e15")  # of demo completion uuids
_EARLY = 2 / 3  # people also arrived before the window, for this share of its length
_EARLY_SHARE = _EARLY / (_EARLY + 1.5)  # of all people (the window's density is 1 + x)


@dataclass(frozen=True, slots=True)
class DemoCompany:
    name: str
    domain: str


@dataclass(frozen=True, slots=True)
class DemoContact:
    firstname: str
    lastname: str
    email: str
    company: int | None  # index into DemoPlan.companies
    lifecyclestage: str


@dataclass(frozen=True, slots=True)
class DemoCompletion:
    """One completion before it is stored: `record` indexes the plan's contacts, or its
    companies for the company event."""

    event: str  # the definition's short name
    record: int
    occurred_at: int
    uuid: str
    properties: dict[str, str]


@dataclass(frozen=True)
class DemoPlan:
    """The whole dataset as plain values, completions in time order."""

    companies: tuple[DemoCompany, ...]
    contacts: tuple[DemoContact, ...]
    completions: tuple[DemoCompletion, ...]


def plan_dataset(*, contacts: int, days: int, seed: int, now_ms: int) -> DemoPlan:
    """The dataset for these sizes and seed: completions in [now - days, now)."""
    if contacts < 1 or days < 1:
        raise ValueError("contacts and days must be at least 1")
    start = now_ms - days * DAY_MS
    early = start - int(days * DAY_MS * _EARLY)
    companies, people = _population(seed, contacts, early, start, now_ms)
    journeys = _Journeys(seed, Clock(early, start, now_ms))
    for index, person in enumerate(people):
        journeys.follow(index, person)
    journeys.webinars(people)
    journeys.onboard(people, len(companies))
    plan_contacts = tuple(
        DemoContact(p.firstname, p.lastname, p.email, p.company, journeys.stage(i))
        for i, p in enumerate(people)
    )
    completions = sorted(journeys.completions, key=lambda c: (c.occurred_at, c.uuid))
    return DemoPlan(tuple(companies), plan_contacts, tuple(completions))


class Clock:
    """Turns one uniform draw into a moment, denser on weekdays and in working hours.

    Time is warped so that an hour counts as much as its traffic weight: a uniform
    spread over warped time is the wanted shape, found by one bisection of the
    cumulative weights, with no rejection loop.
    """

    def __init__(self, first_ms: int, start_ms: int, now_ms: int) -> None:
        self.start, self.now = start_ms, now_ms
        self._first_hour = first_ms // HOUR_MS
        hours = range(self._first_hour, now_ms // HOUR_MS + 1)
        self._weights = [_weight(hour * HOUR_MS) for hour in hours]
        self._cumulative = list(accumulate(self._weights, initial=0.0))
        weekly = sum(_weight(h * HOUR_MS) for h in range(7 * 24))
        self._per_day = weekly / 7  # warped length of an average day

    def between(self, lo: int, hi: int, u: float) -> int | None:
        """A moment in [lo, hi) within the window; None when they do not overlap."""
        lo, hi = max(lo, self.start), min(hi, self.now)
        if hi <= lo:
            return None
        a, b = self._warp(lo), self._warp(hi)
        return min(max(self._unwarp(a + u * (b - a)), lo), hi - 1)

    def soon(self, after: int, mean_days: float, u: float) -> int | None:
        """A moment after `after`, exponentially less likely the longer the wait (mean
        `mean_days` average days); None when it falls outside the window."""
        target = self._warp(after) - math.log1p(-u) * mean_days * self._per_day
        if target >= self._warp(self.now):
            return None
        moment = self._unwarp(target)
        return moment if self.start <= moment < self.now else None

    def _warp(self, moment: int) -> float:
        k = min(max(moment // HOUR_MS - self._first_hour, 0), len(self._weights) - 1)
        into = min(max((moment - (self._first_hour + k) * HOUR_MS) / HOUR_MS, 0.0), 1.0)
        return self._cumulative[k] + self._weights[k] * into

    def _unwarp(self, warped: float) -> int:
        k = min(max(bisect_right(self._cumulative, warped) - 1, 0), len(self._weights) - 1)
        into = min((warped - self._cumulative[k]) / self._weights[k], 1.0)
        return (self._first_hour + k) * HOUR_MS + int(into * HOUR_MS)


def _weight(moment: int) -> float:
    day, rest = divmod(moment, DAY_MS)
    weekday = (day + 3) % 7  # epoch day 0 was a Thursday; Monday is 0
    return cat.WEEKDAY_WEIGHTS[weekday] * cat.HOUR_WEIGHTS[rest // HOUR_MS]


# -- the population --------------------------------------------------------------


@dataclass
class _Person:
    firstname: str
    lastname: str
    email: str
    company: int | None
    first_seen: int  # epoch ms
    engagement: float  # 1 is typical; drives how often this person comes back


def _population(
    seed: int, count: int, early: int, start: int, now: int
) -> tuple[list[DemoCompany], list[_Person]]:
    rng = random.Random(f"occur-demo:{seed}:people")
    companies = _company_names(rng, max(1, count // 12))
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(companies))]  # a few big accounts
    taken: set[str] = set()
    people: list[_Person] = []
    for _ in range(count):
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        company = rng.choices(range(len(companies)), weights)[0] if rng.random() < 0.85 else None
        domain = companies[company].domain if company is not None else None
        email = _email(rng, first, last, domain, taken)
        # Arrivals at a steady rate before the window, at a rate that doubles across it.
        u, v = rng.random(), rng.random()
        if u < _EARLY_SHARE:
            first_seen = early + int(v * (start - early))
        else:
            first_seen = start + int((math.sqrt(1 + 3 * v) - 1) * (now - start))
        engagement = min(rng.lognormvariate(0, 0.7), 6.0)
        people.append(_Person(first, last, email, company, first_seen, engagement))
    return companies, people


def _company_names(rng: random.Random, count: int) -> list[DemoCompany]:
    names = [f"{a} {b}" for a in cat.COMPANY_WORDS for b in cat.COMPANY_KINDS]
    rng.shuffle(names)
    chosen = [
        names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")
        for i in range(count)
    ]
    return [DemoCompany(n, _ascii(n).replace(" ", "") + cat.COMPANY_DOMAIN_SUFFIX) for n in chosen]


def _email(rng: random.Random, first: str, last: str, domain: str | None, taken: set[str]) -> str:
    first_part, last_part = _ascii(first), _ascii(last)
    styles = (f"{first_part}.{last_part}", f"{first_part[0]}{last_part}", first_part)
    local = styles[rng.randrange(len(styles))]
    host = rng.choice(cat.PERSONAL_DOMAINS) if domain is None else domain
    candidate, n = f"{local}@{host}", 1
    while candidate in taken:
        n += 1
        candidate = f"{local}{n}@{host}"
    taken.add(candidate)
    return candidate


def _ascii(text: str) -> str:
    """Lowercase ASCII letters, digits and spaces: how a name appears in an address."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c == " ")


# -- the journeys ----------------------------------------------------------------


@dataclass
class _Progress:
    """How far one person went: it decides their lifecycle stage."""

    pricing_views: int = 0
    webinars: int = 0
    trial_at: int | None = None
    bought_at: int | None = None
    customer_already: bool = False  # bought before the window: uses, no funnel
    plan: str = ""
    seats: int = 0


@dataclass
class _Journeys:
    """Draws every person's completions; one instance per plan."""

    seed: int
    clock: Clock
    completions: list[DemoCompletion] = field(default_factory=list)
    progress: dict[int, _Progress] = field(default_factory=dict)
    _draws: dict[tuple[str, int], int] = field(default_factory=dict)

    def follow(self, index: int, person: _Person) -> None:
        """Videos; pricing views, then perhaps a trial and a purchase; product use."""
        rng = random.Random(f"occur-demo:{self.seed}:contact:{index}")
        p = self.progress[index] = _Progress()
        self._videos(rng, index, person)
        if person.first_seen < self.clock.start and rng.random() < 0.2:
            # Without customers from before the window, product use would start at zero.
            p.customer_already = True
            self._use(rng, index, person, self.clock.start, self.clock.now, per_day=0.6)
            for _ in range(_poisson(rng, 3)):
                self._ticket(rng, index, self.clock.start, self.clock.now)
            return
        if rng.random() >= 0.7:
            return
        interest = _pick(rng, cat.PLANS)
        # A burst of visits after arriving, then a trickle while interested (weeks).
        e, since = person.engagement, max(person.first_seen, self.clock.start)
        until = min(person.first_seen + int(rng.expovariate(1 / 56) * DAY_MS), self.clock.now)
        burst = _poisson(rng, 6 * e)
        trickle = _poisson(rng, 2.2 * e * max(0, until - since) / (7 * DAY_MS))
        views: list[int] = []
        for n in range(burst + trickle):
            plan = interest if rng.random() < 0.6 else _pick(rng, cat.PLANS)
            billing, u = _pick(rng, cat.BILLING_PERIODS), rng.random()
            moment = (
                self.clock.soon(person.first_seen, 10, u)
                if n < burst
                else self.clock.between(since, until, u)
            )
            if self._add("viewed_pricing_page", index, moment, plan=plan, billing_period=billing):
                views.append(moment or 0)
        p.pricing_views = len(views)
        convinced, which = rng.random() < min(0.12 + 0.1 * e, 0.6), rng.random()
        if views and convinced:
            # Any of their views, so that people who were visiting before the window
            # do not all start trials in its first days.
            self._trial(rng, index, person, sorted(views)[int(which * len(views))], interest)

    def _videos(self, rng: random.Random, index: int, person: _Person) -> None:
        if rng.random() >= 0.5:
            return
        for _ in range(1 + _poisson(rng, 2.5 * person.engagement)):
            title = rng.choices(cat.VIDEOS, [w for _, w in cat.VIDEOS])[0][0]
            percent = max(1, min(100, round(110 * rng.betavariate(1.3, 0.9))))
            self._add(
                "watched_demo_video",
                index,
                self.clock.soon(person.first_seen, 20, rng.random()),
                video_name=title,
                percent_watched=str(percent),
                watched_to_end=_bool(percent >= 95),
            )

    def _trial(
        self, rng: random.Random, index: int, person: _Person, after: int, plan: str
    ) -> None:
        p = self.progress[index]
        length = 30 if plan == "enterprise" else 14
        source = _pick(rng, cat.SIGNUP_SOURCES)
        started = self.clock.soon(after, 3, rng.random())
        ends = iso_from_ms((started or 0) + length * DAY_MS)[:10]
        values = {"plan": plan, "trial_length_days": str(length), "trial_ends_on": ends}
        if not self._add("started_trial", index, started, signup_source=source, **values):
            return
        assert started is not None
        p.trial_at, p.plan = started, plan
        trial_end = min(started + length * DAY_MS, self.clock.now)
        self._use(rng, index, person, started, trial_end, per_day=1.4)
        if rng.random() < 0.15:
            self._ticket(rng, index, started, trial_end)
        if rng.random() < min(0.3 + 0.08 * person.engagement, 0.7):
            self._buy(rng, index, person, started, length)

    def _buy(
        self, rng: random.Random, index: int, person: _Person, trial_started: int, length: int
    ) -> None:
        p = self.progress[index]
        plan = p.plan if rng.random() < 0.8 else _pick(rng, cat.PLANS)
        billing = "annual" if rng.random() < 0.45 else "monthly"
        low, high = cat.SEATS[plan]
        seats, currency = rng.randint(low, high), _pick(rng, cat.CURRENCIES)
        months = 12 * cat.ANNUAL_DISCOUNT if billing == "annual" else 1
        amount = round(cat.PRICES[plan] * seats * months * cat.RATES[currency])
        clicked = self.clock.soon(trial_started + DAY_MS, length / 2, rng.random())
        if clicked is not None and clicked > trial_started + (length + 7) * DAY_MS:
            clicked = None  # the trial lapsed
        bought = self._add(
            "clicked_buy_button",
            index,
            clicked,
            plan=plan,
            billing_period=billing,
            seats=str(seats),
            amount=str(amount),
            currency=currency,
        )
        if not bought or clicked is None:
            return
        p.bought_at, p.plan, p.seats = clicked, plan, seats
        self._use(rng, index, person, clicked, self.clock.now, per_day=1.0)
        weeks = (self.clock.now - clicked) / (7 * DAY_MS)
        for _ in range(_poisson(rng, min(0.25 * weeks, 4))):
            self._ticket(rng, index, clicked, self.clock.now)

    def _use(
        self, rng: random.Random, index: int, person: _Person, lo: int, hi: int, *, per_day: float
    ) -> None:
        for _ in range(_poisson(rng, per_day * person.engagement * (hi - lo) / DAY_MS)):
            minutes = max(1, min(240, round(rng.lognormvariate(2.4, 0.8))))
            self._add(
                "used_feature",
                index,
                self.clock.between(lo, hi, rng.random()),
                feature=_pick(rng, cat.FEATURES),
                session_minutes=str(minutes),
            )

    def _ticket(self, rng: random.Random, index: int, lo: int, hi: int) -> None:
        category = _pick(rng, cat.TICKET_CATEGORIES)
        self._add(
            "submitted_support_ticket",
            index,
            self.clock.between(lo, hi, rng.random()),
            category=category,
            priority=_pick(rng, cat.PRIORITIES),
            subject=rng.choice(cat.TICKET_SUBJECTS[category]),
        )

    def webinars(self, people: Sequence[_Person]) -> None:
        """A webinar every other Thursday at 16:00 UTC: attendance spikes on the day.
        The schedule is fixed to the calendar (epoch days divisible by 14, a Thursday)
        and each webinar draws from its own stream, so a later run sees the same ones."""
        first = -(-self.clock.start // (14 * DAY_MS)) * 14
        for day in range(first, self.clock.now // DAY_MS + 1, 14):
            starts = day * DAY_MS + 16 * HOUR_MS
            name = cat.WEBINARS[(day // 14) % len(cat.WEBINARS)]
            rng = random.Random(f"occur-demo:{self.seed}:webinar:{day}")
            for index, person in enumerate(people):
                attends, offset, asked = rng.random(), rng.random(), rng.random()
                if person.first_seen >= starts or attends >= 0.03 * person.engagement:
                    continue
                joined = starts + int((offset * 25 - 5) * 60_000)  # 5 min early to 20 late
                if self._add(
                    "attended_webinar",
                    index,
                    joined if self.clock.start <= joined < self.clock.now else None,
                    key=f"webinar-{day}",
                    webinar_name=name,
                    webinar_starts_at=iso_from_ms(starts),
                    asked_question=_bool(asked < 0.18),
                ):
                    self.progress[index].webinars += 1

    def onboard(self, people: Sequence[_Person], company_count: int) -> None:
        """A company completes onboarding some days after its first purchase."""
        first_buyer: dict[int, _Progress] = {}
        for index, person in enumerate(people):
            p = self.progress[index]
            if person.company is None or p.bought_at is None:
                continue
            known = first_buyer.get(person.company)
            if known is None or p.bought_at < (known.bought_at or 0):
                first_buyer[person.company] = p
        for company in range(company_count):
            buyer = first_buyer.get(company)
            if buyer is None or buyer.bought_at is None:
                continue
            rng = random.Random(f"occur-demo:{self.seed}:company:{company}")
            live = self.clock.soon(buyer.bought_at + 2 * DAY_MS, 8, rng.random())
            self._add(
                cat.COMPANY_EVENT,
                company,
                live,
                onboarding_package=cat.PACKAGE_OF_PLAN[buyer.plan],
                seats=str(buyer.seats),
                days_to_go_live=str(((live or 0) - buyer.bought_at) // DAY_MS),
            )

    def stage(self, index: int) -> str:
        p = self.progress[index]
        if p.bought_at is not None or p.customer_already:
            return "customer"
        if p.trial_at is not None:
            return "opportunity"
        if p.pricing_views >= 3 or p.webinars:
            return "marketingqualifiedlead"
        return "lead" if p.pricing_views else "subscriber"

    def _add(
        self, event: str, record: int, moment: int | None, key: str | None = None, **values: str
    ) -> bool:
        """Keep a completion if its moment fell in the window; True when kept.

        Its uuid names the seed, event, record and either `key` or how many draws of
        this event this record had before, kept or not (see the module docstring).
        """
        if key is None:
            n = self._draws.get((event, record), 0)
            self._draws[(event, record)] = n + 1
            key = str(n)
        if moment is None:
            return False
        name = f"{self.seed}/{event}/{record}/{key}"
        self.completions.append(
            DemoCompletion(event, record, moment, str(uuid.uuid5(_NAMESPACE, name)), values)
        )
        return True


def _pick(rng: random.Random, choices: tuple[Choice, ...]) -> str:
    return rng.choices(choices, [weight for _, _, weight in choices])[0][1]


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: Knuth's product of uniforms, a rounded normal beyond 30."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _bool(value: bool) -> str:
    return "true" if value else "false"
