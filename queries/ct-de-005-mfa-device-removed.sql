/* hunt
id = "CT-DE-005"
title = "MFA device deactivated or deleted"
description = """
DeactivateMFADevice and DeleteVirtualMFADevice remove a second factor from a
user. An attacker holding a password or keys does it to sign in without MFA,
or to lock the owner out while re-enrolling a device of their own."""
tactics = ["TA0005", "TA0006"]
techniques = ["T1556.006"]
severity = "medium"
false_positives = [
  "A user replacing a lost or new phone (deactivate, then enable a new device soon after)",
]
tags = ["iam", "mfa", "defense-evasion"]

[params.allow_principals]
default = []
description = "Principal ARNs that manage MFA devices for others as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DeactivateMFADevice' THEN 'MFA device deactivated for ' || coalesce(json_as_text(requestparameters, 'userName'), useridentity_username, '?')
         ELSE 'virtual MFA device deleted: ' || coalesce(json_as_text(requestparameters, 'serialNumber'), '?')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname IN ('DeactivateMFADevice', 'DeleteVirtualMFADevice')
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
