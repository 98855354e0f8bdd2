"""The Atom feed of newly published replies."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import condition, require_safe

from .services import letter_paragraphs
from .views.public import column_etag, column_letters, latest_publication

FEED_SIZE = 20
EXCERPT_LENGTH = 200


def site_name():
    return f"政协{settings.TIAN['COMMITTEE_NAME']}委员会"


class LatestReplies(Feed):
    feed_type = Atom1Feed
    subtitle = _("Newly published replies to CPPCC members' proposals")

    def title(self):
        # The column's name on the district website, as content.
        return f"{site_name()} · 政协委员提案"

    def link(self):
        return reverse("public:index")

    def author_name(self):
        return site_name()

    def items(self):
        return column_letters().annotate(public_text=latest_publication("text"))[:FEED_SIZE]

    def item_title(self, item):
        return item.public_title

    def item_description(self, item):
        # The opening of the public text: the full text of a summary letter is its summary.
        text = "".join(text for _kind, text in letter_paragraphs(item.public_text)[:2])
        return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "……"

    def item_link(self, item):
        return item.get_public_url()

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.public_published_at

    def item_author_name(self, item):
        return item.assignment.unit.name


@require_safe
@condition(etag_func=column_etag("feed"))
def latest_replies(request):
    response = LatestReplies()(request)
    # The feed would date itself by its newest entry; a withdrawal changes it too, so
    # the column's own Last-Modified (set by `condition`) is the right one.
    response.headers.pop("Last-Modified", None)
    return response
