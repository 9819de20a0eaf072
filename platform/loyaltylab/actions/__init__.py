"""Action plans: improvements planned on a construct, judged by its index in the next wave."""
