"""Every activity type by its name in the queue."""

from __future__ import annotations

from activation.followup.callbacks import CallbackJob
from activation.followup.letters import WelcomeLetterJob
from activation.jobs.billing import BillingDeleteJob, BillingRecordJob
from activation.jobs.credit_check import CreditCheck
from activation.jobs.e911 import E911RegisterJob, E911RemoveJob
from activation.jobs.job import Job
from activation.jobs.line_change import BillingUpdate, SwitchChange
from activation.jobs.order_notice import OrderNotice
from activation.jobs.reorder import WarehouseReorder
from activation.jobs.switch import SwitchDelete, SwitchInsert

JOBS: dict[str, Job] = {
    "credit_check": CreditCheck(),
    "switch_insert": SwitchInsert(),
    "billing_record": BillingRecordJob(),
    "switch_delete": SwitchDelete(),
    "billing_delete": BillingDeleteJob(),
    "e911_register": E911RegisterJob(),
    "e911_remove": E911RemoveJob(),
    "callback": CallbackJob(),
    "welcome_letter": WelcomeLetterJob(),
    "switch_change": SwitchChange(),
    "billing_update": BillingUpdate(),
    "order_notice": OrderNotice(),
    "warehouse_reorder": WarehouseReorder(),
}
