"""Automation: `Job` with its `log` (the service role only), `AutomationRule` (its owner's),
`job(id:)`, `jobs(status:)` and their mutations."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.base import (
    Connection,
    Node,
    by_id,
    connection,
    node,
    relation,
    root_field,
    root_mutations,
    root_query,
)
from gql.schema.derive import (
    _input,
    create_input,
    from_model,
    id_input,
    mutation,
    update_input,
)
from gql.schema.enums import JobStatus
from resolvers import automation

REQUIRED: Any = dataclasses.MISSING


@strawberry.type(description="One entry of a job's log: an object without an id.")
@from_model(m.AutomationLogEntry)
class AutomationLogEntry:
    pass


@strawberry.type(description="A job's log (`log:{jobId}`): its entries, oldest first.")
@node(m.AutomationLog, automation.log_of, id_of=lambda log: str(log.job_id))
@from_model(m.AutomationLog, hide=("entries",))
class AutomationLog(Node):
    entries: Connection[AutomationLogEntry] = connection(
        automation.log_entries,
        description="The entries, oldest first, by position: a cursor keeps its place as "
        "entries are appended.",
    )


@strawberry.type(
    description="A background job (`job:{id}`, listed in `jobs:index`): written and read by "
    "the service role only."
)
@node(m.Job, automation.job)
@from_model(m.Job)
class Job(Node):
    log: AutomationLog | None = relation(automation.job_logs, description="`log:{jobId}`.")


@strawberry.type(
    description="An automation rule of the viewer's (`automation:{id}`, listed in "
    "`automations:index:{userId}`): when `trigger` happens, do `action`."
)
@node(m.AutomationRule, automation.automation_rule)
@from_model(m.AutomationRule, hide=("user_id",))
class AutomationRule(Node):
    pass


CreateJobInput = create_input(
    m.Job, "CreateJobInput", hide=("result",), extra={"type": (str, REQUIRED)}
)
UpdateJobInput = update_input(m.Job, "UpdateJobInput")
DeleteJobInput = id_input("DeleteJobInput")
AutomationLogEntryInput = create_input(m.AutomationLogEntry, "AutomationLogEntryInput")
ENTRIES: Any = list[AutomationLogEntryInput]  # type: ignore[valid-type]
AppendJobLogInput = _input(
    "AppendJobLogInput",
    {"job_id": (strawberry.ID, REQUIRED), "entries": (ENTRIES, REQUIRED)},
)
CreateAutomationRuleInput = create_input(
    m.AutomationRule,
    "CreateAutomationRuleInput",
    hide=("user_id",),
    extra={"name": (str, REQUIRED), "trigger": (JSON, REQUIRED), "action": (JSON, REQUIRED)},
)
UpdateAutomationRuleInput = update_input(m.AutomationRule, "UpdateAutomationRuleInput")
EnableAutomationRuleInput = id_input("EnableAutomationRuleInput")
DisableAutomationRuleInput = id_input("DisableAutomationRuleInput")
DeleteAutomationRuleInput = id_input("DeleteAutomationRuleInput")


@root_query
@strawberry.type
class JobQuery:
    job: Job | None = by_id(
        automation.job_by_id, description="A job; null for anyone but the service role."
    )
    jobs: Connection[Job] = root_field(
        automation.jobs,
        args=automation.JobArgs,
        types={"status": JobStatus | None},
        description="The jobs of `jobs:index`, optionally in one status (`OTHER`: any status "
        "kvgraph does not know); empty for anyone but the service role.",
    )


@root_mutations
@strawberry.type
class AutomationMutations:
    create_job = mutation(
        automation.create_job,
        CreateJobInput,
        "job",
        Job,
        "Queue a job (status PENDING unless given). The service role only.",
    )
    update_job = mutation(
        automation.update_job,
        UpdateJobInput,
        "job",
        Job,
        "Change a job's status, result, payload or type. The service role only.",
    )
    delete_job = mutation(
        automation.delete_job,
        DeleteJobInput,
        "job",
        Job,
        "Delete a job with its log. The service role only.",
        node_description="The job as it was before deletion.",
    )
    append_job_log = mutation(
        automation.append_job_log,
        AppendJobLogInput,
        "log",
        AutomationLog,
        "Append 1 to 100 entries to a job's log (`at` now and `level` INFO unless given). "
        "The service role only.",
    )
    create_automation_rule = mutation(
        automation.create_automation_rule,
        CreateAutomationRuleInput,
        "rule",
        AutomationRule,
        "Create an automation rule for the viewer (enabled unless `enabled: false`).",
    )
    update_automation_rule = mutation(
        automation.update_automation_rule,
        UpdateAutomationRuleInput,
        "rule",
        AutomationRule,
        "Change a rule of the viewer's; fields left out stay as they are.",
    )
    enable_automation_rule = mutation(
        automation.enable_automation_rule,
        EnableAutomationRuleInput,
        "rule",
        AutomationRule,
        "Turn a rule of the viewer's on.",
    )
    disable_automation_rule = mutation(
        automation.disable_automation_rule,
        DisableAutomationRuleInput,
        "rule",
        AutomationRule,
        "Turn a rule of the viewer's off.",
    )
    delete_automation_rule = mutation(
        automation.delete_automation_rule,
        DeleteAutomationRuleInput,
        "rule",
        AutomationRule,
        "Delete a rule of the viewer's.",
        node_description="The rule as it was before deletion.",
    )
