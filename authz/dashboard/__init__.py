"""Staff dashboard pages for authorization: roles, groups, people, rules, token preview, import/export."""
