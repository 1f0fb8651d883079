"""The sandbox's people and demo dataset, built only through Birge's services.

Why this exists: a Union staff member or a donor's evaluator should meet Birge with a populated
network (three practice communities, members across several districts, a newcomer waiting for
approval) and be able to act as any of a few personas. Everything is written through the same
service functions the bot uses (`members.submit_application`, `approve_member`,
`roles.grant_role`, `invites.create_invite` …), so the demo follows every rule the bot follows.

Extending it: each feature adds one `async def add_<feature>(demo: Demo) -> None` below and
appends it to `STEPS`. A step finds the people it needs in `demo.ids` (member ids by key) and
records anything the page should know in `demo.notes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlmodel import col, select

from bot.services import invites, members, reference, roles
from bot.services.members import Application
from storage.db import Database
from storage.enums import Position, Role
from storage.models import Community, District, Invite, Member, Municipality

# --- people ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A demo Telegram account and, unless it is a visitor, the member behind it."""

    key: str
    telegram_id: int
    full_name: str
    username: str | None = None
    language: str = "ru"  # the member's language in Birge and the Telegram app's language
    position: Position = Position.HEAD_AO
    district: str | None = None  # district code from storage/reference/geography.csv
    region: str | None = None  # only for people without a district
    municipality: str | None = None  # municipality code
    municipality_other: str | None = None
    communities: tuple[str, ...] = ()
    leads: str | None = None  # community code this person leads in their district
    roles: tuple[Role, ...] = ()  # further roles (moderator, expert)
    staff: bool = False  # Union staff, bootstrapped as `birge admin add` does
    pending: bool = False  # applied, waiting for a decision
    registered: bool = True  # False: has never opened the bot

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0]

    @property
    def last_name(self) -> str | None:
        rest = self.full_name.split()[1:]
        return " ".join(rest) or None


@dataclass(frozen=True)
class Persona:
    """Someone the page lets you act as, with a short description in ky, ru and en."""

    person: Person
    title: dict[str, str]
    about: dict[str, str]
    icon: str

    @property
    def key(self) -> str:
        return self.person.key


VISITOR = Person("visitor", 700_000_001, "Нурбек Асанов", username="nurbek_visitor",
                 registered=False)
TALAS_LEADER = Person("talas_leader", 700_000_002, "Бакыт Осмонов", username="bakyt_talas",
                      language="ky", position=Position.HEAD_AO, district="talas",
                      municipality="omuraliev", communities=("heads",), leads="heads")
LEYLEK_FINANCE = Person("leylek_finance", 700_000_003, "Гулнара Ташиева",
                        username="gulnara_leylek", language="ru", position=Position.FINANCE,
                        district="leylek", municipality="katran", communities=("finance",))
STAFF = Person("staff", 700_000_004, "Айгерим Касымова", username="aigerim_union",
               language="ru", position=Position.EXPERT, staff=True)
LAWYER = Person("lawyer", 700_000_005, "Эркин Сыдыков", username="erkin_lawyer", language="ru",
                position=Position.EXPERT, region="bishkek-city", roles=(Role.EXPERT,))
MODERATOR = Person("moderator", 700_000_006, "Жылдыз Абдыкалыкова", username="jyldyz_mod",
                   language="ky", position=Position.SECRETARY, district="chatkal",
                   municipality="kanysh-kyya", communities=("secretaries", "heads"),
                   roles=(Role.MODERATOR,))
LIAISON = Person("liaison", 700_000_008, "Эрмек Жумабаев", username="ermek_minfin",
                 language="ru", position=Position.STATE_BODY, region="bishkek-city")
LEAVER = Person("leaver", 700_000_007, "Эркинбек Жумабаев", username="erkinbek_j",
                language="ky", position=Position.DEPUTY, district="leylek",
                municipality="sumbula", communities=("deputies",))
PERSONAS: tuple[Persona, ...] = (
    Persona(VISITOR, icon="🙋", title={
        "ky": "Жаңы келүүчү", "ru": "Новый посетитель", "en": "New visitor",
    }, about={
        "ky": "Азырынча катталган эмес: /start жөнөтүп, Birgeге кошулуп көрүңүз.",
        "ru": "Ещё не зарегистрирован: отправьте /start и пройдите вступление в Birge.",
        "en": "Not registered yet: send /start and go through joining Birge.",
    }),
    Persona(TALAS_LEADER, icon="🏔️", title={
        "ky": "Талас районундагы айыл өкмөтү башчыларынын лидери",
        "ru": "Районный лидер глав айыл окмоту, Таласский район",
        "en": "District leader of heads of aiyl okmotu, Talas",
    }, about={
        "ky": "Өмүралиев айыл өкмөтүнүн башчысы. Өз районунун жаңы катышуучуларын бекитет, "
              "чакыруу жасайт.",
        "ru": "Глава айыл окмоту Омуралиев. Одобряет новичков своего района, создаёт приглашения.",
        "en": "Head of Omuraliev aiyl okmotu. Approves newcomers of the district, "
              "makes invitations.",
    }),
    Persona(LEYLEK_FINANCE, icon="📊", title={
        "ky": "Лейлек районундагы финансы адиси",
        "ru": "Финансист, Лейлекский район",
        "en": "Finance officer, Leylek",
    }, about={
        "ky": "Катран айыл аймагы. Финансисттердин практика жамаатынын катардагы катышуучусу.",
        "ru": "Катранский айылный аймак. Рядовой участник сообщества практиков финансистов.",
        "en": "Katran aiyl aimak. A member of the finance officers' community.",
    }),
    Persona(MODERATOR, icon="🛡️", title={
        "ky": "Модератор, Чаткал району",
        "ru": "Модератор, Чаткальский район",
        "en": "Moderator, Chatkal",
    }, about={
        "ky": "Каныш-Кыя айыл өкмөтүнүн жооптуу катчысы, тематикалык топтордун модератору.",
        "ru": "Ответственный секретарь айыл окмоту Каныш-Кыя, модератор тематических групп.",
        "en": "Responsible secretary in Kanysh-Kyya, moderator of topic groups.",
    }),
    Persona(LAWYER, icon="⚖️", title={
        "ky": "Юрист, эксперт",
        "ru": "Юрист, эксперт",
        "en": "Lawyer, expert",
    }, about={
        "ky": "Бишкектеги юрист: суроолорго жооп берет, укуктук жардам көрсөтөт.",
        "ru": "Юрист из Бишкека: отвечает на вопросы, оказывает правовую помощь.",
        "en": "A lawyer in Bishkek: answers questions and gives legal help.",
    }),
    Persona(LIAISON, icon="🏢", title={
        "ky": "Финансы министрлигинин өкүлү", "ru": "Представитель Минфина",
        "en": "Ministry of Finance liaison",
    }, about={
        "ky": "Министрликке жөнөтүлгөн маселелерди көрүп, жооп берет; жер салыгы боюнча жооп "
              "берилген.",
        "ru": "Видит обращения, адресованные министерству, и отвечает на них; по земельному "
              "налогу ответ уже дан.",
        "en": "Sees what is addressed to the ministry (/liaison) and answers; the land-tax "
              "dossier is answered.",
    }),
    Persona(LEAVER, icon="👋", title={
        "ky": "Кетүүнү каалаган катышуучу",
        "ru": "Участник, который хочет уйти",
        "en": "A member who wants to leave",
    }, about={
        "ky": "Сумбула айыл аймагынын депутаты. Маалыматын жүктөп алып, аккаунтун өчүрө алат.",
        "ru": "Депутат из Сумбулинского айылного аймака. Скачивает свои данные и удаляет "
              "аккаунт.",
        "en": "A deputy in Sumbula. Downloads their data and deletes the account in /privacy.",
    }),
    Persona(STAFF, icon="🏛️", title={
        "ky": "ЖӨБ союзунун кызматкери",
        "ru": "Сотрудник Союза МСУ",
        "en": "Union of LSGs staff member",
    }, about={
        "ky": "Администратор: каалаган жаңы катышуучуну бекитет, ар кандай ролго чакырат.",
        "ru": "Администратор: одобряет любых новичков, приглашает на любую роль.",
        "en": "Administrator: approves any newcomer, invites to any role.",
    }),
)

# The rest of the network: members the personas meet as colleagues, leaders and newcomers.
OTHERS: tuple[Person, ...] = (
    Person("leylek_heads_leader", 700_000_011, "Нурлан Абдылдаев", language="ky",
           position=Position.HEAD_AO, district="leylek", municipality="toguz-bulak",
           communities=("heads",), leads="heads"),
    Person("leylek_finance_leader", 700_000_012, "Мирлан Эргешов", language="ru",
           position=Position.FINANCE, district="leylek", municipality="sumbula",
           communities=("finance",), leads="finance"),
    Person("chatkal_deputy_leader", 700_000_013, "Канат Бейшеев", language="ky",
           position=Position.DEPUTY, district="chatkal", municipality="terek-sai",
           communities=("deputies",), leads="deputies"),
    Person("aksy_finance", 700_000_014, "Динара Мамытова", language="ru",
           position=Position.FINANCE, district="aksy", municipality="tash-kumyr",
           communities=("finance",)),
    Person("toguz_toro_head", 700_000_015, "Улан Токтосунов", language="ky",
           position=Position.HEAD_AO, district="toguz-toro", municipality="kargalyk",
           communities=("heads",)),
    Person("toktogul_deputy", 700_000_016, "Самара Осмоналиева", language="ru",
           position=Position.DEPUTY, district="toktogul", municipality="kara-kul",
           communities=("deputies",)),
    Person("kara_buura_finance", 700_000_017, "Азамат Турдубаев", language="ky",
           position=Position.FINANCE, district="kara-buura", municipality_other="Кызыл-Адыр",
           communities=("finance",)),
    Person("kochkor_deputy", 700_000_018, "Чолпон Бекова", language="en",
           position=Position.DEPUTY, district="kochkor", municipality_other="Кочкор",
           communities=("deputies", "heads")),
    Person("talas_applicant", 700_000_019, "Айжан Садыкова", language="ru",
           position=Position.FINANCE, district="talas", municipality="omuraliev",
           communities=("finance",), pending=True),
    # Typed "Карак-Куль" for the town of Kara-Kul: a pending name for /places to merge.
    Person("toktogul_head", 700_000_020, "Бекжан Мамытов", language="ru",
           position=Position.HEAD_AO, district="toktogul", municipality_other="Карак-Куль",
           communities=("heads",)),
)

PEOPLE: tuple[Person, ...] = tuple(p.person for p in PERSONAS) + OTHERS
FORUM_CHAT_ID = -1_001_000_000_001
FORUM_TITLE = "Birge forum"


# --- building the dataset --------------------------------------------------------------------


@dataclass
class Demo:
    """The database being filled, and what the steps so far have made."""

    db: Database
    ids: dict[str, int] = field(default_factory=dict)  # person key -> member id
    notes: dict[str, str] = field(default_factory=dict)  # e.g. "invite_code"

    async def district(self, code: str) -> int:
        async with self.db.read() as s:
            found = (await s.exec(select(District).where(District.code == code))).one()
        assert found.id is not None
        return found.id

    async def region_of(self, district_id: int) -> int:
        async with self.db.read() as s:
            found = await s.get(District, district_id)
        assert found is not None
        return found.region_id

    async def region(self, code: str) -> int:
        places = await reference.regions(self.db, "en")
        return next(p.id for p in places if p.code == code)

    async def municipality(self, code: str) -> int:
        async with self.db.read() as s:
            found = (await s.exec(select(Municipality).where(Municipality.code == code))).one()
        assert found.id is not None
        return found.id

    async def community(self, code: str) -> int:
        async with self.db.read() as s:
            found = (await s.exec(select(Community).where(Community.code == code))).one()
        assert found.id is not None
        return found.id

    async def application(self, person: Person) -> Application:
        district = await self.district(person.district) if person.district else None
        if district is not None:
            region: int | None = await self.region_of(district)
        else:
            region = await self.region(person.region) if person.region else None
        return Application(
            full_name=person.full_name,
            language=person.language,
            position=person.position,
            region_id=region,
            district_id=district,
            municipality_id=await self.municipality(person.municipality)
            if person.municipality else None,
            municipality_other=person.municipality_other,
            community_ids=[await self.community(c) for c in person.communities],
        )


async def add_staff(demo: Demo) -> None:
    """The Union staff member, bootstrapped as `birge admin add` does."""
    for person in PEOPLE:
        if person.staff:
            member_id = await roles.bootstrap_admin(demo.db, person.telegram_id, person.full_name)
            await members.set_language(demo.db, member_id, person.language)
            demo.ids[person.key] = member_id


async def add_members(demo: Demo) -> None:
    """Everyone else who has joined: they apply as newcomers do and staff approve them."""
    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    for person in PEOPLE:
        if person.staff or person.pending or not person.registered:
            continue
        submitted = await members.submit_application(
            demo.db, person.telegram_id, person.username, await demo.application(person))
        demo.ids[person.key] = submitted.member.id
        await members.approve_member(demo.db, staff_id, submitted.member.id)


async def add_roles(demo: Demo) -> None:
    """District leaders of the three practice communities, a moderator, a lawyer."""
    for person in PEOPLE:
        member_id = demo.ids.get(person.key)
        if member_id is None:
            continue
        if person.leads:
            assert person.district is not None
            await roles.grant_role(demo.db, None, member_id, Role.DISTRICT_LEADER,
                                   community_id=await demo.community(person.leads),
                                   district_id=await demo.district(person.district))
        for role in person.roles:
            await roles.grant_role(demo.db, None, member_id, role)


async def add_pending(demo: Demo) -> None:
    """A newcomer waiting for approval: their district's leaders and staff get a notice."""
    for person in PEOPLE:
        if person.pending:
            submitted = await members.submit_application(
                demo.db, person.telegram_id, person.username, await demo.application(person))
            demo.ids[person.key] = submitted.member.id


async def add_invites(demo: Demo) -> None:
    """An unused invitation from the Talas leader that the page offers the visitor."""
    invite = await invites.create_invite(
        demo.db, demo.ids[TALAS_LEADER.key], Role.MEMBER,
        community_id=await demo.community("heads"))
    demo.notes["invite_code"] = invite.code


DemoStep = Callable[[Demo], Awaitable[None]]

# Later features append their step here (topic groups, questions, legal cases, broadcasts …).
async def add_broadcasts(demo: Demo) -> None:
    """A law sent to everyone, and a draft law open for comments from the finance officers."""
    from datetime import timedelta

    from bot.services import broadcasts
    from bot.services.broadcasts import Audience, Draft
    from storage.enums import BroadcastKind
    from storage.types import utcnow

    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    await broadcasts.submit_broadcast(demo.db, staff_id, Draft(
        kind=BroadcastKind.LAW, title="Жергиликтүү бюджет жөнүндө мыйзам / Закон о местном бюджете",
        text_ky="Жогорку Кеңеш жергиликтүү бюджеттердин кирешелери жөнүндө мыйзамды кабыл алды.",
        text_ru="Жогорку Кенеш принял закон о доходах местных бюджетов.",
        text_en="The Jogorku Kenesh adopted a law on local budget revenues.",
        source_url="https://cbd.minjust.gov.kg/"))
    await broadcasts.submit_broadcast(demo.db, staff_id, Draft(
        kind=BroadcastKind.DRAFT_LAW, title="Муниципалдык социалдык заказ / Муниципальный "
        "социальный заказ",
        text_ky="Мыйзам долбоору талкууга коюлду. Пикириңизди жазыңыз.",
        text_ru="Законопроект вынесен на обсуждение. Напишите свои замечания.",
        comments_until=utcnow() + timedelta(days=14),
        audience=Audience(communities=[await demo.community("finance")])))


async def add_national_issues(demo: Demo) -> None:
    """Two national issues with co-signers across districts; the land-tax one is forwarded to
    the Ministry of Finance in a dossier, the social-order one waits for the staff."""
    from bot.services import dossiers, national_issues
    from bot.services.national_issues import IssueDraft
    from storage.enums import IssueTopic
    from storage.models import StateBody

    async def body(code: str) -> int:
        async with demo.db.read() as s:
            found = (await s.exec(select(StateBody).where(StateBody.code == code))).one()
        assert found.id is not None
        return found.id

    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    minfin = await body("minfin")
    land = await national_issues.raise_issue(demo.db, demo.ids[TALAS_LEADER.key], IssueDraft(
        title="Земельный налог уходит из бюджета айыл окмоту",
        topic=IssueTopic.LAND,
        problem="Земельный налог с земель, переданных в аренду, зачисляется в районный бюджет; "
                "айыл окмоту теряет до трети собственных доходов.",
        cause="Порядок зачисления земельного налога в Бюджетном кодексе.",
        solution="Зачислять земельный налог в местный бюджет полностью, по месту нахождения "
                 "земли.",
        state_body_id=minfin))
    assert land.id is not None
    for key, comment in (("leylek_finance", "В Катране то же самое."),
                         ("toguz_toro_head", None), ("aksy_finance", None),
                         ("toktogul_deputy", "Кенеш принял обращение."),
                         ("kara_buura_finance", None), ("moderator", None)):
        await national_issues.cosign(demo.db, demo.ids[key], land.id, comment)
    dossier = await dossiers.create_dossier(demo.db, staff_id, minfin)
    assert dossier.id is not None
    await dossiers.add_to_dossier(demo.db, staff_id, dossier.id, land.id)
    await dossiers.record_sent(demo.db, staff_id, dossier.id, "официальное письмо",
                               "01-12/345")
    order = await national_issues.raise_issue(demo.db, demo.ids[LEYLEK_FINANCE.key], IssueDraft(
        title="Нет порядка финансирования муниципального социального заказа",
        topic=IssueTopic.SOCIAL_ORDER,
        problem="Айыл окмоту не могут заключить договор с НКО: казначейство не принимает "
                "расходы на социальный заказ.",
        solution="Утвердить порядок финансирования социального заказа из местного бюджета.",
        state_body_id=await body("gamsumo")))
    assert order.id is not None
    for key in ("chatkal_deputy_leader", "kochkor_deputy"):
        await national_issues.cosign(demo.db, demo.ids[key], order.id)


async def add_legal(demo: Demo) -> None:
    """The finance officer in Leylek asked the Union's lawyers twice: one case answered by the
    lawyer persona, one new in the lawyers' queue."""
    from datetime import timedelta

    from bot.services import legal
    from bot.services.legal import Intake
    from storage.enums import LegalCategory
    from storage.types import utcnow

    lawyer_id = next((demo.ids[p.key] for p in PEOPLE
                      if Role.EXPERT in p.roles and p.key in demo.ids), None)
    if lawyer_id is None:  # the dataset lost its lawyer: make one
        submitted = await members.submit_application(
            demo.db, LAWYER.telegram_id, LAWYER.username, await demo.application(LAWYER))
        lawyer_id = submitted.member.id
        staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
        await members.approve_member(demo.db, staff_id, lawyer_id)
        await roles.grant_role(demo.db, None, lawyer_id, Role.EXPERT)
        demo.ids[LAWYER.key] = lawyer_id
    requester = demo.ids[LEYLEK_FINANCE.key]
    answered = await legal.open_case(demo.db, requester, Intake(
        category=LegalCategory.BUDGET, consent=True,
        summary="Районная налоговая служба требует, чтобы айыл окмоту вернул земельный налог, "
                "собранный в прошлом году. Законно ли это требование?",
        act="Письмо налоговой службы № 45 от 10.11.2026"))
    await legal.take_case(demo.db, lawyer_id, answered)
    await legal.answer_case(demo.db, lawyer_id, answered,
                            "Требование спорное: срок исковой давности по налогам — три года, "
                            "но возврат возможен только по решению суда. Ответьте налоговой "
                            "письмом со ссылкой на Налоговый кодекс.")
    new = await legal.open_case(demo.db, requester, Intake(
        category=LegalCategory.KENESH, consent=True, deadline=utcnow() + timedelta(days=5),
        summary="Депутат айылного кенеша пропустил пять сессий подряд. Можно ли досрочно "
                "прекратить его полномочия?"))
    demo.notes["legal_cases"] = f"L-{answered}, L-{new}"


async def add_digest_settings(demo: Demo) -> None:
    """Most keep the weekly Monday digest; one member chose a daily one at 18:00 without quiet
    hours, so /settings shows both."""
    from bot.services import settings
    from bot.services.settings import Change

    chosen = next((demo.ids[p.key] for p in PEOPLE
                   if p.key in demo.ids and not p.staff and not p.pending), None)
    if chosen is None:
        return
    for change in (Change(frequency="daily"), Change(hour=18), Change(quiet_hours=False)):
        await settings.update_settings(demo.db, chosen, change)


async def add_questions(demo: Demo) -> None:
    """Topic groups at work: the moderator persona moderates three groups; the Leylek finance
    officer's budget question is answered and accepted, the Talas leader's land question waits,
    and an anonymous kenesh question has an answer not yet accepted."""
    from bot.services import groups, questions
    from bot.services.questions import QuestionDraft
    from storage.models import TopicGroup

    async def group(code: str) -> int:
        async with demo.db.read() as s:
            found = (await s.exec(select(TopicGroup).where(TopicGroup.code == code))).one()
        assert found.id is not None
        return found.id

    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    moderator = demo.ids[MODERATOR.key]
    for code in ("budget", "land", "kenesh", "waste"):
        await groups.appoint_moderator(demo.db, staff_id, await group(code), moderator)
    finance, leader = demo.ids[LEYLEK_FINANCE.key], demo.ids[TALAS_LEADER.key]
    await groups.join_group(demo.db, leader, await group("budget"))
    budget = await questions.ask_question(demo.db, finance, QuestionDraft(
        await group("budget"),
        "Трансферт из республиканского бюджета пришёл в сентябре. Как внести изменения в "
        "местный бюджет в середине года?"))
    answer = await questions.answer_question(
        demo.db, moderator, budget,
        "Айыл окмоту готовит проект изменений, айылный кенеш утверждает их постановлением на "
        "сессии. Трансферт отражается в доходной части, расходы — по его назначению.")
    await questions.accept_answer(demo.db, finance, answer)
    await questions.ask_question(demo.db, leader, QuestionDraft(
        await group("land"),
        "Жайыттарды ижарага берүүдө аукцион өткөрүү милдеттүүбү же түз келишим түзсө болобу?"))
    kenesh = await questions.ask_question(demo.db, finance, QuestionDraft(
        await group("kenesh"),
        "Депутат сессияга үч жолу катары менен келбесе, кенеш эмне кыла алат?", anonymous=True))
    await questions.answer_question(
        demo.db, leader, kenesh,
        "Регламентке ылайык, кенеш депутаттын ыйгарым укуктарын токтотуу маселесин карай алат.")


async def add_people(demo: Demo) -> None:
    """The member directory and personal data: a Kochkor deputy hides from the directory, the
    Leylek finance officer shows her username, the Talas leader has written to her through
    Birge; "Карак-Куль" typed in Toktogul waits in /places to be merged into Kara-Kul; the
    leaving member has contributions to download before deleting the account."""
    from bot.services import people, questions
    from bot.services.questions import QuestionDraft
    from storage.models import TopicGroup

    ids = demo.ids
    if "kochkor_deputy" in ids:
        await people.set_listing(demo.db, ids["kochkor_deputy"], hidden=True)
    await people.set_listing(demo.db, ids[LEYLEK_FINANCE.key], show_username=True)
    await people.write(demo.db, ids[TALAS_LEADER.key], ids[LEYLEK_FINANCE.key], people.Draft(
        "Гулнара, саламатсызбы! Бюджетке өзгөртүүнү кенешке кантип киргизесиздер?"))
    leaver = ids.get(LEAVER.key)
    if leaver is not None:
        async with demo.db.read() as s:
            kenesh = (await s.exec(select(TopicGroup).where(TopicGroup.code == "kenesh"))).one()
        await questions.ask_question(demo.db, leaver, QuestionDraft(
            kenesh.id or 0, "Айылдык кеңештин сессиясын кантип онлайн өткөрсө болот?"))
    demo.notes["municipality_to_merge"] = "Карак-Куль → город Кара-Куль (Toktogul)"


async def add_surveys(demo: Demo) -> None:
    """The trust survey (a 10-point scale, as in the seeds) for Leylek district, and a quick
    poll for the finance officers, both from the Union staff."""
    from datetime import timedelta

    from bot.services import surveys
    from bot.services.broadcasts import Audience
    from bot.services.surveys import SurveyDraft
    from storage.types import utcnow

    def say(ky: str, ru: str, en: str) -> dict[str, str]:
        return {"ky": ky, "ru": ru, "en": en}

    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    yes_no = [{"name": "yes", "label": say("Ооба", "Да", "Yes")},
              {"name": "no", "label": say("Жок", "Нет", "No")}]
    await surveys.create_survey(demo.db, staff_id, SurveyDraft(
        title=say("Жергиликтүү бийликке ишеним", "Доверие местной власти",
                  "Trust in local government"),
        intro=say("Үч суроо, эки мүнөт.", "Три вопроса, две минуты.",
                  "Three questions, two minutes."),
        questions=[
            {"name": "trust", "type": "scale", "scale": 10,
             "label": say("Айыл өкмөтүнө канчалык ишенесиз?",
                          "Насколько Вы доверяете айыл окмоту?",
                          "How much do you trust the aiyl okmotu?"),
             "low": say("такыр жок", "совсем нет", "not at all"),
             "high": say("толук", "полностью", "fully")},
            {"name": "meetings", "type": "single", "choices": yes_no,
             "label": say("Быйыл элдик жыйын болдубу?", "Было ли в этом году собрание жителей?",
                          "Was there a community meeting this year?")},
            {"name": "why", "type": "text", "required": False,
             "label": say("Эмне ишенимди жогорулатат?", "Что повысит доверие?",
                          "What would raise trust?")},
        ],
        deadline=utcnow() + timedelta(days=14), anonymous=True,
        audience=Audience(districts=[await demo.district("leylek")])))
    await surveys.create_survey(demo.db, staff_id, SurveyDraft(
        title=say("Окутуу", "Обучение", "Training"),
        questions=[{"name": "day", "type": "single",
                    "label": say("Бюджет боюнча окутуу качан ыңгайлуу?",
                                 "Когда удобно обучение по бюджету?",
                                 "When suits the budget training?"),
                    "choices": [{"name": "mon", "label": say("Дүйшөмбү", "Понедельник",
                                                             "Monday")},
                                {"name": "fri", "label": say("Жума", "Пятница", "Friday")}]}],
        deadline=utcnow() + timedelta(days=7), kind="poll",
        audience=Audience(communities=[await demo.community("finance")])))


async def add_library(demo: Demo) -> None:
    """The library: a published legal act and a model charter (staff), the Leylek finance
    officer's practice waiting for the moderator's review, and the Talas leader's published
    practice that Leylek says it uses."""
    from datetime import date

    from bot.services import library
    from bot.services.library import ItemDraft
    from storage.models import TopicGroup

    async def group(code: str) -> int:
        async with demo.db.read() as s:
            found = (await s.exec(select(TopicGroup).where(TopicGroup.code == code))).one()
        assert found.id is not None
        return found.id

    today = date.today()
    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    finance, leader = demo.ids[LEYLEK_FINANCE.key], demo.ids[TALAS_LEADER.key]
    await library.submit(demo.db, staff_id, ItemDraft(
        kind="legal_act", group_id=await group("budget"), number="93", adopted_on=date(2022, 4, 1),
        act_status="in_force", link="https://cbd.minjust.gov.kg/",
        texts={"ru": {"title": "Бюджетный кодекс Кыргызской Республики",
                      "body": "Порядок составления, утверждения и исполнения местных бюджетов.",
                      "issuer": "Жогорку Кенеш"},
               "ky": {"title": "Кыргыз Республикасынын Бюджеттик кодекси",
                      "issuer": "Жогорку Кеңеш"}}), today)
    await library.submit(demo.db, staff_id, ItemDraft(
        kind="template", group_id=await group("legal"),
        texts={"ru": {"title": "Типовой устав местного сообщества",
                      "body": "Образец устава, который айылный кенеш принимает на сессии."},
               "ky": {"title": "Жергиликтүү жамааттын үлгү уставы",
                      "body": "Айылдык кеңеш сессияда кабыл алган уставдын үлгүсү."}}), today)
    await library.submit(demo.db, finance, ItemDraft(
        kind="practice", group_id=await group("budget"), texts={"ru": {
            "title": "Открытые бюджетные слушания в каждом селе",
            "problem": "Жители не знали, на что тратится местный бюджет.",
            "actions": "Айыл окмоту провёл слушания в каждом селе перед сессией кенеша.",
            "results": "Сбор земельного налога вырос на 18%."}}), today)
    tariff = await library.submit(demo.db, leader, ItemDraft(
        kind="practice", group_id=await group("waste"), texts={"ky": {
            "title": "Таштанды чыгаруу үчүн тариф",
            "problem": "Таштанды чыгаруу акысыз болгондуктан, кызмат токтоп калчу.",
            "actions": "Кеңеш тарифти бекитип, жамаат менен келишим түздү.",
            "results": "Тургундардын 85% төлөйт."}}), today)
    moderator = demo.ids[MODERATOR.key]
    await library.review(demo.db, moderator, tariff.item_id, "approve")
    await library.adopt(demo.db, finance, tariff.item_id)
    demo.notes["library_tariff"] = library.label(tariff.item_id)  # shared at the exchange visit


@dataclass(frozen=True)
class DemoFile:
    """A file the demo data refers to by its Telegram file id; the sandbox gives it to the
    emulator under the same id each time it starts."""

    file_id: str
    name: str
    mime_type: str
    data: bytes


EXCHANGE_SLIDES = DemoFile(
    "BQACAgIAAxkBAAdemo-event-exchange-slides", "obmen-opytom-omuraliev.pdf",
    "application/pdf", b"%PDF-1.4\n% Birge demo: exchange visit to Omuraliev, slides\n%%EOF\n")
FILES: tuple[DemoFile, ...] = (EXCHANGE_SLIDES,)


async def add_events(demo: Demo) -> None:
    """An upcoming webinar for everyone with a few registrations (the personas are invited and
    can register on the page), and last month's exchange visit to Omuraliev for heads of aiyl
    okmotu, with attendance, slides and ratings. The services take only events in the future,
    so the visit is created ahead and its dates are then moved back a month."""
    from datetime import timedelta

    from sqlmodel import update

    from bot.services import event_results, events, library
    from bot.services.broadcasts import Audience
    from bot.services.event_results import Material
    from bot.services.events import EventDraft
    from storage.enums import EventKind
    from storage.models import Event
    from storage.types import utcnow

    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    ids = demo.ids
    soon = (utcnow() + timedelta(days=4)).replace(hour=4, minute=0, second=0, microsecond=0)
    webinar = await events.create_event(demo.db, staff_id, EventDraft(
        kind=EventKind.WEBINAR,
        title_ky="Жергиликтүү бюджет боюнча ачык угуулар: кантип өткөрүү керек",
        title_ru="Публичные слушания по местному бюджету: как их проводить",
        title_en="Public hearings on the local budget: how to hold them",
        description_ky="Финансы адистери жана айыл өкмөтү башчылары үчүн вебинар: мыйзам "
                       "эмнени талап кылат, тургундарды кантип чакыруу керек, протоколдун үлгүсү.",
        description_ru="Вебинар для финансистов и глав айыл окмоту: что требует закон, как "
                       "пригласить жителей, образец протокола.",
        description_en="A webinar for finance officers and heads of aiyl okmotu: what the law "
                       "requires, how to invite residents, a model protocol.",
        starts_at=soon, ends_at=soon + timedelta(hours=2), capacity=40,
        online_url="https://meet.jit.si/birge-budget-hearings", audience=Audience()))
    for key in ("leylek_heads_leader", "aksy_finance", "toguz_toro_head", "toktogul_deputy"):
        if key in ids:
            await events.respond(demo.db, ids[key], webinar.event_id, "registered")
    if "leylek_finance_leader" in ids:
        await events.respond(demo.db, ids["leylek_finance_leader"], webinar.event_id, "maybe")

    ahead = utcnow() + timedelta(days=1)
    visit = await events.create_event(demo.db, staff_id, EventDraft(
        kind=EventKind.EXCHANGE,
        title_ky="Өмүралиев айыл аймагына тажрыйба алмашуу сапары",
        title_ru="Обмен опытом: визит в Омуралиевский айылный аймак",
        description_ky="Катуу тиричилик калдыктарын чогултуу жана айыл чарба жайыттарын "
                       "башкаруу тажрыйбасы менен таанышуу.",
        description_ru="Знакомство с опытом сбора твёрдых бытовых отходов и управления "
                       "пастбищами.",
        starts_at=ahead, ends_at=ahead + timedelta(hours=8), capacity=12, per_district=3,
        district_limits={await demo.district("talas"): 5},  # the host district sends more
        address="Талас району, Өмүралиев айыл өкмөтү",
        host_municipality_id=await demo.municipality("omuraliev"),
        audience=Audience(communities=[await demo.community("heads")])))
    came = [ids[k] for k in ("leylek_heads_leader", "toguz_toro_head", "kochkor_deputy")
            if k in ids]
    for member_id in came:
        await events.respond(demo.db, member_id, visit.event_id, "registered")
    month_ago = timedelta(days=30)
    async with demo.db.transaction() as s:
        await s.exec(update(Event).where(Event.id == visit.event_id).values(  # type: ignore[arg-type]
            starts_at=ahead - month_ago, ends_at=ahead - month_ago + timedelta(hours=8),
            registration_until=ahead - month_ago))
    for member_id in came[:2]:
        await event_results.toggle_attendance(demo.db, staff_id, visit.event_id, member_id)
    await event_results.add_material(demo.db, staff_id, visit.event_id, Material(
        EXCHANGE_SLIDES.file_id, EXCHANGE_SLIDES.name, EXCHANGE_SLIDES.mime_type,
        len(EXCHANGE_SLIDES.data)))
    tariff = library.parse_label(demo.notes.get("library_tariff", ""))
    if tariff is not None:  # the host's practice from the library
        await event_results.add_library_item(demo.db, staff_id, visit.event_id, tariff, "ru")
    await event_results.send_materials(demo.db, staff_id, visit.event_id)
    await event_results.rate_event(demo.db, came[0], visit.event_id, 5)
    await event_results.comment_rating(demo.db, came[0], visit.event_id,
                                       "Жайыт комитетинин тажрыйбасы абдан пайдалуу болду.")
    demo.notes["event_webinar"] = events.event_code(webinar.event_id)


async def add_vertical(demo: Demo) -> None:
    """Comments on the draft law, the Union's position with the leaders, an answering liaison."""
    from bot.sandbox import demo_vertical

    staff_id = next(demo.ids[p.key] for p in PEOPLE if p.staff)
    await demo_vertical.populate(demo.db, staff_id, demo.ids, demo.ids[LIAISON.key])


STEPS: list[DemoStep] = [add_staff, add_members, add_roles, add_pending, add_invites,
                         add_broadcasts, add_national_issues, add_legal, add_questions,
                         add_digest_settings, add_people, add_library, add_events,
                         add_surveys, add_vertical]


async def is_populated(db: Database) -> bool:
    return await members.by_telegram(db, STAFF.telegram_id) is not None


async def populate(db: Database) -> Demo:
    """Create the demo dataset in an empty (migrated) database."""
    demo = Demo(db)
    for step in STEPS:
        await step(demo)
    return demo


async def ensure(db: Database) -> bool:
    """Populate unless this database already has the demo; True when it was created now."""
    if await is_populated(db):
        return False
    await populate(db)
    return True


async def known_accounts(db: Database) -> list[tuple[int, str]]:
    """Every member's Telegram id and name (so the emulator knows them after a restart)."""
    async with db.read() as s:
        rows = (await s.exec(select(Member.telegram_id, Member.full_name)
                             .where(col(Member.telegram_id).is_not(None)))).all()
    return [(int(tid), name) for tid, name in rows if tid is not None]


async def open_invite(db: Database) -> str | None:
    """The code of the demo invitation while nobody has used it."""
    leader = await members.by_telegram(db, TALAS_LEADER.telegram_id)
    if leader is None:
        return None
    async with db.read() as s:
        found = (await s.exec(select(Invite).where(Invite.created_by_id == leader.id,
                                                   col(Invite.used_by_id).is_(None))
                              .order_by(col(Invite.id).desc()))).first()
    return found.code if found else None
