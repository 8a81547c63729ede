"""The Timesheets API's scope names, written once: the API, the policy and the demo seed use these."""

from __future__ import annotations

READ = "read:timesheets"
CREATE = "create:timesheets"
DELETE = "delete:timesheets"
APPROVE = "approve:timesheets"

# What each scope lets a client do, as the consent screen and the dashboard show it.
DESCRIPTIONS: dict[str, str] = {
    READ: "Read timesheet entries",
    CREATE: "Log time and submit timesheets",
    DELETE: "Delete timesheet entries that are not approved",
    APPROVE: "Approve or reject the timesheets of your reports",
}
