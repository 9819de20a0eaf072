"""SMS: invitations and reminders by text message through a pluggable gateway, and opting out
by replying a keyword."""
