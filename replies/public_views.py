"""The public pages: published replies only. (Placeholder — grown by the public-site work.)"""

from django.shortcuts import get_object_or_404, render

from .models import ReplyLetter


def published_letters():
    return ReplyLetter.objects.filter(state=ReplyLetter.State.PUBLISHED)


def index(request):
    letters = published_letters().order_by("-published_at")[:20]
    return render(request, "public/index.html", {"letters": letters})


def reply(request, pk):
    letter = get_object_or_404(published_letters(), pk=pk)
    return render(request, "public/reply.html", {"letter": letter})
