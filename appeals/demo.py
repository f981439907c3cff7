"""Demo data for `make run`: the Zhambyl regional branch and the briefing's month of work.

Each domain adds its part (appeals.<domain>.demo.load) on top of the reference data and users
created here, so the demo is built by the same services as real work.
"""
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from appeals.auth import services as accounts
from appeals.auth.models import User
from appeals.core.extensions import db
from appeals.reference.models import Category, District, Office, Region, Settlement

DEMO_PASSWORD = "qabyldau-demo"
# The briefing's month: 309 receptions held, 1218 appeals, 365 of them registered as mandates.
DEMO_SESSIONS_HELD = 309
DEMO_APPEALS = 1218
DEMO_MANDATES = 365


def demo_period():
    """The 30 days that ended yesterday, so the demo looks current whenever it is loaded."""
    from appeals.core.timeutil import last_full_days

    return last_full_days(30)

# (code, Kazakh, Russian and English name, settlements in Kazakh / Russian / English)
DISTRICTS = [
    ("TRZ", "Тараз қаласы", "город Тараз", "Taraz City",
     [("Тараз", "Тараз", "Taraz")]),
    ("BZK", "Байзақ ауданы", "Байзакский район", "Baizak District",
     [("Сарыкемер", "Сарыкемер", "Sarykemer"), ("Көктал", "Коктал", "Koktal"), ("Түймекент", "Туймекент", "Tuimekent"), ("Жетіжал", "Жетыжал", "Zhetyzhal"), ("Ботамойнақ", "Ботамойнак", "Botamoinak"), ("Диқан", "Дихан", "Dikhan")]),
    ("ZHB", "Жамбыл ауданы", "Жамбылский район", "Zhambyl District",
     [("Аса", "Аса", "Asa"), ("Бесағаш", "Бесагаш", "Besagash"), ("Қаракемер", "Каракемер", "Karakemer"), ("Айшабибі", "Айшабиби", "Aishabibi"), ("Гродеково", "Гродеково", "Grodekovo"), ("Қарой", "Карой", "Karoi")]),
    ("ZHL", "Жуалы ауданы", "Жуалынский район", "Zhualy District",
     [("Бауыржан Момышұлы", "Бауыржан Момышулы", "Bauyrzhan Momyshuly"), ("Мыңбұлақ", "Мынбулак", "Mynbulak"), ("Қошқарата", "Кошкарата", "Koshkarata"), ("Көкбастау", "Кокбастау", "Kokbastau"), ("Нұрлыкент", "Нурлыкент", "Nurlykent")]),
    ("KRD", "Қордай ауданы", "Кордайский район", "Kordai District",
     [("Қордай", "Кордай", "Kordai"), ("Сортөбе", "Сортобе", "Sortobe"), ("Масаншы", "Масанчи", "Masanchi"), ("Отар", "Отар", "Otar"), ("Кенен", "Кенен", "Kenen"), ("Бұлар батыр", "Булар батыр", "Bular Batyr")]),
    ("MRK", "Меркі ауданы", "Меркенский район", "Merke District",
     [("Меркі", "Мерке", "Merke"), ("Ақермен", "Акермен", "Akermen"), ("Сыпатай батыр", "Сыпатай батыр", "Sypatai Batyr"), ("Андас батыр", "Андас батыр", "Andas Batyr"), ("Рысқұлов", "Рыскулов", "Ryskulov")]),
    ("MNK", "Мойынқұм ауданы", "Мойынкумский район", "Moiynkum District",
     [("Мойынқұм", "Мойынкум", "Moiynkum"), ("Ұланбел", "Уланбель", "Ulanbel"), ("Бірлік", "Бирлик", "Birlik"), ("Хантау", "Хантау", "Khantau")]),
    ("SRS", "Сарысу ауданы", "Сарысуский район", "Sarysu District",
     [("Жаңатас", "Жанатас", "Zhanatas"), ("Саудакент", "Саудакент", "Saudakent"), ("Тоғызкент", "Тогызкент", "Togyzkent"), ("Үшбас", "Ушбас", "Ushbas")]),
    ("TLS", "Талас ауданы", "Таласский район", "Talas District",
     [("Қаратау", "Каратау", "Karatau"), ("Ақкөл", "Акколь", "Akkol"), ("Бостандық", "Бостандык", "Bostandyk"), ("Үшарал", "Ушарал", "Usharal")]),
    ("SHU", "Шу ауданы", "Шуский район", "Shu District",
     [("Төле би", "Толе би", "Tole Bi"), ("Шу", "Шу", "Shu"), ("Жаңажол", "Жанажол", "Zhanazhol"), ("Ақсу", "Аксу", "Aksu"), ("Дала", "Дала", "Dala")]),
    ("TRS", "Т.Рысқұлов ауданы", "район Т.Рыскулова", "T. Ryskulov District",
     [("Құлан", "Кулан", "Kulan"), ("Луговой", "Луговой", "Lugovoi"), ("Ақбұлақ", "Акбулак", "Akbulak"), ("Қайыңды", "Кайынды", "Kaiyndy"), ("Өрнек", "Орнек", "Ornek")]),
]

CATEGORIES = [
    ("housing", "Тұрғын үй", "Жилье", "Housing"),
    ("utilities", "Коммуналдық қызметтер", "Коммунальные услуги", "Utilities"),
    ("roads", "Жолдар", "Дороги", "Roads"),
    ("water", "Ауыз су", "Питьевая вода", "Drinking water"),
    ("health", "Денсаулық сақтау", "Здравоохранение", "Health"),
    ("education", "Білім беру", "Образование", "Education"),
    ("employment", "Жұмыспен қамту", "Занятость", "Employment"),
    ("social", "Әлеуметтік қолдау", "Социальная поддержка", "Social support"),
    ("land", "Жер қатынастары", "Земельные отношения", "Land"),
    ("agriculture", "Ауыл шаруашылығы", "Сельское хозяйство", "Agriculture"),
    ("transport", "Көлік", "Транспорт", "Public transport"),
    ("gas", "Газдандыру", "Газификация", "Gas supply"),
    ("order", "Құқық тәртібі", "Правопорядок", "Law and order"),
    ("ecology", "Экология", "Экология", "Environment"),
    ("culture", "Мәдениет және спорт", "Культура и спорт", "Culture and sport"),
    ("other", "Басқа", "Другое", "Other"),
]

USERS = [
    ("admin", "admin", (), "Әкімші Әлия"),
    ("central", "central", (), "Ахметова Сәуле Маратқызы"),
    ("coordinator", "coordinator", (), "Нарбаев Балабек Жанбекұлы"),
    ("clerk", "clerk", ("ZHM", "TRZ"), "Сәрсенбаева Гүлнұр"),
    ("clerk.kordai", "clerk", ("KRD",), "Өтегенов Ержан"),
    # The Kordai office's own coordinator: submits its mandate reports, which the regional one approves.
    ("coordinator.kordai", "coordinator", ("KRD",), "Жұмабаев Асқар"),
    ("host", "host", (), "Құлыбеков Нұрлан"),
    ("viewer", "viewer", (), "Баспасөз хатшысы"),
]


# The second region: one instance serves the whole country (the central office sees both regions).
SECOND_REGION = ("TUR", "Түркістан облысы", "Туркестанская область")
SECOND_DISTRICTS = [
    ("SRM", "Сайрам ауданы", "Сайрамский район", [("Ақсу", "Аксу"), ("Қарабұлақ", "Карабулак"), ("Қарамұрт", "Карамурт")]),
    ("TLB", "Төле би ауданы", "Толебийский район", [("Ленгер", "Ленгер"), ("Қасқасу", "Каскасу")]),
]
SECOND_USERS = [
    ("coordinator.turkistan", "coordinator", (), "Сейітов Бауыржан"),
    ("clerk.sairam", "clerk", ("SRM",), "Исаева Мадина"),
]


def load_reference():
    region = Region(code="ZHA", name_kk="Жамбыл облысы", name_ru="Жамбылская область", name_en="Zhambyl Region")
    db.session.add(region)
    regional = Office(
        code="ZHM", name_kk="Жамбыл облыстық филиалы", name_ru="Жамбылский областной филиал",
        name_en="Zhambyl regional branch",
        kind="regional", region=region, address="Тараз қ., Төле би даңғылы, 35", phone="+77262430000",
    )
    db.session.add(regional)
    for code, name_kk, name_ru, name_en, settlements in DISTRICTS:
        district = District(region=region, code=code, name_kk=name_kk, name_ru=name_ru, name_en=name_en)
        db.session.add(district)
        for index, (s_kk, s_ru, s_en) in enumerate(settlements, start=1):
            db.session.add(Settlement(district=district, name_kk=s_kk, name_ru=s_ru, name_en=s_en,
                                      kato=f"31{code}{index:03d}"))
        if code == "TRZ":
            regional.district = district
        db.session.add(Office(
            code=code, name_kk=f"{name_kk} аумақтық филиалы", name_ru=f"Территориальный филиал: {name_ru}",
            name_en=f"{name_en} territorial office",
            kind="territorial", parent=regional, district=district, region=region,
            address=f"{settlements[0][0]}, Абай көшесі, {len(code) * 7}", phone="",
        ))
    for order, (code, kk, ru, en) in enumerate(CATEGORIES):
        db.session.add(Category(code=code, name_kk=kk, name_ru=ru, name_en=en, sort_order=order))
    db.session.commit()


def load_users():
    for username, role, offices, full_name in USERS:
        accounts.create_user(username, DEMO_PASSWORD, role, offices, full_name=full_name)


def load_second_region():
    """The Turkistan region with its regional and one territorial office, a coordinator and a clerk:
    the central office sees both regions, each region's coordinator only their own. It is loaded after
    the Zhambyl month, whose figures (the briefing's) stay as they are."""
    code, name_kk, name_ru = SECOND_REGION
    region = Region(code=code, name_kk=name_kk, name_ru=name_ru)
    regional = Office(code="TKM", name_kk="Түркістан облыстық филиалы", name_ru="Туркестанский областной филиал",
                      kind="regional", region=region, address="Түркістан қ., Тәуке хан даңғылы, 2", phone="")
    db.session.add_all([region, regional])
    for d_code, d_kk, d_ru, settlements in SECOND_DISTRICTS:
        district = District(region=region, code=d_code, name_kk=d_kk, name_ru=d_ru)
        db.session.add(district)
        for index, (s_kk, s_ru) in enumerate(settlements, start=1):
            db.session.add(Settlement(district=district, name_kk=s_kk, name_ru=s_ru, kato=f"51{d_code}{index:03d}"))
        if d_code == "SRM":
            db.session.add(Office(code=d_code, name_kk=f"{d_kk} аумақтық филиалы",
                                  name_ru=f"Территориальный филиал: {d_ru}", kind="territorial", parent=regional,
                                  district=district, region=region, address=f"{settlements[0][0]}, Абай көшесі, 3"))
    db.session.commit()
    for username, role, offices, full_name in SECOND_USERS:
        accounts.create_user(username, DEMO_PASSWORD, role, offices, full_name=full_name, region_code=code)


def load_all():
    load_reference()
    load_users()
    for module_name in ("appeals.schedules.demo", "appeals.register.demo", "appeals.mandates.demo"):
        module = __import__(module_name, fromlist=["load"])
        module.load()
    load_second_region()


def demo_figures_text() -> str:
    """The demo month's figures, as the dashboard and the summary show them (appeals.reports.statistics)."""
    from appeals.reports.statistics import FIGURE_LABELS, FIGURES, figures

    first, last = demo_period()
    zhambyl = db.session.scalars(sa.select(Office.id).join(Region, Region.id == Office.region_id)
                                 .where(Region.code == "ZHA").order_by(Office.id)).all()
    totals = figures(first, last, office_ids=list(zhambyl))
    lines = [f"The demo month {first:%d.%m.%Y}–{last:%d.%m.%Y}:"]
    lines += [f"  {FIGURE_LABELS[name]}: {totals[name]}" for name in FIGURES]
    return "\n".join(lines)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@with_appcontext
def seed_demo_command(if_empty):
    """Load the demo branch: offices, users, a month of receptions, appeals and mandates."""
    if current_app.config.get("ENV_NAME") == "production":
        # Demo accounts share one published password: they must never exist on a real branch's server.
        click.echo("Error: seed-demo refuses to run when QABYLDAU_ENV=production.", err=True)
        sys.exit(2)
    if db.session.scalar(sa.select(sa.func.count(User.id))):
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        click.echo("Error: the database is not empty.", err=True)
        sys.exit(2)
    load_all()
    click.echo(demo_figures_text())
    click.echo("Demo data loaded. Log in at http://127.0.0.1:5000/login with:")
    for username, role, _offices, _name in USERS + SECOND_USERS:
        click.echo(f"  {username:<14} {role:<12} password: {DEMO_PASSWORD}")
