"""Reply letters on the proposal page: the draft button, the list, and who sees the drafting."""

from django.urls import reverse

from replies import services
from replies.models import ReplyLetter


def page(client, world, user):
    client.force_login(getattr(world, user))
    return client.get(reverse("proposals:detail", args=[world.proposal.pk]))


def test_the_lead_unit_gets_a_draft_the_reply_button(client, world):
    response = page(client, world, "kjj")
    assert reverse("replies:start", args=[world.lead.pk]) in response.content.decode()
    response = page(client, world, "jxw")
    assert reverse("replies:start", args=[world.co.pk]) not in response.content.decode()


def test_starting_a_draft_from_the_proposal_page(client, world):
    client.force_login(world.kjj)
    response = client.post(reverse("replies:start", args=[world.lead.pk]))
    letter = ReplyLetter.objects.get(assignment=world.lead)
    assert response.status_code == 302
    html = page(client, world, "kjj").content.decode()
    assert reverse("replies:detail", args=[letter.pk]) in html
    assert reverse("replies:start", args=[world.lead.pk]) not in html


def test_other_units_and_proposers_see_neither_the_draft_nor_its_history(client, world):
    letter = services.start_draft(world.lead, world.kjj)
    services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="B")
    services.submit_for_signoff(letter, world.kjj, outstanding_reason="电话沟通")
    services.send_back(letter, world.kjj_leader, "内部意见：数据需核实")
    for user in ("jxw", "zhanghua"):
        response = page(client, world, user)
        html = response.content.decode()
        assert reverse("replies:detail", args=[letter.pk]) not in html
        assert "内部意见" not in html
        assert not [e for e in response.context["timeline"] if e["verb"].startswith("reply_")]
    committee = page(client, world, "tiwei")
    assert "内部意见" in committee.content.decode()


def test_the_page_shows_receipts_to_the_units_and_each_proposer_their_own(client, world):
    from proposals.models import CoOpinion, ProposalProposer
    from replies.models import Receipt

    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    CoOpinion.objects.create(
        assignment=world.co, title="意见", body="意见", sent_at=world.co.assigned_at
    )
    letter = services.start_draft(world.lead, world.kjj)
    services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="A")
    services.submit_for_signoff(letter, world.kjj)
    services.sign(letter, world.kjj_leader)
    services.send(letter, world.kjj)
    services.submit_receipt(
        Receipt.objects.get(letter=letter, proposer=world.lisi_proposer),
        world.lisi,
        attitude="satisfied",
        result="dissatisfied",
        opinion="李四的私人意见",
    )
    assert "李四的私人意见" in page(client, world, "tiwei").content.decode()
    assert "李四的私人意见" in page(client, world, "kjj").content.decode()
    mine = page(client, world, "zhanghua")
    (section,) = mine.context["sections"]
    assert [r.proposer for r in section["receipts"]] == [world.zhanghua_proposer]
    assert "李四的私人意见" not in mine.content.decode()
