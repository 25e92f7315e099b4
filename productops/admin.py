from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from productops import audit
from productops.models import ApiToken, QueuedJob, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["capability"]


@admin.register(User)
class ProductOpsUserAdmin(UserAdmin):
    inlines = [RoleAssignmentInline]

    def get_deleted_objects(self, objs, request):
        """A person who acted in the audit history is listed as protected: the admin refuses to
        delete them and says to deactivate the account (productops.audit)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        acted = audit.people_in_the_history(objs)
        protected = list(protected) + [
            audit.person_in_history_message(person) for person in objs if person.pk in acted
        ]
        return deleted, counts, perms_needed, protected


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "capability"]
    list_filter = ["role", "capability"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]


@admin.register(ApiToken)
class ApiTokenAdmin(SimpleHistoryAdmin):
    """Read-only: a token is created and revoked by its person on their API tokens page (the
    secret exists only there, once); the admin shows who holds which, and their history."""

    list_display = [
        "name",
        "user",
        "prefix",
        "scope",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = [
        "user",
        "name",
        "scope",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QueuedJob)
class QueuedJobAdmin(admin.ModelAdmin):
    """The job outbox, to look at while the broker is away: rows are written and removed by
    productops.jobs only (``manage.py drain_job_outbox`` queues them now)."""

    list_display = ["task", "created_at", "attempts", "last_attempt_at", "last_error"]
    readonly_fields = ["task", "args", "kwargs", "created_at", "attempts", "last_attempt_at", "last_error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
