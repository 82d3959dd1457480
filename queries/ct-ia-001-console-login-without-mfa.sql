/* hunt
id = "CT-IA-001"
title = "Console sign-in without MFA"
description = """
A successful ConsoleLogin of an IAM user or the root user whose
additionalEventData says MFAUsed = "No": a stolen password alone was enough
to get in. Federated and SSO sign-ins (AssumedRole, FederatedUser) are left
out because their MFA happens at the identity provider and CloudTrail always
records "No" for them. Failed sign-ins are left out (see CT-CA-001). One
finding per user, source address and day: its first such sign-in."""
tactics = ["TA0001"]
techniques = ["T1078.004"]
severity = "medium"
false_positives = [
  "Users not yet enrolled in MFA (enforce MFA, or list them in allow_principals while they enrol)",
]
tags = ["iam", "console", "mfa", "initial-access"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to sign in without MFA"
*/
WITH logins AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, useridentity_type,
         row_number() OVER (PARTITION BY recipientaccountid,
                                         coalesce(useridentity_arn, useridentity_principalid),
                                         sourceipaddress, date_trunc('day', eventtime)
                            ORDER BY eventtime, eventid) AS nth
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin'
    AND useridentity_type IN ('IAMUser', 'Root')
    AND json_as_text(responseelements, 'ConsoleLogin') = 'Success'
    AND json_as_text(additionaleventdata, 'MFAUsed') = 'No'
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region, source_object,
       lower(useridentity_type) || ' console sign-in without MFA' AS reason
FROM logins
WHERE nth = 1
