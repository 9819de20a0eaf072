/* LoyaltyLab progressive enhancement: everything works without this file. */
