"""Every table of the application, imported once so that SQLModel.metadata knows them all."""

from loyaltylab.accounts.models import Invitation, LoginFailure, Membership, Organisation, User
from loyaltylab.audit.models import AuditEvent
from loyaltylab.fieldwork import models as fieldwork_models
from loyaltylab.jobs.models import Job
from loyaltylab.mail import OutboxMessage
from loyaltylab.notifications.models import Notification
from loyaltylab.questionnaires.models import Questionnaire, QuestionnaireVersion
from loyaltylab.reports_web.models import Report, ReportFile
from loyaltylab.studies.models import Study

__all__ = [
    "AuditEvent",
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
    "Study",
    "User",
    "fieldwork_models",
]
