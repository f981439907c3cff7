"""Demo schedule: hosts of the Zhambyl branch and a realistic month of receptions.

Hosts are created through the services; the ~500 sessions are added in one bulk transaction (the
services would audit each one and take seconds), laid out so that the conflict rules still hold:
a host has at most one session a day, and hosts of one office use different slots or rooms.
"""
import datetime as dt
import random

import sqlalchemy as sa

from appeals.auth.models import User
from appeals.auth.permissions import users_who_may
from appeals.core.extensions import db
from appeals.core.timeutil import local_today, utcnow
from appeals.demo import DEMO_SESSIONS_HELD, demo_period
from appeals.reference.models import Office
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules import recurrence as schedule_recurrence
from appeals.schedules.models import ReceptionSession

SLOTS = [(dt.time(9, 0), dt.time(11, 0)), (dt.time(11, 0), dt.time(13, 0)),
         (dt.time(14, 30), dt.time(16, 30)), (dt.time(16, 30), dt.time(18, 0))]
UPCOMING_DAYS = 21
UPCOMING_PER_DAY = 9

CANDIDATE = "Облыстық мәслихат депутаттығына кандидат"
# (office code, full name, position, kind); the first ZHM host is the demo account "host".
HOSTS = [
    ("ZHM", "Құлыбеков Нұрлан Серікұлы", "Облыстық филиал төрағасының орынбасары", "office_member"),
    ("ZHM", "Әбдірахманова Гүлмира Қайратқызы", "Облыстық мәслихат депутаты", "deputy"),
    ("ZHM", "Сыздықов Ерлан Бауыржанұлы", CANDIDATE, "candidate"),
    ("ZHM", "Төлеубаева Айгүл Мұратқызы", "Қоғамдық қабылдау бөлмесінің жетекшісі", "office_member"),
    ("ZHM", "Жұмабеков Асхат Нұрланұлы", CANDIDATE, "candidate"),
    ("TRZ", "Оспанова Динара Ерікқызы", "Тараз қалалық мәслихатының депутаты", "deputy"),
    ("TRZ", "Мырзахметов Бекзат Ғаниұлы", "Қалалық мәслихат депутаттығына кандидат", "candidate"),
    ("TRZ", "Сейітқали Мәдина Асқарқызы", "Аумақтық филиал мүшесі", "office_member"),
    ("BZK", "Ахметов Дәурен Серікбайұлы", "Аудандық мәслихат депутаттығына кандидат", "candidate"),
    ("BZK", "Қасымова Әсел Болатқызы", "Аумақтық филиал хатшысы", "office_member"),
    ("ZHB", "Бекмұратов Ғалым Жанатұлы", "Аудандық мәслихат депутаты", "deputy"),
    ("ZHB", "Ержанова Салтанат Әбілқызы", CANDIDATE, "candidate"),
    ("ZHL", "Тұрсынбеков Мейрам Қуанышұлы", "Аумақтық филиал төрағасы", "office_member"),
    ("ZHL", "Нұрпейісова Ақмарал Төлегенқызы", "Аудандық мәслихат депутаттығына кандидат", "candidate"),
    ("KRD", "Әлімжанов Руслан Маратұлы", "Аудандық мәслихат депутаты", "deputy"),
    ("KRD", "Дүйсенбаева Жанар Омарқызы", CANDIDATE, "candidate"),
    ("MRK", "Сатыбалдиев Қанат Әділұлы", "Аумақтық филиал төрағасы", "office_member"),
    ("MRK", "Иманқұлова Раушан Бекенқызы", "Аудандық мәслихат депутаттығына кандидат", "candidate"),
    ("MNK", "Көшербаев Талғат Сәкенұлы", "Аудандық мәслихат депутаты", "deputy"),
    ("SRS", "Байзақова Индира Нұрғалиқызы", "Аумақтық филиал мүшесі", "office_member"),
    ("SRS", "Есенов Арман Тимурұлы", CANDIDATE, "candidate"),
    ("TLS", "Омаров Бауыржан Ерланұлы", "Аудандық мәслихат депутаттығына кандидат", "candidate"),
    ("SHU", "Жақыпова Гүлнар Сапарқызы", "Аудандық мәслихат депутаты", "deputy"),
    ("SHU", "Рахымжанов Ақылбек Дәулетұлы", "Аумақтық филиал төрағасы", "office_member"),
    ("TRS", "Сәрсенбаев Нұржан Ботабайұлы", "Аудандық мәслихат депутаттығына кандидат", "candidate"),
]
# The positions above in Russian and English, as the admin's host form keeps them.
POSITIONS = {
    "Облыстық филиал төрағасының орынбасары": ("Заместитель председателя областного филиала", "Deputy chair of the regional branch"),
    "Облыстық мәслихат депутаты": ("Депутат областного маслихата", "Member of the regional maslikhat"),
    CANDIDATE: ("Кандидат в депутаты областного маслихата", "Candidate for the regional maslikhat"),
    "Қоғамдық қабылдау бөлмесінің жетекшісі": ("Руководитель общественной приёмной", "Head of the public reception office"),
    "Тараз қалалық мәслихатының депутаты": ("Депутат Таразского городского маслихата", "Member of the Taraz city maslikhat"),
    "Қалалық мәслихат депутаттығына кандидат": ("Кандидат в депутаты городского маслихата", "Candidate for the city maslikhat"),
    "Аумақтық филиал мүшесі": ("Член территориального филиала", "Member of the territorial office"),
    "Аудандық мәслихат депутаттығына кандидат": ("Кандидат в депутаты районного маслихата", "Candidate for the district maslikhat"),
    "Аумақтық филиал хатшысы": ("Секретарь территориального филиала", "Secretary of the territorial office"),
    "Аудандық мәслихат депутаты": ("Депутат районного маслихата", "Member of the district maslikhat"),
    "Аумақтық филиал төрағасы": ("Председатель территориального филиала", "Chair of the territorial office"),
}
TOPICS = [
    "", "", "Ауыл жолдары мен көшелерді жарықтандыру", "Ауыз су және газдандыру мәселелері",
    "Әлеуметтік қолдау және жұмыспен қамту", "Жастар мен көпбалалы отбасылар", "Жер телімдері және тұрғын үй",
]


def _working_days(first, last):
    days_off = schedule_recurrence.holiday_calendar(range(first.year, last.year + 1))
    day, days = first, []
    while day <= last:
        if day.weekday() < 5 and day not in days_off:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _hosts(coordinator, offices):
    demo_user = db.session.scalar(sa.select(User).where(User.username == "host"))
    hosts = []
    for index, (code, name, position, kind) in enumerate(HOSTS):
        hosts.append(schedule_hosts.create_host({
            "full_name": name, "position": position, "position_ru": POSITIONS[position][0],
            "position_en": POSITIONS[position][1], "kind": kind, "office_id": offices[code].id,
            "user_id": demo_user.id if index == 0 and demo_user else None,
        }, coordinator))
    if demo_user:
        schedule_hosts.regenerate_feed_token(hosts[0], coordinator)
    return hosts


def _slot_of(hosts):
    """Each host's fixed (slot, room) inside their office, so one office never double-books a room."""
    position, slots = {}, {}
    for host in hosts:
        j = position.get(host.office_id, 0)
        position[host.office_id] = j + 1
        slots[host.id] = (SLOTS[j % len(SLOTS)], str(j // len(SLOTS) + 1))
    return slots


def _session(host, day, slot_room, status, coordinator, rng, **extra):
    (start, end), room = slot_room
    approved = status in ("approved", "held", "cancelled")
    return ReceptionSession(
        office_id=host.office_id, date=day, start_time=start, end_time=end, room=room,
        capacity=rng.choice([15, 20, 25, 30]), topic=rng.choice(TOPICS), status=status, hosts=[host],
        created_by_id=coordinator.id, approved_by_id=coordinator.id if approved else None,
        approved_at=utcnow() if approved else None, **extra,
    )


def load():
    rng = random.Random(309)
    coordinator = db.session.scalar(users_who_may("mandate.flag").order_by(User.id))
    offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
    hosts = _hosts(coordinator, offices)
    slots = _slot_of(hosts)
    sessions = []

    # The briefing's month: exactly DEMO_SESSIONS_HELD receptions held, spread over working days.
    first, last = demo_period()
    days = _working_days(first, last)
    per_day, extra = divmod(DEMO_SESSIONS_HELD, len(days))
    if per_day + 1 > len(hosts):
        raise RuntimeError("Too few demo hosts for one session per host a day")
    for number, day in enumerate(days):
        count = per_day + (1 if number < extra else 0)
        rotated = hosts[number % len(hosts):] + hosts[:number % len(hosts)]
        # The regional office receives every working day; territorial hosts take turns.
        chosen = [h for h in rotated if h.office_id == offices["ZHM"].id][:2]
        chosen += [h for h in rotated if h not in chosen][:count - len(chosen)]
        for host in chosen:
            sessions.append(_session(host, day, slots[host.id], "held", coordinator, rng,
                                     visitors_count=rng.choices(range(0, 13), weights=[1, 2, 3, 4, 5, 5, 4, 3, 2, 2, 1, 1, 1])[0]))

    # Approved sessions for the next three weeks (today included), then a few drafts to approve.
    today = local_today()
    upcoming = _working_days(today, today + dt.timedelta(days=UPCOMING_DAYS - 1))
    for number, day in enumerate(upcoming):
        rotated = hosts[(number * 3) % len(hosts):] + hosts[:(number * 3) % len(hosts)]
        chosen = [hosts[0]] if number % 2 == 0 else []
        chosen += [h for h in rotated if h not in chosen][:UPCOMING_PER_DAY - len(chosen)]
        for host in chosen:
            sessions.append(_session(host, day, slots[host.id], "approved", coordinator, rng))
    later = _working_days(today + dt.timedelta(days=UPCOMING_DAYS), today + dt.timedelta(days=UPCOMING_DAYS + 6))
    for number, host in enumerate(hosts[:6]):
        sessions.append(_session(host, later[number % len(later)], slots[host.id], "draft", coordinator, rng))

    cancelled = next(s for s in sessions if s.status == "approved" and s.date > today + dt.timedelta(days=3))
    cancelled.status = "cancelled"
    cancelled.cancel_reason = "Кандидат облыстық сессияға шақырылды; қабылдау келесі аптаға ауыстырылады."
    db.session.add_all(sessions)
    db.session.commit()
    return sessions
