"""The public column 政协委员提案: published replies only, as the district website shows them."""

import datetime
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Proposer, Unit, User
from demo.seed import SUMMARY_047
from proposals.models import Assignment, Category, Proposal, Session
from replies import services
from replies.models import Publication, ReplyLetter
from replies.public_cache import public_column_changed

TITLE = "重庆市梁平区科学技术局关于政协重庆市梁平区政协第十五届委员会第一次会议第069号提案的答复函"
INVITATION = "对以上答复有什么意见，请填写在答复函回执单上，以便进一步改进工作。"


@pytest.fixture(autouse=True)
def empty_cache():
    # The column keeps its counts in the cache; each test starts without them.
    cache.clear()


@pytest.fixture
def demo(db):
    call_command("load_demo", "--force", stdout=StringIO())


@pytest.fixture
def tiwei(demo):
    return User.objects.get(username="tiwei")


def letter_of(number):
    return ReplyLetter.objects.get(assignment__proposal__number=number)


@pytest.fixture
def letter(demo):
    return letter_of(69)


def publish_many(count, unit_name="区教委", first_day=datetime.date(2023, 3, 1), first_number=300):
    """`count` published one-paragraph replies from one unit, a day apart, oldest first."""
    session = Session.objects.get(is_current=True)
    unit = Unit.objects.get(short_name=unit_name)
    category = Category.objects.get(name="社会事业")
    proposer = Proposer.objects.get(name="王芳")
    letters = []
    for i in range(count):
        when = timezone.make_aware(datetime.datetime.combine(first_day, datetime.time(10)))
        when += datetime.timedelta(days=i)
        proposal = Proposal.objects.create(
            session=session,
            number=first_number + i,
            title=f"关于第{i + 1}项民生实事的建议",
            category=category,
            state=Proposal.State.REPLIED,
        )
        proposal.proposer_list.create(proposer=proposer)
        assignment = Assignment.objects.create(proposal=proposal, unit=unit, assigned_at=when)
        letter = ReplyLetter.objects.create(
            assignment=assignment,
            state=ReplyLetter.State.PUBLISHED,
            is_public=True,
            title=f"{unit.name}关于第{first_number + i}号提案的答复函",
            salutation="王芳委员：",
            body="现答复如下：正在研究。",
            published_at=when,
            letter_date=when.date(),
        )
        Publication.objects.create(
            letter=letter, title=letter.title, text=letter.body, published_at=when
        )
        letters.append(letter)
    # As the workflow does when it publishes.
    public_column_changed()
    return letters


def listed_titles(response):
    return [letter.public_title for letter in response.context["page"]]


# --- the reply page ---------------------------------------------------------------------------


def test_the_069_reply_reads_like_the_district_website(client, letter):
    response = client.get(f"/replies/{letter.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{TITLE}</h1>" in html
    assert "首页</a> &gt; 专题专栏 &gt;" in html
    assert "日期:2022-07-20" in html
    assert "张华委员：" in html
    for heading in (
        "一、创新工作机制，抓实企业服务",
        "二、加大政策支持强化资源统筹",
        "三、积极引资引智集聚发展动能",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "<p>你提出的《关于加快创建国家级高新区的建议》（第069号提案）收悉" in html
    assert "此答复函已经区科技局主要领导审签。" + INVITATION in html
    assert "重庆市梁平区科学技术局<br>2022年7月20日" in html


def test_the_reply_page_shows_nothing_private(client, letter):
    letter.nondisclosure_reason = "内部掌握，不宜公开的原因"
    letter.save()
    pages = [f"/replies/{letter.pk}/", f"/replies/{letter.pk}/print/", "/", "/replies/feed/"]
    html = "".join(client.get(url).content.decode() for url in pages)
    assert "内部掌握" not in html
    for proposer in Proposer.objects.all():
        for private in (proposer.phone, proposer.email):
            assert not private or private not in html
    zhanghua = Proposer.objects.get(name="张华")
    assert zhanghua.address not in client.get(pages[0]).content.decode()


def test_a_summary_letter_shows_the_summary_not_the_body(client, demo):
    letter = letter_of(47)
    html = client.get(f"/replies/{letter.pk}/").content.decode()
    assert SUMMARY_047 in html
    assert "屋面漏水" in letter.body
    assert "屋面漏水" not in html


def test_a_reply_corrected_for_typing_errors_says_so_and_keeps_the_signed_version(client, demo):
    letter = letter_of(31)
    html = client.get(f"/replies/{letter.pk}/").content.decode()
    assert "更正说明：将“县、乡、村”更正为“区、镇、村”，更正于2022年7月12日。" in html
    assert "区、镇、村" in html
    signed = f"/replies/{letter.pk}/versions/1/"
    assert signed in html
    original = client.get(signed).content.decode()
    assert "县、乡、村" in original
    assert "此答复函已经" in original


def test_the_print_view_is_the_letter_alone(client, letter):
    html = client.get(f"/replies/{letter.pk}/print/").content.decode()
    assert f"<h1>{TITLE}</h1>" in html
    assert "2022年7月20日" in html
    assert "您当前的位置" not in html
    assert "site-head" not in html


@pytest.mark.parametrize("number", [155, 156, 157, 58], ids=["draft", "signoff", "sent", "none"])
def test_an_unpublished_letter_is_not_found(client, demo, number):
    letter = letter_of(number)
    assert letter.state != ReplyLetter.State.PUBLISHED
    assert client.get(f"/replies/{letter.pk}/").status_code == 404
    assert client.get(f"/replies/{letter.pk}/print/").status_code == 404


def test_a_withdrawn_reply_is_gone_from_every_public_page(client, letter, tiwei):
    services.unpublish(letter, tiwei, "数据待核实")
    assert client.get(f"/replies/{letter.pk}/").status_code == 404
    assert client.get(f"/replies/{letter.pk}/print/").status_code == 404
    assert TITLE not in client.get("/").content.decode()
    assert TITLE not in client.get("/replies/feed/").content.decode()


def test_a_published_letter_marked_not_public_is_not_found(client, letter):
    ReplyLetter.objects.filter(pk=letter.pk).update(disclosure=ReplyLetter.Disclosure.NONE)
    assert client.get(f"/replies/{letter.pk}/").status_code == 404
    assert TITLE not in client.get("/").content.decode()


def test_a_letter_off_the_site_is_not_found_nor_its_versions(client, letter):
    ReplyLetter.objects.filter(pk=letter.pk).update(is_public=False)
    assert client.get(f"/replies/{letter.pk}/").status_code == 404
    assert client.get(f"/replies/{letter.pk}/versions/1/").status_code == 404


def test_public_pages_take_no_posts(client, letter):
    assert client.post("/").status_code == 405
    assert client.post(f"/replies/{letter.pk}/").status_code == 405


# --- the column -------------------------------------------------------------------------------


def test_the_column_lists_published_replies_newest_first(client, letter):
    response = client.get("/")
    titles = listed_titles(response)
    assert len(titles) == 4
    assert titles[1] == TITLE
    html = response.content.decode()
    assert f'<a href="/replies/{letter.pk}/">{TITLE}</a>' in html
    assert "2022-07-20" in html
    assert "第058号" not in html and "第157号" not in html


def test_the_column_pages_by_twenty_without_a_query_per_row(
    client, demo, django_assert_num_queries
):
    publish_many(25)
    # The column's state (2), the years, 3 filter choice lists, the count, the page and
    # the page's publication titles and dates.
    with django_assert_num_queries(9):
        first = client.get("/")
    titles = listed_titles(first)
    assert len(titles) == 20
    assert titles[0].endswith("第324号提案的答复函")
    # The column's state and the count are kept in the cache: the other pages cost three
    # queries less.
    with django_assert_num_queries(6):
        second = client.get("/?page=2")
    assert len(listed_titles(second)) == 9
    assert listed_titles(second)[-1].startswith("重庆市梁平区教育委员会关于")


def test_the_column_is_served_from_the_cache_until_something_is_published(
    client, demo, django_assert_num_queries
):
    publish_many(25)
    first = client.get("/")
    assert first.context["page"].paginator.count == 29
    # Rendered once: the next reader gets the same page without touching the database.
    with django_assert_num_queries(0):
        again = client.get("/")
    assert again.content == first.content
    publish_many(1, first_day=datetime.date(2024, 1, 1), first_number=400)
    assert client.get("/").context["page"].paginator.count == 30


def test_a_logged_in_reader_is_never_served_a_cached_page(client, demo, tiwei):
    client.get("/")
    client.force_login(tiwei)
    assert client.get("/").context is not None


def test_the_column_filters_by_unit_year_category_and_session(client, letter):
    kjj = Unit.objects.get(short_name="区科技局")
    assert listed_titles(client.get(f"/?unit={kjj.pk}")) == [TITLE]
    assert listed_titles(client.get("/?year=2022")) == listed_titles(client.get("/"))
    publish_many(2)
    assert len(listed_titles(client.get("/?year=2023"))) == 2
    category = Category.objects.get(name="经济建设")
    assert listed_titles(client.get(f"/?category={category.pk}")) == [TITLE]
    session = Session.objects.get(is_current=True)
    assert len(listed_titles(client.get(f"/?session={session.pk}"))) == 6


def test_the_filters_keep_their_values_across_pages(client, demo):
    publish_many(22)
    unit = Unit.objects.get(short_name="区教委")
    html = client.get(f"/?unit={unit.pk}").content.decode()
    assert f"?unit={unit.pk}&amp;page=2" in html


# --- conditional requests and the feed --------------------------------------------------------


def test_the_column_answers_304_when_nothing_changed(client, demo):
    first = client.get("/")
    assert first.has_header("ETag")
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_column_changes_when_a_reply_is_withdrawn(client, letter, tiwei):
    first = client.get("/")
    services.unpublish(letter, tiwei, "数据待核实")
    again = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_the_reply_answers_304_until_it_is_corrected(client, letter, tiwei):
    url = f"/replies/{letter.pk}/"
    first = client.get(url)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    services.correct_typo(letter, tiwei, "更正笔误", text=letter.body.replace("创建", "创设", 1))
    corrected = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert corrected.status_code == 200
    assert "创设" in corrected.content.decode()


def test_the_feed_is_atom_and_lists_the_069_reply(client, letter):
    response = client.get("/replies/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    xml = response.content.decode()
    assert 'xmlns="http://www.w3.org/2005/Atom"' in xml
    assert f"<title>{TITLE}</title>" in xml
    assert f"/replies/{letter.pk}/" in xml
    assert client.get("/replies/feed/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


class CountingCache:
    """The shared cache, counting the reads that reach it."""

    def __init__(self, inner):
        self.inner, self.reads = inner, 0

    def get(self, *args, **kwargs):
        self.reads += 1
        return self.inner.get(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def memo(settings, monkeypatch):
    """A worker's memo of the column, on for the test, with a clock the test moves."""
    from replies import public_cache

    settings.TIAN_PUBLIC_MEMO_SECONDS = 1
    public_cache.forget()
    counting = CountingCache(public_cache.cache)
    monkeypatch.setattr(public_cache, "cache", counting)
    now = [1000.0]
    monkeypatch.setattr(public_cache.time, "monotonic", lambda: now[0])
    yield SimpleNamespace(cache=counting, now=now)
    public_cache.forget()


def test_a_worker_serves_its_recent_readers_without_asking_the_shared_cache(client, demo, memo):
    first = client.get("/")
    reads = memo.cache.reads
    again = client.get("/")
    assert again.content == first.content
    assert memo.cache.reads == reads  # neither the column's version nor the page


def test_the_worker_that_publishes_shows_it_at_once(client, demo, memo):
    assert client.get("/").context["page"].paginator.count == 4
    publish_many(1, first_day=datetime.date(2024, 1, 1), first_number=400)
    assert client.get("/").context["page"].paginator.count == 5


def test_another_workers_publication_shows_within_the_memos_second(client, demo, memo):
    from replies import public_cache

    first = client.get("/")
    assert first.context["page"].paginator.count == 4
    # Published by another worker: the shared version is dropped, this worker's memo is not.
    memo_kept = dict(public_cache._memo)
    publish_many(1, first_day=datetime.date(2024, 1, 1), first_number=400)
    public_cache._memo.update(memo_kept)
    assert client.get("/").content == first.content
    memo.now[0] += 1.5
    assert client.get("/").context["page"].paginator.count == 5
