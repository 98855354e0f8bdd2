"""Search: Chinese segmented, folded, in the public column and the staff workspace."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from accounts.models import Proposer, User
from core.paginator import EstimatingPaginator
from proposals import access, search
from proposals.filters import ProposalFilter
from proposals.models import Proposal, ProposalSearch, SearchWord
from replies import services
from replies.models import PublicReplySearch, ReplyLetter

TITLE_069 = "关于加快创建国家级高新区的建议"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def demo(db):
    call_command("load_demo", "--force", stdout=StringIO())


@pytest.fixture
def tiwei(demo):
    return User.objects.get(username="tiwei")


def letter_069():
    return ReplyLetter.objects.get(assignment__proposal__number=69, round=1)


@pytest.fixture
def published(demo, tiwei):
    letter = letter_069()
    if letter.state != ReplyLetter.State.PUBLISHED:
        services.publish(letter, tiwei)
    return letter_069()


# --- folding and cutting ----------------------------------------------------------------------


def test_full_width_and_traditional_are_folded():
    assert search.fold("高新區 ＡＢＣ１２３") == "高新区 abc123"
    assert search.query_tokens("高新區") == search.query_tokens("高新区")
    assert search.query_tokens("第69号") == ["69"] == search.query_tokens("069")


@pytest.mark.django_db
def test_text_is_cut_in_search_mode():
    tokens = search.tokens(TITLE_069)
    for word in ["创建", "国家级", "高新", "高新区", "新区"]:
        assert word in tokens


@pytest.mark.django_db
def test_unit_names_and_admin_words_are_kept_whole():
    SearchWord.objects.create(word="明月山绿色发展示范带")
    assert "明月山绿色发展示范带" in search.tokens("推进明月山绿色发展示范带建设")
    SearchWord.objects.all().delete()
    assert "明月山绿色发展示范带" not in search.tokens("推进明月山绿色发展示范带建设")


def test_highlighting_marks_the_words_and_escapes_the_rest():
    marked = search.highlight("<b>关于加快创建国家级高新區的建议", ["高新区", "创建"])
    assert marked == ("&lt;b&gt;关于加快<mark>创建</mark>国家级<mark>高新區</mark>的建议")
    excerpt = search.excerpt("甲" * 200 + "养老服务" + "乙" * 200, ["养老"])
    assert "<mark>养老</mark>" in excerpt and excerpt.startswith("…") and len(excerpt) < 160


# --- staff search -----------------------------------------------------------------------------


def staff_titles(client, user, q, **filters):
    client.force_login(user)
    response = client.get("/work/", {"q": q, **filters})
    assert response.status_code == 200
    return [p.title for p in response.context["page"]]


@pytest.mark.parametrize(
    "query",
    ["高新区 创建", "创建 高新区", "高新", "高新區", "国家级", "０６９", "069", "第69号", "张华"],
)
def test_staff_find_069_by_words_number_and_proposer(client, tiwei, query):
    assert TITLE_069 in staff_titles(client, tiwei, query)


def test_staff_search_ranks_the_title_first_and_highlights(client, tiwei):
    client.force_login(tiwei)
    response = client.get("/work/", {"q": "高新区"})
    rows = list(response.context["page"])
    assert rows[0].title in (TITLE_069, "关于支持梁平高新区建设的建议")
    assert "<mark>高新区</mark>" in response.content.decode()


def test_two_character_words_work(client, tiwei):
    session = Proposal.objects.get(number=69, session__is_current=True).session
    Proposal.objects.create(
        session=session, title="关于发展居家社区养老服务的建议", state=Proposal.State.SUBMITTED
    )
    assert staff_titles(client, tiwei, "养老") == ["关于发展居家社区养老服务的建议"]
    assert staff_titles(client, tiwei, "養老") == ["关于发展居家社区养老服务的建议"]


def test_every_word_must_match(client, tiwei):
    assert staff_titles(client, tiwei, "高新区 养老") == []


def test_staff_search_combines_with_the_filters(client, tiwei, demo):
    other = Proposal.objects.exclude(session__is_current=True).first()
    session = Proposal.objects.get(number=69, session__is_current=True).session_id
    assert TITLE_069 in staff_titles(client, tiwei, "高新区", session=session)
    if other is not None:
        assert TITLE_069 not in staff_titles(client, tiwei, "高新区", session=other.session_id)


def test_staff_search_reads_sent_reply_text(client, published, tiwei):
    # Words only in the 069 reply's text, not in the proposal.
    proposal = published.assignment.proposal
    word = next(
        w
        for w in search.tokens(published.body)
        if len(w) > 2 and w not in f"{proposal.title}{proposal.reasons}{proposal.suggestions}"
    )
    assert TITLE_069 in staff_titles(client, tiwei, word)


def many_matches(session, n):
    """n new proposals holding 养老: every third in its title."""
    for i in range(n):
        title = f"关于第{i}项养老工作的建议" if i % 3 == 0 else f"关于第{i}项工作的建议"
        Proposal.objects.create(
            session=session, title=title, reasons="发展居家养老服务", state=Proposal.State.SUBMITTED
        )


def ranked_the_slow_way(queryset, query):
    """What the workspace listed before search.Ranked: every match ranked, then sorted."""
    rank = {
        pk: sum(w in title for w in search.query_tokens(query))
        for pk, title in ProposalSearch.objects.values_list("proposal_id", "search_title")
    }
    rows = search.search(queryset, query).values_list("pk", "created_at")
    return [
        pk for pk, created in sorted(rows, key=lambda r: (rank[r[0]], r[1], r[0]), reverse=True)
    ]


def test_staff_search_lists_the_best_first_with_the_other_filters(tiwei, monkeypatch):
    session = Proposal.objects.get(number=69, session__is_current=True).session
    many_matches(session, 40)
    monkeypatch.setattr(search.Ranked, "FIRST_BATCH", 4)  # many batches for a page
    base = access.visible_proposals(tiwei)
    for data in [{"q": "养老"}, {"q": "养老", "state": "submitted"}, {"q": "养老 建议"}]:
        filterset = ProposalFilter(data, queryset=base)
        expected = ranked_the_slow_way(filterset.qs, data["q"])
        paginator = EstimatingPaginator(filterset.ranked(base), 7)
        listed = [p.pk for n in paginator.page_range for p in paginator.page(n)]
        assert listed == expected and len(expected) >= 40
        assert paginator.count == len(expected) and not paginator.estimated


def test_staff_search_estimates_many_matches_from_a_sample(tiwei, monkeypatch):
    session = Proposal.objects.get(number=69, session__is_current=True).session
    many_matches(session, 60)
    monkeypatch.setattr("core.paginator.EXACT_LIMIT", 20)
    base = access.visible_proposals(tiwei)
    ranked = ProposalFilter({"q": "养老"}, queryset=base).ranked(base)
    paginator = EstimatingPaginator(ranked, 10)
    count = paginator.count
    # Every match is visible: the sample's share is 1.
    assert paginator.estimated and count == search.search(base, "养老").count() > 20
    # A filter that leaves few: counted exactly after all.
    ranked = ProposalFilter({"q": "养老", "state": "draft"}, queryset=base).ranked(base)
    assert EstimatingPaginator(ranked, 10).count == 0


def test_a_page_of_a_common_word_reads_a_few_dozen_proposals(
    tiwei, monkeypatch, django_assert_max_num_queries
):
    session = Proposal.objects.get(number=69, session__is_current=True).session
    many_matches(session, 300)
    monkeypatch.setattr("core.paginator.EXACT_LIMIT", 100)  # 300 are many
    base = access.visible_proposals(tiwei).select_related("session__term", "category")
    ranked = ProposalFilter({"q": "养老"}, queryset=base).ranked(base)
    with django_assert_max_num_queries(4):  # the matches, a sample, a batch, the page
        page = EstimatingPaginator(ranked, 25).get_page(1)
        rows = list(page)
        assert [row.session.term for row in rows]  # no query a row
    assert len(rows) == 25 and "养老" in rows[0].title
    assert ranked._checked == search.Ranked.FIRST_BATCH  # of the 300 matching proposals


def test_a_proposer_finds_only_what_they_may_see(client, demo):
    zhanghua = User.objects.get(username="zhanghua")
    titles = staff_titles(client, zhanghua, "建议")
    visible = Proposal.objects.filter(proposers__user=zhanghua).values_list("title", flat=True)
    assert set(titles) <= set(visible)


def test_the_search_entry_follows_every_save(tiwei):
    proposal = Proposal.objects.get(number=69, session__is_current=True)
    proposal.title = "关于发展智慧养老产业的建议"
    proposal.save()
    entry = ProposalSearch.objects.get(proposal=proposal)
    assert "养老" in entry.search_title.split()
    proposer = Proposer.objects.create(name="欧阳明")
    proposal.proposer_list.create(proposer=proposer, position=5)
    assert "欧阳" in ProposalSearch.objects.get(proposal=proposal).search_text


# --- public search ----------------------------------------------------------------------------


def public_results(client, q, **filters):
    response = client.get("/search/", {"q": q, **filters})
    assert response.status_code == 200
    return response, [row.pk for row in response.context["page"]]


def test_the_column_has_a_search_box(client, demo):
    page = client.get("/").content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page


def test_a_visitor_finds_069_with_words_in_another_order(client, published):
    for query in ["高新区 创建", "创建高新区", "高新區", "高新"]:
        response, ids = public_results(client, query)
        assert published.pk in ids, query
    body = response.content.decode()
    assert f'href="/replies/{published.pk}/"' in body
    assert "<mark>高新</mark>" in body


def test_only_published_text_is_searched(client, demo, tiwei):
    letter = letter_069()
    if letter.state == ReplyLetter.State.PUBLISHED:
        services.unpublish(letter, tiwei, "数据待核实")
    _response, ids = public_results(client, "高新区 创建")
    assert letter.pk not in ids
    assert not PublicReplySearch.objects.filter(letter=letter).exists()


def test_public_filters_combine_with_the_query(client, published):
    proposal = published.assignment.proposal
    _r, ids = public_results(client, "高新区", category=proposal.category_id)
    assert published.pk in ids
    _r, ids = public_results(
        client, "高新区", result_class="D" if published.result_class != "D" else "C"
    )
    assert published.pk not in ids
    _r, ids = public_results(client, "高新区", year=str(published.published_at.year))
    assert published.pk in ids


def test_public_search_count_is_the_number_of_matches(client, published):
    response, ids = public_results(client, "高新区 创建")
    assert response.context["page"].paginator.count == len(ids) == 1


def test_the_search_page_and_its_count_come_from_one_scan_as_from_two(published, monkeypatch):
    from django.core.paginator import Paginator

    from replies.views import public

    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    _filterset, _words, qs = public.search_results({"q": "建议"})
    expected = Paginator(qs, 2)
    assert expected.num_pages > 1
    for number in [None, "1", "2", str(expected.num_pages), "99999", "x"]:
        cache.clear()
        page = public.counted_page(qs, number, "a-key")
        same = expected.get_page(number)
        assert page.paginator.count == expected.count
        assert page.number == same.number
        assert [e.letter_id for e in page] == [e.letter_id for e in same]
    assert cache.get("a-key") == expected.count


def test_the_cached_search_page_follows_the_column(client, published, tiwei):
    _r, ids = public_results(client, "高新区 创建")
    assert ids == [published.pk]
    # The same URL again, after the reply was taken off: not the cached page.
    services.unpublish(letter_069(), tiwei, "数据待核实")
    response = client.get("/search/", {"q": "高新区 创建"})
    assert f'href="/replies/{published.pk}/"' not in response.content.decode()


def test_a_typo_correction_is_what_is_searched(client, published, tiwei):
    pub = published.publications.get(ended_at__isnull=True)
    text = pub.text.replace("高新区", "高新園区", 1) if "高新区" in pub.text else None
    if text is None:
        pytest.skip("the demo text has no 高新区")
    services.correct_typo(published, tiwei, "笔误", title=pub.title, text=text)
    entry = PublicReplySearch.objects.get(letter=published)
    assert "园区" in entry.search_text.split()


def test_a_bad_query_is_no_error(client, demo):
    for q in ["", "   ", "'\"&|!<>", "x" * 500, "\u3000"]:
        assert client.get("/search/", {"q": q}).status_code in (200,)


# --- backfill ---------------------------------------------------------------------------------


def test_reindex_search_writes_every_entry(demo, published):
    ProposalSearch.objects.all().delete()
    PublicReplySearch.objects.all().delete()
    call_command("reindex_search", stdout=StringIO())
    assert ProposalSearch.objects.count() == Proposal.objects.count()
    assert set(PublicReplySearch.objects.values_list("letter_id", flat=True)) == set(
        ReplyLetter.objects.filter(is_public=True)
        .exclude(disclosure="none")
        .values_list("pk", flat=True)
    )


def test_generated_data_gets_its_search_entries(db):
    call_command("generate_data", "--proposals", "30", stdout=StringIO())
    assert ProposalSearch.objects.count() == Proposal.objects.count()
    public = ReplyLetter.objects.filter(is_public=True).exclude(disclosure="none")
    assert PublicReplySearch.objects.count() == public.count()
