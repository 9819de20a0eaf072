"""Researcher pages of fieldwork: waves, contacts, monitoring and telephone interviews.

Thin routes over :mod:`loyaltylab.fieldwork.service`, one module per sub-domain: waves,
contacts, invitations (e-mail; ``sending`` makes the invitation and reminder routes of each
channel), phone, responses, events (the wave's event-triggered invitations). Waves are the study
team's (the commissioning client follows the dashboard instead); only editors of the study's
organisation change anything. Every wave is loaded with its study through
:mod:`loyaltylab.access`, so another organisation gets 404.
"""

from fastapi import APIRouter

from loyaltylab.fieldwork.routes import contacts, events, invitations, phone, responses, waves

router = APIRouter()
for pages in (invitations, responses, waves, contacts, phone, events):
    router.include_router(pages.router)
