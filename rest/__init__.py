"""REST delivery beside GraphQL: webhooks, triggers, exports and health, over Starlette."""
