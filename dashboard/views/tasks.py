"""The work in each store on a request's page, and staff actions on one task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.choices import Action
from connectors.registry import kind_available
from dashboard.forms.tasks import (
    TaskAttachForm,
    TaskDoneForm,
    TaskRetryForm,
    TaskSkipForm,
)
from dashboard.views.common import staff_view
from dsr.choices import TERMINAL_TASK_STATUSES, TaskStatus
from dsr.lifecycle import (
    TASK_ACTION_RULES,
    TaskAction,
    task_available_actions,
    task_by_hand,
)
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.selectors import (
    request_get,
    request_progress,
    request_task_get,
    request_task_list,
)
from dsr.services.execution.staff import (
    task_manual_attach,
    task_manual_done,
    task_retry,
    task_skip,
)
from privacydesk.errors import IllegalTransition, ValidationFailed

# While any task is still moving, the section refetches itself this often
# (the whole page reloads less often; see static/js/dashboard.js).
LIVE_SECONDS = 10


SHORT_STATUS: dict[str, str] = {
    TaskStatus.WAITING: "Waiting for a result",
    TaskStatus.EXEMPTED: "Exempted",
    TaskStatus.SKIPPED: "Skipped",
}


@dataclass(frozen=True)
class TaskButton:
    """One button on a task: its form, its one service and its wording.
    Whether it is shown is dsr.lifecycle's."""

    form: type[forms.Form]
    run: Callable[[Actor, RequestTask, dict[str, Any]], RequestTask]
    done: Callable[[RequestTask], str]
    multipart: bool = False


def _name(task: RequestTask) -> str:
    return f"{action_label(task.action).lower()} in {task.connector.name}"


TASK_ACTIONS: dict[str, TaskButton] = {
    TaskAction.RETRY: TaskButton(
        TaskRetryForm,
        lambda a, t, d: task_retry(actor=a, task=t),
        lambda t: f"Queued again: {_name(t)}.",
    ),
    TaskAction.SKIP: TaskButton(
        TaskSkipForm,
        lambda a, t, d: task_skip(
            actor=a, task=t, reason=d["reason"], basis=d["basis"]
        ),
        lambda t: (
            f"Exempted with its legal basis: {_name(t)}."
            if t.status == TaskStatus.EXEMPTED
            else f"Skipped: {_name(t)}. The request cannot be completed in full."
        ),
    ),
    TaskAction.DONE: TaskButton(
        TaskDoneForm,
        lambda a, t, d: task_manual_done(actor=a, task=t, note=d["note"]),
        lambda t: f"Marked done: {_name(t)}.",
    ),
    TaskAction.ATTACH: TaskButton(
        TaskAttachForm,
        lambda a, t, d: task_manual_attach(
            actor=a, task=t, uploaded_file=d["attachment"]
        ),
        lambda t: f"Proof attached to {_name(t)} (sha256 {t.result_digest[:12]}…).",
        multipart=True,
    ),
}


def action_label(action: str) -> str:
    """An action in words, e.g. "Find and export"."""
    try:
        return str(Action(action).label)
    except ValueError:
        return action


def _form_prefix(name: str, task: RequestTask) -> str:
    return f"{name}-{task.public_id.hex}"


@dataclass
class TaskRow:
    """What the page shows about one task, and what this person may do to it."""

    task: RequestTask
    action_label: str
    instructions: str
    note: str
    tries: list[TaskAttempt]
    by_hand: bool
    forms: dict[str, forms.Form] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        """The status in a word or three (the full label is the badge's title)."""
        if self.task.status == TaskStatus.WAITING and self.by_hand:
            return "Waiting for a person"
        until = self.task.next_attempt_at
        if (
            self.task.status == TaskStatus.WAITING
            and self.task.action == Action.ERASE
            and until is not None
        ):
            day = timezone.localtime(until).strftime("%-d %b %Y")
            return f"Waiting on {self.task.connector.name} until {day}"
        return SHORT_STATUS.get(self.task.status, self.task.get_status_display())

    @property
    def has_more(self) -> bool:
        return bool(
            self.task.last_error
            or self.task.exemptions
            or self.instructions
            or self.note
            or self.tries
            or self.forms
            or self.task.result_digest
        )


def _instructions(task: RequestTask) -> str:
    """What a person must do, for a task a person still has to do."""
    if task.status in TERMINAL_TASK_STATUSES and task.status != TaskStatus.FAILED:
        return ""
    kind = kind_available(task.connector.kind)
    if kind is not None and kind.done_by_people:
        return kind.instructions_for_people(task.connector.config or {})
    if task.manual and task.status == TaskStatus.WAITING:
        return task.status_note
    return ""


def _note(task: RequestTask, instructions: str) -> str:
    """The task's own note (a skip reason, what was done), unless it only
    repeats the instructions while the task waits."""
    if task.status == TaskStatus.WAITING and task_by_hand(task=task):
        return ""
    note = task.status_note
    repeated = {instructions} | {e.get("reason") for e in task.exemptions or []}
    return "" if note in repeated else note


def tasks_context(actor: Actor, dsr: Request) -> dict[str, Any]:
    """Everything the `_tasks.html` partial needs."""
    tasks = list(request_task_list(actor=actor, request=dsr))
    rows = []
    for task in tasks:
        instructions = _instructions(task)
        available = task_available_actions(actor=actor, request=dsr, task=task)
        rows.append(
            TaskRow(
                task=task,
                action_label=action_label(task.action),
                instructions=instructions,
                note=_note(task, instructions),
                tries=list(task.tries.all()),
                by_hand=task_by_hand(task=task),
                forms={
                    name: spec.form(prefix=_form_prefix(name, task))
                    for name, spec in TASK_ACTIONS.items()
                    if name in available
                },
            )
        )
    live = any(task.status not in TERMINAL_TASK_STATUSES for task in tasks)
    return {
        "task_rows": rows,
        "progress": request_progress(tasks=tasks),
        "tasks_live_seconds": LIVE_SECONDS if live and dsr.is_open else None,
        "can_view_connectors": actor.can(Perm.CONNECTORS_VIEW),
    }


def _back(dsr: Request, task: RequestTask) -> HttpResponse:
    url = reverse("dashboard:request_detail", args=[dsr.public_id])
    return redirect(f"{url}#task-{task.public_id}")


def _errors_text(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        message = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {message}" if label else message)
    return " ".join(parts)


@require_POST
@staff_view
def task_action(
    request: HttpRequest, actor: Actor, public_id: Any, task_id: Any, action: str
) -> HttpResponse:
    """Run one action on one task through its one service, then go back."""
    spec = TASK_ACTIONS.get(action)
    if spec is None:
        raise Http404("no such action")
    try:
        dsr = request_get(actor=actor, public_id=str(public_id))
        task = request_task_get(actor=actor, request=dsr, public_id=str(task_id))
    except (Request.DoesNotExist, RequestTask.DoesNotExist) as missing:
        raise Http404("no such task") from missing
    # The service checks again; refusing here first means a read-only role
    # learns nothing from form validation.
    actor.require(TASK_ACTION_RULES[TaskAction(action)].perm)
    form = spec.form(
        request.POST,
        request.FILES if spec.multipart else None,
        prefix=_form_prefix(action, task),
    )
    if not form.is_valid():
        messages.error(request, f"Not done: {_errors_text(form)}")
        return _back(dsr, task)
    try:
        result = spec.run(actor, task, form.cleaned_data)
    except (IllegalTransition, ValidationFailed) as error:
        messages.error(request, f"Not done: {error.message}")
    else:
        messages.success(request, spec.done(result))
    return _back(dsr, task)
