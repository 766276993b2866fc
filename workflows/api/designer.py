"""The designer's routes: check a program folder's files, publish them, read the published versions.

The files arrive as one JSON object, path -> text, as a program folder holds them. They are
checked by ``designer.check_files`` — the checker ``civicflow check`` runs — and published by
``services.definition_publish``, as ``civicflow publish`` does. Only a designer for the program's
agency may use them (``roles.holds``); reading the versions of a program one does not design is a
404, as if it did not exist.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import engine
from engine.loading import FORM_FILE, PROGRAM_FILE, WORKFLOW_FILE
from workflows import designer, programs, roles, selectors, services
from workflows.api import serializers
from workflows.api.problems import ApiProblem, DefinitionJSONParser, definition_problem
from workflows.api.views import HoldsAStaffRole
from workflows.models import DefinitionVersion, Program

MAX_FILES = 300
"""The most files one program may upload: a large program has a few dozen."""
MAX_FILE_CHARS = 1024 * 1024
"""The longest single file, in characters."""
MAX_PATH_CHARS = 200

ROOT_FILES = (PROGRAM_FILE, WORKFLOW_FILE, FORM_FILE, "form.ui.yaml")
"""The files at the top of a program folder (Markdown notes such as README.md may sit there too)."""
FOLDERS = ("forms", "notices", "locale", "tables", "calendars")
"""The folders a program folder may hold (scenarios/ and examples/ are test material, not published)."""
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refused(code: str, title: str, detail: str, status_code: int = status.HTTP_400_BAD_REQUEST) -> ApiProblem:
    return ApiProblem(status_code, code, title, detail)


def uploaded_files(data: Any, *, allowed_keys: frozenset[str]) -> dict[str, str]:
    """The ``files`` of a request body, each path and text checked; a clear 400 or 413 for the first fault."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise _refused("no_files", "The body has no files", 'send {"files": {"program.yaml": "…", …}}')
    unknown = sorted(set(data) - allowed_keys)
    if unknown:
        raise _refused("unknown_field", "The body has an unknown field", f"unknown: {', '.join(unknown)}")
    files: dict[str, Any] = data["files"]
    if len(files) > MAX_FILES:
        raise _refused(
            "too_many_files",
            "Too many files",
            f"{len(files)} files sent; a program may have at most {MAX_FILES}",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    for name, text in files.items():
        _check_path(name)
        if not isinstance(text, str):
            raise _refused("not_text", "A file is not text", f"{name}: send the file's text as a JSON string")
        if len(text) > MAX_FILE_CHARS:
            raise _refused(
                "file_too_large",
                "A file is too large",
                f"{name}: {len(text):,} characters; a file may have at most {MAX_FILE_CHARS:,}",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if _CONTROL.search(text):
            raise _refused(
                "binary_file", "A file is not text", f"{name}: contains control characters; definitions are text"
            )
    return dict(files)


def _check_path(name: str) -> None:
    if name.startswith("/") or "\\" in name or ":" in name or not _SAFE_PATH.match(name):
        raise _refused(
            "unsafe_path",
            "A file path is not allowed",
            f"{name!r}: use a path relative to the program folder, such as notices/approval.en.md "
            "(letters, digits, '.', '_', '-' and '/'; no absolute paths)",
        )
    parts = name.split("/")
    if any(part in {".", ".."} for part in parts) or len(name) > MAX_PATH_CHARS:
        raise _refused(
            "unsafe_path", "A file path is not allowed", f"{name!r}: no '.' or '..' parts, at most 200 characters"
        )
    known = name in ROOT_FILES or (len(parts) == 1 and name.endswith(".md")) or (len(parts) > 1 and parts[0] in FOLDERS)
    if not known or not programs.is_definition_file(name):
        raise _refused(
            "unknown_file_kind",
            "A file is not part of a program definition",
            f"{name!r}: a program has {', '.join(ROOT_FILES)}, Markdown notes, and files (.yaml, .json, .md) "
            f"under {', '.join(f + '/' for f in FOLDERS)}; scenarios/ and examples/ are not published",
        )


class HoldsTheDesignerRole(permissions.BasePermission):
    """Before the body is read: the designer role for some agency (which agency, the files tell)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not roles.holds(request.user, "designer"):
            raise _refused("not_designer", "Not allowed", "you are not a designer", status.HTTP_403_FORBIDDEN)
        return True


_DESIGNERS = (HoldsAStaffRole, HoldsTheDesignerRole)


def _may_design(request: Request, *agencies: str | None) -> None:
    """403 unless the user is a designer for each agency (for some agency when none is known yet)."""
    named = [agency for agency in agencies if agency is not None]
    if not named:
        allowed = roles.holds(request.user, "designer")
    else:
        allowed = all(roles.holds(request.user, "designer", agency=agency) for agency in named)
    if not allowed:
        raise _refused(
            "not_designer",
            "Not allowed",
            f"you are not a designer for {' and '.join(named) or 'any agency'}",
            status.HTTP_403_FORBIDDEN,
        )


def _existing_agency(program_id: str | None) -> str | None:
    if program_id is None:
        return None
    return Program.objects.filter(slug=program_id).values_list("agency", flat=True).first()


def _check_body(report: designer.CheckReport) -> dict[str, Any]:
    comparison = report.comparison
    diff = None
    if comparison is not None and report.current is not None:
        diff = {
            "against": report.current.content_hash,
            "unchanged": comparison.changes.unchanged,
            "changes": [
                {"kind": change.kind, "subject": change.subject, "detail": change.detail}
                for change in comparison.changes.changes
            ],
            "running_cases": len(comparison.running),
            "affected_cases": len(comparison.affected),
        }
    return {
        "ok": report.ok,
        "program": report.program,
        "content_hash": report.definition.content_hash if report.definition is not None else None,
        "current_version": report.current.content_hash if report.current is not None else None,
        "problems": [definition_problem(problem) for problem in report.problems],
        "diff": diff,
    }


_PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="application/problem+json")
_UPLOAD_REFUSALS = {400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 413: _PROBLEM}


class DefinitionCheck(APIView):
    permission_classes = _DESIGNERS
    parser_classes = (DefinitionJSONParser,)

    @extend_schema(
        operation_id="definitions_check",
        summary="Check a program folder's files, as civicflow check does, and compare them with the published version",
        description=(
            "Designers only, for the agency named in program.yaml. Nothing is stored. `ok` is false when the "
            "checker found an error; `problems` lists every error and warning with its file and line."
        ),
        request=serializers.DefinitionFilesSerializer,
        responses={200: serializers.DefinitionCheckSerializer, **_UPLOAD_REFUSALS},
    )
    def post(self, request: Request) -> Response:
        files = uploaded_files(request.data, allowed_keys=frozenset({"files"}))
        program_id, agency = programs.declared_program(files)
        _may_design(request, agency, _existing_agency(program_id))
        report = designer.check_files(files)
        return Response(serializers.DefinitionCheckSerializer(_check_body(report)).data)


def _versions_of(request: Request, slug: str) -> tuple[Program, Any]:
    try:
        return selectors.versions_designed_by(request.user, slug)
    except Program.DoesNotExist:
        raise exceptions.NotFound(f"no program {slug!r} that you design") from None


class ProgramVersions(APIView):
    permission_classes = _DESIGNERS
    parser_classes = (DefinitionJSONParser,)

    @extend_schema(
        operation_id="programs_versions_list",
        summary="A program's published versions, newest first (designers for its agency)",
        responses={200: serializers.VersionSerializer(many=True), 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def get(self, request: Request, slug: str) -> Response:
        program, versions = _versions_of(request, slug)
        context = {"current_id": program.current_version_id}
        return Response(serializers.VersionSerializer(versions.defer("files"), many=True, context=context).data)

    @extend_schema(
        operation_id="programs_versions_publish",
        summary="Publish a program folder's files as the program's new current version",
        description=(
            "Checked as by `definitions/check`; any error is a 422 listing every problem, and nothing is "
            "stored. A new version answers 201; files already published answer 200 with that version, "
            "made current again. Running cases stay on the version they started on. A program not "
            "published yet is created: the `{slug}` must be the id in program.yaml."
        ),
        request=serializers.DefinitionPublishSerializer,
        responses={
            201: serializers.VersionDetailSerializer,
            200: OpenApiResponse(serializers.VersionDetailSerializer, description="these files were published before"),
            409: _PROBLEM,
            422: _PROBLEM,
            **_UPLOAD_REFUSALS,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        files = uploaded_files(request.data, allowed_keys=frozenset({"files", "replaces"}))
        body: Any = request.data  # an object: uploaded_files made sure
        replaces = body.get("replaces")
        if replaces is not None and not isinstance(replaces, str):
            raise _refused("invalid_replaces", "replaces is not a hash", "send the content hash as a string")
        program_id, agency = programs.declared_program(files)
        _may_design(request, agency, _existing_agency(slug))
        if program_id is not None and program_id != slug:
            raise ApiProblem(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                "program_mismatch",
                "The files are another program's",
                f"program.yaml says id: {program_id}, but this is /programs/{slug}/versions",
            )
        report = designer.check_files(files)
        if not report.ok:
            raise engine.DefinitionError(report.problems)
        result = services.definition_publish(
            files=report.files, folder="", published_by=request.user.get_username(), replaces=replaces
        )
        version = _annotated(result.version)
        context = {"current_id": version.pk}
        answer = serializers.VersionDetailSerializer(version, context=context).data
        return Response(answer, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


def _annotated(version: DefinitionVersion) -> DefinitionVersion:
    """The version with its ``running_cases`` counted, as the list shows it."""
    found: DefinitionVersion = selectors.program_versions(version.program).select_related("program").get(pk=version.pk)
    return found


class ProgramVersion(APIView):
    permission_classes = _DESIGNERS

    @extend_schema(
        operation_id="programs_versions_retrieve",
        summary="One published version of a program, with its files",
        responses={200: serializers.VersionDetailSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def get(self, request: Request, slug: str, content_hash: str) -> Response:
        program, versions = _versions_of(request, slug)
        try:
            version = versions.select_related("program").get(content_hash=content_hash)
        except DefinitionVersion.DoesNotExist:
            raise exceptions.NotFound(f"{slug} has no version {content_hash}") from None
        context = {"current_id": program.current_version_id}
        return Response(serializers.VersionDetailSerializer(version, context=context).data)
