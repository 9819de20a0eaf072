"""The closed loop: alert rules on a wave, the follow-up cases they open, and action plans."""
