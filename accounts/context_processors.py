def workspace(request):
    """The unread-notification count in the header of every logged-in page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: user.notifications.filter(read_at__isnull=True).count()}
