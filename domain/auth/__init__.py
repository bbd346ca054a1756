"""Who may do what: permissions, roles, API keys and users, as pure rules."""
