"""Staff dashboard pages for authorization: roles, groups, users, rules, preview, audit."""
