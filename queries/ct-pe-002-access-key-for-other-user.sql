/* hunt
id = "CT-PE-002"
title = "Access key created for another user"
description = """
CreateAccessKey naming a userName other than the caller's own: whoever holds
iam:CreateAccessKey on other users can mint long-lived credentials for them
and act as them, a common persistence and escalation step. A user creating
a key for itself (no userName in the request, or its own) is left out. Calls
made from roles or as root name a user that is never the caller, so they are
reported."""
tactics = ["TA0003", "TA0004"]
techniques = ["T1098.001"]
severity = "high"
false_positives = [
  "Administrators or provisioning automation issuing keys to service users (list them in allow_principals)",
]
tags = ["iam", "access-key", "persistence", "privilege-escalation"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that issue keys to other users as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       'access key created for ' || json_as_text(requestparameters, 'userName') AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname = 'CreateAccessKey'
  AND errorcode IS NULL
  AND json_as_text(requestparameters, 'userName') IS NOT NULL
  AND json_as_text(requestparameters, 'userName') <> coalesce(useridentity_username, '')
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
