/* hunt
id = "CT-PS-002"
title = "Administrator managed policy attached to a user, role or group"
description = """
AttachUserPolicy, AttachRolePolicy or AttachGroupPolicy with a policyArn
ending in /AdministratorAccess or /IAMFullAccess: either grants full control
of the account (IAMFullAccess lets its holder grant itself anything). Failed
calls are left out."""
tactics = ["TA0004", "TA0003"]
techniques = ["T1098.003"]
severity = "high"
false_positives = [
  "Administrators or infrastructure-as-code pipelines setting up admin roles (list them in allow_principals)",
]
tags = ["iam", "privilege-escalation", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that attach admin policies as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       json_as_text(requestparameters, 'policyArn') || ' attached to '
         || coalesce(json_as_text(requestparameters, 'userName'), json_as_text(requestparameters, 'roleName'),
                     json_as_text(requestparameters, 'groupName'), '?') AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
  AND errorcode IS NULL
  AND (json_as_text(requestparameters, 'policyArn') LIKE '%/AdministratorAccess'
       OR json_as_text(requestparameters, 'policyArn') LIKE '%/IAMFullAccess')
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
