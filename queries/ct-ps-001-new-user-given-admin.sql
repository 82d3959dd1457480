/* hunt
id = "CT-PS-001"
title = "New IAM user given administrator rights"
description = """
CreateUser followed within a day by a grant of administrator rights, either
to the new user or by the principal that created it: AttachUserPolicy with
the AdministratorAccess managed policy, or AddUserToGroup into a group whose
name contains "admin". A fresh user with full rights is a classic backdoor.
The finding is the grant; the creation may lie up to a day before the hunt
window, so ingest that day as well."""
tactics = ["TA0003", "TA0004"]
techniques = ["T1136.003", "T1098.003"]
severity = "high"
false_positives = [
  "Onboarding of a new administrator (list the provisioning principal in allow_principals)",
]
tags = ["iam", "persistence", "privilege-escalation"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that provision administrators as their job"
*/
WITH created AS (
  SELECT eventtime AS created_at,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS creator,
         json_as_text(requestparameters, 'userName') AS new_user,
         recipientaccountid AS account
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname = 'CreateUser'
    AND errorcode IS NULL
    AND eventtime >= {{start}} - INTERVAL '1 day' AND eventtime < {{end}}
),
grants AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object,
         json_as_text(requestparameters, 'userName') AS target,
         coalesce(json_as_text(requestparameters, 'policyArn'), json_as_text(requestparameters, 'groupName')) AS granted
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND errorcode IS NULL
    AND ((eventname = 'AttachUserPolicy'
          AND json_as_text(requestparameters, 'policyArn') LIKE '%/AdministratorAccess')
         OR (eventname = 'AddUserToGroup'
             AND lower(json_as_text(requestparameters, 'groupName')) LIKE '%admin%'))
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
    AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
),
hits AS (
  SELECT DISTINCT g.eventid
  FROM grants AS g
  JOIN created AS c ON c.account = g.account
  WHERE c.created_at <= g.eventtime
    AND c.created_at >= g.eventtime - INTERVAL '1 day'
    AND (c.new_user = g.target OR c.creator = g.principal)
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       coalesce(target, '?') || ' given ' || coalesce(granted, '?') || ' within a day of a CreateUser' AS reason
FROM grants
WHERE eventid IN (SELECT eventid FROM hits)
