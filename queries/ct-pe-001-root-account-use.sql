/* hunt
id = "CT-PE-001"
title = "Root user signed in or called an API"
description = """
The root user can do anything in its account and cannot be limited by IAM
policies; day-to-day work should never need it. Every root console sign-in
and every API call made with root credentials is reported. Events the root
identity only appears in because an AWS service acted (eventType
AwsServiceEvent, or a call invoked by a service) are left out, and so are IAM
users that merely happen to be named "root" (their identity type is IAMUser)."""
tactics = ["TA0004", "TA0001"]
techniques = ["T1078.004"]
severity = "high"
false_positives = [
  "Tasks only root can do: closing the account, changing its support plan, restoring a locked-out admin",
  "A break-glass procedure that is documented and announced",
]
tags = ["iam", "root", "privilege-escalation", "initial-access"]

[params.allow_accounts]
default = []
description = "Account ids whose root use is expected (e.g. sandboxes)"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE
         WHEN eventname = 'ConsoleLogin' THEN 'root console sign-in: ' || coalesce(json_as_text(responseelements, 'ConsoleLogin'), '?')
         ELSE 'root called ' || eventsource || ' ' || eventname
       END AS reason
FROM cloudtrail
WHERE useridentity_type = 'Root'
  AND useridentity_invokedby IS NULL
  AND coalesce(eventtype, '') <> 'AwsServiceEvent'
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(recipientaccountid, '') NOT IN {{allow_accounts}}
