"""Demo: the central office's directive and the briefing's 365 mandates, with a month of follow-up.

Runs after the register demo: it selects DEMO_MANDATES of the month's appeals (proposals and
statements first) and registers each as its own mandate, so "registered as mandates" is exactly
DEMO_MANDATES, then moves the mandates along with progress notes through the same services.
"""
import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from appeals.auth.models import User
from appeals.auth.permissions import users_who_may
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.timeutil import local_to_utc, local_today
from appeals.demo import DEMO_MANDATES, demo_period
from appeals.mandates import criteria, directives, flagging, lifecycle
from appeals.mandates.models import Mandate
from appeals.register.models import Appeal

DIRECTIVE = {
    "issuer": "«AMANAT» партиясының Орталық аппараты",
    "number": "ОА-07/118",
    "title": "Азаматтардың ұсыныстары мен тілектерін партияның сайлауалды бағдарламасын іске асыру жөніндегі "
             "аманаттар ретінде тіркеу туралы",
    "text": (
        "Партияның қоғамдық қабылдау бөлмелерінде азаматтарды қабылдау барысында айтылған ұсыныстар мен "
        "тілектерді жинақтап, олардың ішінен өңірдің дамуына қатысты, шешімін жергілікті атқарушы органдар "
        "арқылы табуға болатындарын аманат ретінде тіркеу тапсырылады.\n\n"
        "Филиалдар әрбір аманат бойынша жауапты тұлғаны және орындау мерзімін белгілеп, орындалу барысы туралы "
        "ай сайын ақпарат береді. Аманаттың орындалғаны туралы өтініш берушіге хабарланады."
    ),
    "appeal_types": ["proposal", "statement"],
    "numbering": "directive",
    "number_prefix": "AM",
    "target_count": 350,
}

RESPONSIBLE = (
    "{settlement} ауылдық округінің әкімі",
    "Аудан әкімдігінің тұрғын үй-коммуналдық шаруашылық бөлімі",
    "Облыстық энергетика және ТКШ басқармасы",
    "Облыстық жолаушылар көлігі және автомобиль жолдары басқармасы",
    "Облыстық денсаулық сақтау басқармасы",
    "Аудандық білім бөлімі",
    "Мәслихат депутаты, партиялық фракция мүшесі",
    "Аудандық жұмыспен қамту орталығы",
)
NOTES = (
    "Жауапты органға жолданды, жұмыс жоспары келісілді.",
    "Жобалық-сметалық құжаттама әзірленуде.",
    "Қаржыландыру жергілікті бюджетке енгізілді.",
    "Мердігер анықталды, жұмыс басталды.",
    "Жұмыстың жартысы орындалды, тұрғындармен кездесу өтті.",
    "Депутаттық сауал жіберілді, жауап күтілуде.",
)
FINAL_NOTES = {
    "fulfilled": "Жұмыс толық аяқталды, өтініш берушіге хабарланды.",
    "partially_fulfilled": "Бірінші кезең орындалды; қалғаны келесі жылғы бюджетке ұсынылды.",
    "not_fulfilled": "Қаржыландыру көзделмегендіктен орындалмады; өтініш берушіге түсіндірілді.",
}
# (status, share) for the month's mandates: follow-up has only just begun for many of them.
STATUS_MIX = (("registered", 0.22), ("in_progress", 0.43), ("fulfilled", 0.23),
              ("partially_fulfilled", 0.08), ("not_fulfilled", 0.04))


def _choose_appeals(directive, rng):
    """DEMO_MANDATES appeals: candidates that meet the criteria, topped up by override if the month has too few."""
    matching = db.session.scalars(criteria.candidate_query(directive).with_only_columns(Appeal.id)).all()
    chosen = sorted(rng.sample(matching, min(DEMO_MANDATES, len(matching))))
    missing = DEMO_MANDATES - len(chosen)
    extra = []
    if missing > 0:
        others = db.session.scalars(
            criteria.candidate_query(directive, {"all": True}).with_only_columns(Appeal.id)
            .where(Appeal.id.not_in(chosen or [-1]), Appeal.received_at >= criteria.day_start(directive.received_from))
        ).all()
        extra = sorted(rng.sample(others, min(missing, len(others))))
    return chosen, extra


def _statuses(count, rng):
    statuses = []
    for status, share in STATUS_MIX:
        statuses += [status] * round(count * share)
    statuses = (statuses + ["in_progress"] * count)[:count]
    rng.shuffle(statuses)
    return statuses


def _registered_at(received, last):
    """When the coordinator registered the mandate: the day after its appeal, within the demo month.

    The demo is seeded in a minute, but the briefing's 365 mandates were registered over the month,
    and the statistics count a mandate in the period in which it was registered.
    """
    return local_to_utc(max(min(received + timedelta(days=1), datetime.combine(last, time(18, 0))), received))


def _follow_up(mandate, status, appeal_day, coordinator, rng, today):
    settlement = mandate.settlement.name_kk if mandate.settlement else "Ауыл"
    data = {"responsible": rng.choice(RESPONSIBLE).format(settlement=settlement)}
    if status in ("registered", "in_progress") and rng.random() < 0.12:
        # A few promises already missed their own deadline: the coordinator's overdue list is not empty.
        data["target_date"] = appeal_day + timedelta(days=rng.randint(7, 20))
    elif rng.random() < 0.5:
        data["target_date"] = date(today.year, 12, 31) if today.month < 10 else date(today.year + 1, 6, 30)
    lifecycle.apply_mandate_update(mandate, data, coordinator)
    if status == "registered":
        return
    days = max((today - appeal_day).days, 1)
    percent = 0
    noted_days = sorted(min(appeal_day + timedelta(days=rng.randint(1, days)), today)
                        for _ in range(rng.randint(1, 3)))
    for step, noted in enumerate(noted_days):
        percent = min(percent + rng.randint(10, 35), 90)
        lifecycle.record_progress_note(mandate, noted, NOTES[(mandate.seq + step) % len(NOTES)], percent, coordinator)
    if status in FINAL_NOTES:
        lifecycle.record_progress_note(mandate, today - timedelta(days=rng.randint(0, 3)), FINAL_NOTES[status],
                                      100 if status == "fulfilled" else None, coordinator)
        lifecycle.apply_mandate_update(mandate, {"status": status}, coordinator)


def load():
    rng = random.Random(365)
    coordinator = db.session.scalar(users_who_may("mandate.flag").order_by(User.id))
    first, last = demo_period()
    today = local_today()
    directive = directives.create_directive({
        **DIRECTIVE,
        "issued_on": first - timedelta(days=3),
        "valid_from": first,
        "valid_to": date(last.year + 1, 12, 31),
        "received_from": first,
        "received_to": last,
    }, coordinator)
    chosen, extra = _choose_appeals(directive, rng)
    mandates = flagging.flag_appeals(directive, chosen, coordinator) if chosen else []
    if extra:
        mandates += flagging.flag_appeals(
            directive, extra, coordinator,
            override_reason="Ұсыныс сипатындағы шағым: филиал кеңесінің шешімімен аманат ретінде тіркелді.",
        )
    received = dict(db.session.execute(
        sa.select(Appeal.id, Appeal.received_at).where(Appeal.id.in_(chosen + extra or [-1]))
    ).all())
    mandate_ids = [m.id for m in mandates]
    # The month's follow-up in one transaction: a thousand small commits would make the demo slow.
    with write_transaction():
        by_id = {m.id: m for m in db.session.scalars(
            sa.select(Mandate).where(Mandate.id.in_(mandate_ids or [-1]))
            .options(selectinload(Mandate.links), selectinload(Mandate.settlement), selectinload(Mandate.notes))
        )}
        for mandate_id, status in zip(mandate_ids, _statuses(len(mandate_ids), rng)):
            mandate = by_id[mandate_id]
            appeal_received = received[mandate.active_links[0].appeal_id]
            mandate.created_at = _registered_at(appeal_received, last)
            appeal_day = appeal_received.date()
            _follow_up(mandate, status, appeal_day, coordinator, rng, today)
