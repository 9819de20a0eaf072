"""Every table of the application, imported once so that SQLModel.metadata knows them all."""

from loyaltylab.accounts.models import Invitation, LoginFailure, Membership, Organisation, User
from loyaltylab.audit.models import AuditEvent
from loyaltylab.mail import OutboxMessage
from loyaltylab.studies.models import Study
from surveys.fieldwork import models as fieldwork_models
from surveys.models import Questionnaire, QuestionnaireVersion

__all__ = [
    "AuditEvent",
    "Invitation",
    "LoginFailure",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "Questionnaire",
    "QuestionnaireVersion",
    "Study",
    "User",
    "fieldwork_models",
]
