"""Admin registrations of the threads app."""

from django.contrib import admin

from threads.models import Attachment, Media, Message, Thread


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("name", "agent", "workspace", "message_count", "archived", "last_activity_at")
    list_filter = ("archived",)
    search_fields = ("name",)
    raw_id_fields = ("workspace", "agent", "created_by")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("thread", "role", "position", "created_at")
    list_filter = ("role",)
    raw_id_fields = ("workspace", "thread", "run", "created_by", "attachments")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "size", "workspace", "created_at")
    raw_id_fields = ("workspace", "uploaded_by", "media")


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = ("file", "content_type", "size", "width", "height")
    raw_id_fields = ("workspace",)
