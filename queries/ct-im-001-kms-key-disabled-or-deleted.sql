/* hunt
id = "CT-IM-001"
title = "KMS key disabled or scheduled for deletion"
description = """
DisableKey makes everything encrypted under a KMS key unreadable at once, and
ScheduleKeyDeletion destroys it for good after the waiting period: the
cloud form of ransomware or of destroying data and backups."""
tactics = ["TA0040"]
techniques = ["T1485", "T1486"]
severity = "high"
false_positives = [
  "Retiring keys that nothing uses any more, by the team that owns them (list it in allow_principals)",
]
tags = ["kms", "impact", "encryption"]

[params.allow_principals]
default = []
description = "Principal ARNs that retire KMS keys as part of their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DisableKey' THEN 'KMS key disabled: ' || coalesce(json_as_text(requestparameters, 'keyId'), '?')
         ELSE 'KMS key scheduled for deletion in '
              || coalesce(json_as_text(requestparameters, 'pendingWindowInDays'), json_as_text(responseelements, 'pendingWindowInDays'), '30')
              || ' days: ' || coalesce(json_as_text(requestparameters, 'keyId'), '?')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'kms.amazonaws.com'
  AND eventname IN ('DisableKey', 'ScheduleKeyDeletion')
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
