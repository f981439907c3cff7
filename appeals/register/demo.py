"""Demo: the briefing's month of appeals — exactly DEMO_APPEALS, most received at held reception sessions.

Numbers come from the same counter as live registration (appeals.core.numbering): each office's block
of numbers is reserved in the loading transaction, so the demo register is gapless too. Rows are
written in bulk (one INSERT per table) to load in a few seconds.
"""
import random
from collections import defaultdict
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from appeals.auth.permissions import users_who_may, works_at_offices
from appeals.core.audit import AuditRecord
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.numbering import NumberSequence, next_number
from appeals.core.timeutil import local_now, utcnow
from appeals.demo import DEMO_APPEALS, demo_period
from appeals.reference.models import Category, Office, Settlement
from appeals.register.models import Appeal, AppealExtension
from appeals.register.rules import add_working_days, make_iin
from appeals.register.workflow import format_number
from appeals.schedules.models import ReceptionSession

SESSION_SHARE = 0.72
OTHER_CHANNELS = (("door_to_door", 40), ("online_event", 14), ("letter", 16), ("phone", 16), ("email", 9), ("other", 5))
TYPES = (("statement", 38), ("proposal", 34), ("complaint", 18), ("request", 7), ("response", 3))

SURNAMES_M = ("Әбілқасымов", "Бекболатов", "Жұмабеков", "Сейтқалиев", "Нұрланов", "Тоқтаров", "Қасымов", "Оспанов",
              "Мұратов", "Ермеков", "Сәрсенов", "Байжанов", "Иванов", "Ким", "Петров", "Шевченко", "Ахметов",
              "Құлыбеков", "Дүйсенов", "Исаев")
SURNAMES_F = ("Әбілқасымова", "Бекболатова", "Жұмабекова", "Сейтқалиева", "Нұрланова", "Тоқтарова", "Қасымова",
              "Оспанова", "Мұратова", "Ермекова", "Сәрсенова", "Байжанова", "Иванова", "Ким", "Петрова", "Ахметова")
NAMES_M = ("Ерлан", "Асқар", "Нұрлан", "Бауыржан", "Серік", "Дәурен", "Ержан", "Мұрат", "Қайрат", "Азамат",
           "Сергей", "Александр", "Виктор", "Бақытжан", "Талғат")
NAMES_F = ("Айгүл", "Гүлнұр", "Дина", "Жанар", "Сәуле", "Әсем", "Меруерт", "Анна", "Ольга", "Гүлмира",
           "Ақмарал", "Динара", "Татьяна", "Ләззат")
PATRONYMIC_ROOTS = ("Серік", "Болат", "Мұрат", "Қайрат", "Ержан", "Нұрлан", "Асқар", "Төлеген")

SUMMARIES = {
    "housing": ("Кезекте тұрған отбасына тұрғын үй беру туралы", "Апатты үйден көшіру мәселесі",
                "Жатақхана тұрғындарының құжаттары туралы"),
    "utilities": ("Қыста жылу жеткіліксіз, батареялар суық", "Электр қуаты жиі өшеді",
                  "Кәріз жүйесін жөндеу қажет"),
    "roads": ("Көшедегі жолды жөндеу қажет", "Ауылға кіреберіс жолға асфальт төсеу", "Көпір апатты жағдайда",
              "Көшеге жарық орнату керек"),
    "water": ("Ауылда ауыз су жоқ, су құбыры тартылмаған", "Ауыз судың сапасы нашар", "Су мұнарасын жөндеу"),
    "health": ("Ауылдық амбулаторияға дәрігер қажет", "Жедел жәрдем кеш келеді", "Дәрі-дәрмекпен қамту"),
    "education": ("Мектепке спорт залы салу туралы", "Балабақшада орын жетіспейді", "Мектеп автобусы қажет"),
    "employment": ("Жұмысқа орналасуға көмек сұраймын", "Жастарға арналған жұмыс орындары",
                   "Кәсіпкерлікке шағын несие алу"),
    "social": ("Әлеуметтік көмек тағайындау туралы", "Мүгедектігі бар балаға көмек", "Көпбалалы отбасына жәрдемақы"),
    "land": ("Жер телімін рәсімдеу мәселесі", "Жайылым жерінің жетіспеушілігі", "Үй салуға жер телімі беру"),
    "agriculture": ("Суармалы суды уақытылы беру", "Мал дәрігерлік пункт ашу", "Тұқым сатып алуға субсидия"),
    "transport": ("Аудан орталығына автобус қатынасы жоқ", "Аялдама павильонын орнату"),
    "gas": ("Ауылды газдандыру мерзімі туралы", "Үйді газға қосу құны"),
    "order": ("Көшеде бейнебақылау камераларын орнату", "Учаскелік полиция инспекторының жұмысы"),
    "ecology": ("Ауыл шетіндегі заңсыз қоқыс үйіндісі", "Ағаш отырғызу туралы ұсыныс"),
    "culture": ("Ауылдағы клубты жөндеу", "Балаларға арналған спорт алаңы"),
    "other": ("Құжаттарды рәсімдеуге көмек", "Мемлекеттік қызмет көрсету сапасы"),
}
STREETS = ("Абай", "Төле би", "Жібек жолы", "Қонаев", "Бейбітшілік", "Достық", "Әл-Фараби", "Жамбыл", "Рысқұлов")
RECIPIENTS = ("Аудан әкімдігі", "Облыстық денсаулық сақтау басқармасы", "Аудандық білім бөлімі",
              "Облыстық энергетика және ТКШ басқармасы", "Аудандық жұмыспен қамту орталығы")
ANSWERS = ("Өтініш қаралды, мәселе шешілді: жұмыс жоспарға енгізілді.",
           "Түсіндірме берілді; қажетті құжаттар тізімі жолданды.",
           "Жауапты органмен бірлесіп тексерілді, өтініш қанағаттандырылды.")


def _weighted(rng, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


def _person(rng, serial):
    sex = rng.choice("mf")
    if sex == "m":
        name = f"{rng.choice(SURNAMES_M)} {rng.choice(NAMES_M)} {rng.choice(PATRONYMIC_ROOTS)}ұлы"
    else:
        name = f"{rng.choice(SURNAMES_F)} {rng.choice(NAMES_F)} {rng.choice(PATRONYMIC_ROOTS)}қызы"
    born = datetime(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28)).date()
    iin = make_iin(born, sex, serial % 9000 + 1) if rng.random() < 0.62 else None
    phone = f"+77{rng.choice(('01', '02', '05', '07', '08', '47', '71', '75', '76', '77'))}{rng.randint(1000000, 9999999)}" \
        if rng.random() < 0.88 else None
    return name, iin, phone


def load(count=DEMO_APPEALS, seed=20240601):
    rng = random.Random(seed)
    start, end = demo_period()
    offices = db.session.scalars(sa.select(Office).where(Office.is_active.is_(True)).order_by(Office.code)).all()
    categories = db.session.scalars(sa.select(Category).where(Category.is_active.is_(True))).all()
    settlements = db.session.scalars(sa.select(Settlement).where(Settlement.is_active.is_(True))).all()
    if not offices or not categories or not settlements:
        return 0
    by_district = defaultdict(list)
    for settlement in settlements:
        by_district[settlement.district_id].append(settlement)
    # The office staff (clerks) register; the coordinator answers for the region.
    clerks = [user for user in db.session.scalars(users_who_may("appeal.create")).all()
              if works_at_offices(user)]
    coordinator = db.session.scalar(users_who_may("mandate.flag"))
    sessions = db.session.scalars(
        sa.select(ReceptionSession).options(selectinload(ReceptionSession.hosts))
        .where(ReceptionSession.status == "held", ReceptionSession.date >= start, ReceptionSession.date <= end)
        .order_by(ReceptionSession.date, ReceptionSession.start_time)
    ).all()
    sessions = [s for s in sessions if s.hosts]
    today = local_now().date()
    working_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    working_days = [d for d in working_days if d.weekday() < 5] or working_days

    from_sessions = round(count * SESSION_SHARE) if sessions else 0
    drafts = []
    for index in range(count):
        if index < from_sessions:
            session = sessions[index % len(sessions)] if index < len(sessions) else rng.choice(sessions)
            office = session.office
            begin = datetime.combine(session.date, session.start_time)
            span = max(1, int((datetime.combine(session.date, session.end_time) - begin).total_seconds() // 60) - 5)
            received = begin + timedelta(minutes=rng.randrange(span))
            channel, host_id, session_id = "session", rng.choice(session.hosts).id, session.id
        else:
            office = rng.choice(offices)
            day = rng.choice(working_days)
            received = datetime.combine(day, time(9, 0)) + timedelta(minutes=rng.randrange(9 * 60))
            channel, host_id, session_id = _weighted(rng, OTHER_CHANNELS), None, None
        drafts.append((received, office, channel, host_id, session_id))
    # Numbers follow the order of receipt within each office, as if registered as they came in.
    drafts.sort(key=lambda d: d[0])

    with write_transaction():
        # Reserve each office's block of numbers through the live counter, in this one transaction.
        needed = defaultdict(int)
        for received, office, *_rest in drafts:
            needed[(office.code, received.year)] += 1
        first_seq = {}
        table = NumberSequence.__table__
        for (code, year), amount in needed.items():
            first = next_number(f"appeal:{code}", year)
            db.session.execute(sa.update(table).where(table.c.scope == f"appeal:{code}", table.c.year == year)
                               .values(last_value=table.c.last_value + amount - 1))
            first_seq[(code, year)] = first
        rows = []
        repeat_candidates = []
        for serial, (received, office, channel, host_id, session_id) in enumerate(drafts, start=1):
            key = (office.code, received.year)
            seq = first_seq[key]
            first_seq[key] += 1
            local = by_district.get(office.district_id) or settlements
            settlement = rng.choice(local) if rng.random() < 0.9 else rng.choice(settlements)
            category = rng.choice(categories)
            kind = "individual"
            roll = rng.random()
            if roll < 0.05:
                kind = "collective"
            elif roll < 0.08 and channel != "session":
                kind = "anonymous"
            name, iin, phone = _person(rng, serial)
            summary = rng.choice(SUMMARIES.get(category.code, SUMMARIES["other"]))
            if kind == "collective":
                name = f"{settlement.name_kk} тұрғындары (өкілі: {name})"
                iin = None
            if kind == "anonymous":
                name, iin, phone = "", None, None
            due = add_working_days(received.date(), 15)
            row = {
                "office_id": office.id, "number": format_number(office.code, received.year, seq),
                "year": received.year, "seq": seq, "received_at": received, "channel": channel,
                "session_id": session_id, "host_id": host_id, "applicant_kind": kind, "applicant_name": name,
                "iin": iin, "phone": phone,
                "address": "" if kind == "anonymous" else f"{rng.choice(STREETS)} көшесі, {rng.randint(1, 120)}",
                "settlement_id": settlement.id, "signatories": rng.randint(5, 120) if kind == "collective" else None,
                "appeal_type": _weighted(rng, TYPES), "category_id": category.id, "summary": summary,
                "text": f"{summary}. Өтініш иесі мәселені тез арада қарауды сұрайды.",
                "status": "registered", "due_date": due, "original_due_date": due,
                "forwarded_to": "", "forwarded_at": None, "answer_text": "", "answered_at": None, "closed_at": None,
                "withdrawn_reason": "", "repeat_of_id": None, "responsible_id": None,
                "created_by_id": rng.choice(clerks).id if clerks else None,
                "created_at": utcnow(), "updated_at": utcnow(),
            }
            _advance(row, rng, today, clerks, coordinator)
            rows.append(row)
            if iin or phone:
                repeat_candidates.append(len(rows) - 1)
        # A few people came back about the same thing: their later appeals repeat the earlier ones.
        repeats = []
        for index in rng.sample(repeat_candidates, min(24, len(repeat_candidates) // 2)):
            later = rows[index]
            for earlier_index in range(index - 1, max(index - 400, -1), -1):
                earlier = rows[earlier_index]
                if earlier["settlement_id"] == later["settlement_id"] and earlier["received_at"] < later["received_at"]:
                    later.update(applicant_name=earlier["applicant_name"], iin=earlier["iin"], phone=earlier["phone"],
                                 summary=earlier["summary"], category_id=earlier["category_id"])
                    repeats.append((index, earlier_index))
                    break
        db.session.execute(sa.insert(Appeal), rows)
        ids = dict(db.session.execute(sa.select(Appeal.number, Appeal.id).where(
            Appeal.number.in_([row["number"] for row in rows]))).all())
        for index, earlier_index in repeats:
            db.session.execute(sa.update(Appeal).where(Appeal.id == ids[rows[index]["number"]])
                               .values(repeat_of_id=ids[rows[earlier_index]["number"]]))
        _history(rows, ids, rng, clerks)
    return len(rows)


def _advance(row, rng, today, clerks, coordinator):
    """Older appeals are further along: most answered or closed, a few still open past their deadline."""
    age = (today - row["received_at"].date()).days
    roll = rng.random()
    responsible = (rng.choice(clerks).id if clerks else None) if rng.random() < 0.85 else getattr(coordinator, "id", None)
    if age < 3 or roll < 0.12:
        return
    row["responsible_id"] = responsible
    if roll < 0.22:
        row["status"] = "in_review"
    elif roll < 0.28:
        row["status"] = "forwarded"
        row["forwarded_to"] = rng.choice(RECIPIENTS)
        row["forwarded_at"] = min(today, add_working_days(row["received_at"].date(), rng.randint(1, 3)))
    elif roll < 0.30:
        row["status"] = "withdrawn"
        row["withdrawn_reason"] = "Өтініш иесі өз өтінішін кері қайтарып алды"
    else:
        answered = min(today, add_working_days(row["received_at"].date(), rng.randint(2, 14)))
        row.update(status="answered", answer_text=rng.choice(ANSWERS), answered_at=answered)
        if rng.random() < 0.6 and answered < today:
            row["status"] = "closed"
            row["closed_at"] = datetime.combine(answered, time(17, 0))


def _history(rows, ids, rng, clerks):
    """Audit records behind the demo appeals, so their pages show a timeline like live ones."""
    records = []
    extensions = []
    for row in rows:
        appeal_id = ids[row["number"]]
        user = next((c for c in clerks if c.id == row["created_by_id"]), None)
        base = {"user_id": row["created_by_id"], "username": user.username if user else "system",
                "object_type": "appeals", "object_id": str(appeal_id), "object_label": row["number"],
                "ip_address": ""}
        created = row["received_at"] - timedelta(hours=5) + timedelta(minutes=rng.randint(1, 30))
        records.append({**base, "created_at": created, "action": "created",
                        "changes": {"status": [None, "registered"]}})
        status_path = {
            "in_review": ["in_review"], "forwarded": ["forwarded"], "withdrawn": ["withdrawn"],
            "answered": ["in_review", "answered"], "closed": ["in_review", "answered", "closed"],
        }.get(row["status"], [])
        previous = "registered"
        for step, status in enumerate(status_path, start=1):
            action = "forwarded" if status == "forwarded" else "status_changed"
            changes = {"status": [previous, status]}
            if status == "answered":
                changes["answer_text"] = [None, row["answer_text"]]
            if status == "forwarded":
                changes["forwarded_to"] = [None, row["forwarded_to"]]
            records.append({**base, "created_at": created + timedelta(days=step), "action": action, "changes": changes})
            previous = status
        if row["status"] == "in_review" and rng.random() < 0.15:
            new_due = row["due_date"] + timedelta(days=30)
            extensions.append({"appeal_id": appeal_id, "old_due_date": row["due_date"], "new_due_date": new_due,
                               "reason": "Қосымша ақпарат сұратылды, жауап күтілуде", "user_id": row["responsible_id"],
                               "created_at": created + timedelta(days=2)})
            records.append({**base, "created_at": created + timedelta(days=2), "action": "deadline_extended",
                            "changes": {"due_date": [row["due_date"].isoformat(), new_due.isoformat()]}})
    db.session.execute(sa.insert(AuditRecord), records)
    if extensions:
        db.session.execute(sa.insert(AppealExtension), extensions)
        for extension in extensions:
            db.session.execute(sa.update(Appeal).where(Appeal.id == extension["appeal_id"])
                               .values(due_date=extension["new_due_date"]))
