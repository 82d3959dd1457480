/* hunt
id = "CT-PE-004"
title = "Console password set for another user"
description = """
CreateLoginProfile or UpdateLoginProfile naming a userName other than the
caller's own: whoever holds these permissions can give themselves console
access as another user, or take over a user by resetting its password. Calls
from roles or as root name a user that is never the caller, so they are
reported; a user changing its own login profile is not."""
tactics = ["TA0003", "TA0004"]
techniques = ["T1098"]
severity = "high"
false_positives = [
  "Help-desk or identity administrators resetting passwords (list them in allow_principals)",
]
tags = ["iam", "console", "persistence", "privilege-escalation"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that set other users' passwords as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname WHEN 'CreateLoginProfile' THEN 'console password created for ' ELSE 'console password changed for ' END
         || json_as_text(requestparameters, 'userName') AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname IN ('CreateLoginProfile', 'UpdateLoginProfile')
  AND errorcode IS NULL
  AND json_as_text(requestparameters, 'userName') IS NOT NULL
  AND json_as_text(requestparameters, 'userName') <> coalesce(useridentity_username, '')
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
