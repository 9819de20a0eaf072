"""Questionnaire designer pages: create, edit, preview, publish, compare, import and export.

Handlers parse the form (:mod:`loyaltylab.questionnaires.forms`), call
:mod:`loyaltylab.questionnaires.service` and render. A refused change
(:class:`~surveys.errors.InvalidQuestionnaire`) is rolled back and the page is shown again with
every problem in the reader's language; nothing partial is saved.
"""

from fastapi import APIRouter

from loyaltylab.questionnaires.routes import details, import_export, items, logic, versions
from loyaltylab.questionnaires.routes.common import DesignerRoute

router = APIRouter(route_class=DesignerRoute, include_in_schema=False)
for pages in (details, items, logic, versions, import_export):
    router.include_router(pages.router)
