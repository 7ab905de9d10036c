"""REST API of active distrust: one view per operation, thin over distrust.actions/selectors.

Reads follow accounts.permissions.can_view_distrust (embargoed actions: staff only); every
write is staff only (the actions raise NotPermitted, answered 403).
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.idempotency import idempotent
from config import stale
from config.errors import DomainError, NotPermitted
from distrust import actions, selectors, test_vector, workflow
from distrust import serializers as s
from distrust.models import Artifact, DistrustAction

TAG = ["distrust"]
ERRORS = {400: OpenApiResponse(description="Bad input; nothing changed"),
          403: OpenApiResponse(description="Staff only"),
          404: OpenApiResponse(description="No such action, or not visible to you"),
          409: OpenApiResponse(description="The workflow does not allow it now; `detail` says what is missing")}
STALE = {412: OpenApiResponse(description="The action changed since the version If-Match names; nothing changed")}


def _action(request, pk: int) -> DistrustAction:
    action = selectors.action_for(request.user, pk)
    if action is None:
        raise NotFound(f"No distrust action {pk}, or not one you may see.")
    return action


def _managed(request, pk: int) -> DistrustAction:
    if not permissions.can_manage_distrust(request.user):
        raise NotPermitted("Only root program staff manage distrust actions.")
    return _action(request, pk)


def _detail(request, action: DistrustAction, code: int = status.HTTP_200_OK) -> Response:
    action = DistrustAction.objects.prefetch_related(
        "steps", "incidents", "targets__certificate", "usage_figures", "closure_items__certificate", "artifacts",
        "test_certificates", "test_runs",
    ).get(pk=action.pk)
    ctx = {"request": request, "can_manage": permissions.can_manage_distrust(request.user)}
    # The ETag is the version step writes check in If-Match (config.stale).
    return stale.with_etag(Response(s.ActionDetailSerializer(action, context=ctx).data, status=code),
                           workflow.version(action))


class ActionListCreate(generics.ListCreateAPIView):
    """Distrust actions with the state of each of the eight steps; staff start new ones."""

    serializer_class = s.ActionListSerializer

    def get_queryset(self):
        qs = selectors.actions_for(self.request.user)
        state = self.request.query_params.get("state")
        if state == "open":
            qs = qs.open()
        elif state:
            if state not in DistrustAction.State.values:
                raise DomainError(f"state must be open or one of {', '.join(DistrustAction.State.values)}.")
            qs = qs.filter(state=state)
        return qs

    @extend_schema(tags=TAG, request=s.ActionCreateSerializer, responses={201: s.ActionDetailSerializer, **ERRORS})
    @idempotent
    def post(self, request):
        data = s.ActionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = actions.action_create(actor=request.user, **data.validated_data)
        return _detail(request, action, status.HTTP_201_CREATED)

    @extend_schema(tags=TAG)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ActionDetail(APIView):
    @extend_schema(tags=TAG, responses={200: s.ActionDetailSerializer, **ERRORS})
    def get(self, request, pk: int):
        return _detail(request, _action(request, pk))


class StepSave(APIView):
    """Save a step's data while the step is open; `complete: true` also completes it (409 says what is missing).

    Send the action's ETag as If-Match to refuse (412) a save on a stale version; without it, unchecked."""

    @extend_schema(tags=TAG, request=s.StepSaveSerializer, parameters=[stale.if_match_parameter()],
                   responses={200: s.ActionDetailSerializer, **ERRORS, **STALE})
    @idempotent
    def post(self, request, pk: int, step: str):
        action = _managed(request, pk)
        data = s.StepSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        complete = values.pop("complete", False)
        actions.step_save(actor=request.user, action=action, step=step, data=values, complete=complete,
                          base_version=stale.if_match(request))
        return _detail(request, action)


class StepReopen(APIView):
    @extend_schema(tags=TAG, request=s.ReopenSerializer, parameters=[stale.if_match_parameter()],
                   responses={200: s.ActionDetailSerializer, **ERRORS, **STALE})
    @idempotent
    def post(self, request, pk: int, step: str):
        action = _managed(request, pk)
        data = s.ReopenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actions.step_reopen(actor=request.user, action=action, step=step, reason=data.validated_data["reason"],
                            base_version=stale.if_match(request))
        return _detail(request, action)


class TargetAdd(APIView):
    @extend_schema(tags=TAG, request=s.TargetInputSerializer, responses={201: s.TargetSerializer, **ERRORS})
    @idempotent
    def post(self, request, pk: int):
        action = _managed(request, pk)
        data = s.TargetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = actions.target_add(actor=request.user, action=action, **data.validated_data)
        return Response(s.TargetSerializer(target).data, status=status.HTTP_201_CREATED)


class BulkTargets(APIView):
    """Many targets at once (PEM bundle, CSV, an incident's affected certificates, a CA owner's CAs).

    `confirm: false` previews (200, nothing changes): counts and lists of what was matched and what was not.
    `confirm: true` adds every matched certificate in one transaction (201) or nothing (400 naming the problem)."""

    @extend_schema(tags=TAG, request=s.BulkTargetsInputSerializer,
                   responses={200: s.BulkPreviewSerializer, 201: s.BulkPreviewSerializer, **ERRORS})
    @idempotent
    def post(self, request, pk: int):
        action = _managed(request, pk)
        data = s.BulkTargetsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        confirm, digest = values.pop("confirm"), values.pop("digest")
        if confirm:
            preview = actions.bulk_targets_add(actor=request.user, action=action, digest=digest, **values)
            return Response(s.BulkPreviewSerializer(preview, context={"added": True}).data,
                            status=status.HTTP_201_CREATED)
        preview = actions.bulk_targets_preview(actor=request.user, action=action, **values)
        return Response(s.BulkPreviewSerializer(preview).data)


class TargetRemove(APIView):
    @extend_schema(tags=TAG, request=None, responses={204: None, **ERRORS})
    def delete(self, request, pk: int, target_id: int):
        actions.target_remove(actor=request.user, action=_managed(request, pk), target_id=target_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UsageAdd(APIView):
    """Usage figures for the affected roots: a list of figures, or a CSV (root, metric, value, period)."""

    @extend_schema(tags=TAG, request=s.UsageInputSerializer, responses={201: s.UsageFigureSerializer(many=True),
                                                                        **ERRORS})
    @idempotent
    def post(self, request, pk: int):
        action = _managed(request, pk)
        data = s.UsageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "csv" in data.validated_data:
            rows = actions.usage_import_csv(actor=request.user, action=action, text=data.validated_data["csv"])
        else:
            rows = actions.usage_add(actor=request.user, action=action, figures=data.validated_data.get("figures", []))
        return Response(s.UsageFigureSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class ArtifactsGenerate(APIView):
    """Implement step: refresh the cross-sign closure and generate the OneCRL JSON and certdata.txt diff."""

    @extend_schema(tags=TAG, request=None, responses={200: s.ActionDetailSerializer, **ERRORS})
    @idempotent
    def post(self, request, pk: int):
        action = _managed(request, pk)
        actions.artifacts_generate(actor=request.user, action=action)
        return _detail(request, action)


class ClosureDecide(APIView):
    @extend_schema(tags=TAG, request=s.ClosureDecisionSerializer, responses={200: s.ClosureItemSerializer, **ERRORS})
    @idempotent
    def post(self, request, pk: int, item_id: int):
        action = _managed(request, pk)
        data = s.ClosureDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = actions.closure_decide(actor=request.user, action=action, item_id=item_id, **data.validated_data)
        return Response(s.ClosureItemSerializer(item).data)


class TestCertificateAdd(APIView):
    __test__ = False

    @extend_schema(tags=TAG, request=s.TestCertificateInputSerializer,
                   responses={201: s.TestCertificateSerializer, **ERRORS})
    @idempotent
    def post(self, request, pk: int):
        action = _managed(request, pk)
        data = s.TestCertificateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test = actions.test_certificate_add(actor=request.user, action=action, sha256=data.validated_data["sha256"],
                                            data=data.validated_data["pem"].encode())
        return Response(s.TestCertificateSerializer(test).data, status=status.HTTP_201_CREATED)


class TestRunCreate(APIView):
    """Apply the distrust to the registry's trust store; judge every attached certificate on every path."""

    __test__ = False

    @extend_schema(tags=TAG, request=None, responses={201: s.TestRunSerializer, **ERRORS})
    @idempotent
    def post(self, request, pk: int):
        run = actions.test_run(actor=request.user, action=_managed(request, pk))
        return Response(s.TestRunSerializer(run).data, status=status.HTTP_201_CREATED)


class _ArtifactFile(APIView):
    kind: str = ""
    content_type: str = ""

    def get(self, request, pk: int):
        action = _action(request, pk)
        art = action.artifacts.filter(kind=self.kind).first()
        if art is None:
            raise NotFound("Not generated yet: staff generate the artifacts at the implement step.")
        return HttpResponse(art.content, content_type=self.content_type)


class OneCRLJson(_ArtifactFile):
    """The action's OneCRL records as remote-settings JSON ({"data": [...]})."""

    kind, content_type = Artifact.Kind.ONECRL, "application/json"

    @extend_schema(tags=TAG, operation_id="distrust_onecrl_json",
                   responses={(200, "application/json"): OpenApiTypes.OBJECT, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return super().get(request, pk)


class CertdataDiff(_ArtifactFile):
    """The unified diff against the registry's certdata.txt, ready to attach to an NSS bug."""

    kind, content_type = Artifact.Kind.CERTDATA_DIFF, "text/x-diff; charset=utf-8"

    @extend_schema(tags=TAG, operation_id="distrust_certdata_diff",
                   responses={(200, "text/x-diff"): OpenApiTypes.STR, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return super().get(request, pk)


class TestVector(APIView):
    """The NSS-style test vector (the seed's step 5, "add test to cert.sh"): cases, expected results, PEMs."""

    __test__ = False

    @extend_schema(tags=TAG, operation_id="distrust_test_vector",
                   responses={(200, "text/plain"): OpenApiTypes.STR, 404: ERRORS[404]})
    def get(self, request, pk: int):
        action = _action(request, pk)
        if not action.test_certificates.exists() and not action.targets.exists():
            raise NotFound("No test vector yet: add the certificates to distrust and attach test certificates.")
        return HttpResponse(test_vector.render(action), content_type="text/plain; charset=utf-8")
