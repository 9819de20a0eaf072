"""The study's analysis settings: how its reports and dashboard analyse the answers."""
