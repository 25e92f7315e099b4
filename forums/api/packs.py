"""A session's review pack over the API: the pack (snapshot, PDF address, delivery per
recipient) and the ``build`` and ``send`` actions, through the same services and checks as the
pages (forums.pack_delivery)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from forums import pack_delivery
from forums.access import get_session_for_user
from forums.models import PackDelivery, ReviewPack
from productops.api import AtomicWritesMixin


class PackDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = PackDelivery
        fields = ["id", "recipient", "email", "status", "attempts", "sent_at", "last_error"]
        read_only_fields = fields


class ReviewPackSerializer(serializers.ModelSerializer):
    built_by = serializers.StringRelatedField()
    snapshot = serializers.JSONField(help_text="The pack as built: meta and sections (playbook 11.1).")
    pdf_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = ReviewPack
        fields = [
            "built_at",
            "built_by",
            "sent_at",
            "page_count",
            "pdf_sha256",
            "pdf_url",
            "page_url",
            "snapshot",
        ]
        read_only_fields = fields

    def _url(self, name, pack) -> str:
        path = reverse(name, kwargs={"pk": pack.session_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_pdf_url(self, pack) -> str:
        return self._url("forums:session-pack-pdf", pack)

    def get_page_url(self, pack) -> str:
        return self._url("forums:session-pack", pack)


class PackRecipientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, person) -> str:
        return person.get_full_name() or person.get_username()


class PackSendabilitySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)


class SessionPackSerializer(serializers.Serializer):
    """A session's pack: null until built; deliveries once sent; who has no e-mail address."""

    session = serializers.IntegerField()
    state = serializers.CharField()
    can_send = PackSendabilitySerializer()
    pack = ReviewPackSerializer(allow_null=True)
    deliveries = PackDeliverySerializer(many=True)
    unreachable = PackRecipientSerializer(
        many=True, help_text="Expected attendees without an e-mail address."
    )


def _payload(request, session) -> dict:
    panel = pack_delivery.pack_panel(session, request.user, with_snapshot=True)
    data = {
        "session": session.pk,
        "state": session.state,
        "can_send": {"ok": panel["send_ok"], "reason": panel["send_refusal"]},
        "pack": panel["pack"],
        "deliveries": panel["deliveries"],
        "unreachable": panel["unreachable"],
    }
    return SessionPackSerializer(data, context={"request": request}).data


class SessionPackView(APIView):
    """GET /api/v1/forum-sessions/{id}/pack/: the session's review pack as built or sent."""

    @extend_schema(responses=SessionPackSerializer, operation_id="forum_sessions_pack_retrieve")
    def get(self, request, pk):
        return Response(_payload(request, get_session_for_user(request.user, pk)))


class SessionPackBuildView(AtomicWritesMixin, APIView):
    """POST /api/v1/forum-sessions/{id}/pack/build/: build (or rebuild) the pack from the data as
    it is now; refused (409) once it was sent. Needs the right to change the forum."""

    @extend_schema(request=None, responses=SessionPackSerializer, operation_id="forum_sessions_pack_build")
    def post(self, request, pk):
        session = get_session_for_user(request.user, pk)
        pack_delivery.pack_build(session=session, by=request.user)
        return Response(_payload(request, session))


class SessionPackSendView(AtomicWritesMixin, APIView):
    """POST /api/v1/forum-sessions/{id}/pack/send/: send the pack to the attendees now (built
    first if needed); refused (400) without a decision requested, (409) once sent."""

    @extend_schema(request=None, responses=SessionPackSerializer, operation_id="forum_sessions_pack_send")
    def post(self, request, pk):
        session = get_session_for_user(request.user, pk)
        pack_delivery.pack_send(session=session, by=request.user)
        return Response(_payload(request, session))
