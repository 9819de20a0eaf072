"""Every table of the application, imported once so that SQLModel.metadata knows them all."""

from loyaltylab.accounts.models import Invitation, LoginFailure, Membership, Organisation, User
from loyaltylab.actions.models import ImprovementAction
from loyaltylab.api.models import ApiKey
from loyaltylab.audit.models import AuditEvent
from loyaltylab.fieldwork import models as fieldwork_models
from loyaltylab.followup import models as followup_models
from loyaltylab.jobs.models import Job
from loyaltylab.mail import OutboxMessage
from loyaltylab.notifications.models import Notification
from loyaltylab.questionnaires.models import Questionnaire, QuestionnaireVersion
from loyaltylab.reports_web.models import Report, ReportFile
from loyaltylab.sms.models import SmsMessage, SmsOptOut
from loyaltylab.studies.models import Study
from loyaltylab.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiKey",
    "AuditEvent",
    "ImprovementAction",
    "Invitation",
    "Job",
    "LoginFailure",
    "Membership",
    "Notification",
    "Organisation",
    "OutboxMessage",
    "Questionnaire",
    "QuestionnaireVersion",
    "Report",
    "ReportFile",
    "SmsMessage",
    "SmsOptOut",
    "Study",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "fieldwork_models",
    "followup_models",
]
