"""The in-app inbox: unread count in the header, opening marks read, only one's own."""

from django.urls import reverse

from accounts.models import Notification


def note(user, url="/work/"):
    return Notification.objects.create(recipient=user, verb="assigned", message="交办通知", url=url)


def test_the_header_shows_the_unread_count(client, world):
    note(world.kjj)
    note(world.kjj)
    client.force_login(world.kjj)
    html = client.get(reverse("workspace")).content.decode()
    assert '<span class="badge"' in html and ">2</span>" in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, world):
    n = note(world.kjj, url=world.proposal.get_absolute_url())
    client.force_login(world.kjj)
    response = client.get(reverse("open_notification", args=[n.pk]))
    assert response["Location"] == world.proposal.get_absolute_url()
    n.refresh_from_db()
    assert n.read_at is not None


def test_nobody_opens_another_persons_notification(client, world):
    n = note(world.kjj)
    client.force_login(world.jxw)
    assert client.get(reverse("open_notification", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_an_outside_link_is_not_followed(client, world):
    n = note(world.kjj, url="https://evil.example/")
    client.force_login(world.kjj)
    response = client.get(reverse("open_notification", args=[n.pk]))
    assert response["Location"] == reverse("notifications")


def test_mark_all_read_is_post_only(client, world):
    note(world.kjj)
    client.force_login(world.kjj)
    assert client.get(reverse("mark_all_read")).status_code == 405
    client.post(reverse("mark_all_read"))
    assert not world.kjj.notifications.filter(read_at__isnull=True).exists()
