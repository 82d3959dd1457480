/* hunt
id = "CT-PE-003"
title = "Inline policy granting Action \"*\" on Resource \"*\""
description = """
PutUserPolicy, PutRolePolicy or PutGroupPolicy whose policy document allows
every action on every resource: full administrator rights granted with an
inline policy, which is easy to miss in reviews of attached managed
policies. The document (a JSON string inside requestParameters) is matched as
text: an Allow statement, an Action of "*" (alone or in a list) and a
Resource of "*". A document with both wildcards in different statements
also matches; a URL-encoded document does not."""
tactics = ["TA0004", "TA0003"]
techniques = ["T1098.003", "T1078.004"]
severity = "high"
false_positives = [
  "An administrator role set up by the account's owners with an inline policy (list its maker in allow_principals)",
]
tags = ["iam", "policy", "privilege-escalation", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to write administrator inline policies"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       'inline policy ' || coalesce(json_as_text(requestparameters, 'policyName'), '?') || ' allows * on * for '
         || coalesce(json_as_text(requestparameters, 'userName'), json_as_text(requestparameters, 'roleName'),
                     json_as_text(requestparameters, 'groupName'), '?') AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')
  AND errorcode IS NULL
  AND regexp_like(json_as_text(requestparameters, 'policyDocument'), '"Effect"\s*:\s*"Allow"')
  AND regexp_like(json_as_text(requestparameters, 'policyDocument'), '"Action"\s*:\s*("\*"|\[[^\]]*"\*")')
  AND regexp_like(json_as_text(requestparameters, 'policyDocument'), '"Resource"\s*:\s*("\*"|\[[^\]]*"\*")')
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
