/* hunt
id = "CT-DE-001"
title = "CloudTrail trail stopped, deleted or pointed elsewhere"
description = """
StopLogging and DeleteTrail end a trail's record of later activity, and
UpdateTrail can send it to a bucket the attacker controls. Attackers do this
right before the actions they want unrecorded."""
tactics = ["TA0005"]
techniques = ["T1562.008"]
severity = "high"
false_positives = [
  "A planned trail migration or clean-up by the team that owns logging (list it in allow_principals)",
]
tags = ["cloudtrail", "defense-evasion", "logging"]

[params.allow_principals]
default = []
description = "Principal ARNs that manage trails as part of their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'StopLogging' THEN 'trail logging stopped: ' || coalesce(json_as_text(requestparameters, 'name'), '?')
         WHEN 'DeleteTrail' THEN 'trail deleted: ' || coalesce(json_as_text(requestparameters, 'name'), '?')
         ELSE 'trail now writes to bucket ' || coalesce(json_as_text(requestparameters, 's3BucketName'), '?')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'cloudtrail.amazonaws.com'
  AND (eventname IN ('StopLogging', 'DeleteTrail')
       OR (eventname = 'UpdateTrail' AND json_as_text(requestparameters, 's3BucketName') IS NOT NULL))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
