"""Contact sync: keep the CRM contact of each synced-branch order up to date, with its history."""
