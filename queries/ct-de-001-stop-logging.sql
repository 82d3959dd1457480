/* hunt
id = "CT-DE-001"
title = "CloudTrail trail stopped, deleted or pointed elsewhere"
description = """
StopLogging and DeleteTrail end a trail's record of later activity, and
UpdateTrail can send it to a bucket the attacker controls. Attackers do this
right before the actions they want unrecorded. An UpdateTrail is reported
when it names a bucket other than the one the trail last wrote to according
to the lake (its latest CreateTrail or UpdateTrail), or when the lake holds no
earlier bucket for the trail."""
tactics = ["TA0005"]
techniques = ["T1562.008"]
severity = "high"
false_positives = [
  "A planned trail migration or clean-up by the team that owns logging (list it in allow_principals)",
  "UpdateTrail on a trail created before the lake's history begins, naming its usual bucket",
]
tags = ["cloudtrail", "defense-evasion", "logging"]

[params.allow_principals]
default = []
description = "Principal ARNs that manage trails as part of their job"
*/
WITH bucket_changes AS (
  -- A trail is named by its name or its ARN; both reduce to the name.
  SELECT eventid, recipientaccountid AS account,
         json_as_text(requestparameters, 's3BucketName') AS bucket,
         lag(json_as_text(requestparameters, 's3BucketName')) OVER (
           PARTITION BY recipientaccountid, regexp_replace(json_as_text(requestparameters, 'name'), '^.*:trail/', '')
           ORDER BY eventtime, eventid) AS previous_bucket
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com'
    AND eventname IN ('CreateTrail', 'UpdateTrail')
    AND errorcode IS NULL
    AND json_as_text(requestparameters, 's3BucketName') IS NOT NULL
    AND eventtime < {{end}}
)
SELECT c.eventtime, c.eventid, c.eventname,
       coalesce(c.useridentity_arn, c.useridentity_principalid, c.useridentity_invokedby) AS principal,
       c.sourceipaddress, c.useragent, c.recipientaccountid AS account, c.awsregion AS region,
       c.source_object,
       CASE c.eventname
         WHEN 'StopLogging' THEN 'trail logging stopped: ' || coalesce(json_as_text(c.requestparameters, 'name'), '?')
         WHEN 'DeleteTrail' THEN 'trail deleted: ' || coalesce(json_as_text(c.requestparameters, 'name'), '?')
         ELSE 'trail ' || coalesce(json_as_text(c.requestparameters, 'name'), '?') || ' now writes to bucket '
              || b.bucket || coalesce(' instead of ' || b.previous_bucket, ' (no earlier bucket in the lake)')
       END AS reason
FROM cloudtrail AS c
LEFT JOIN bucket_changes AS b
  ON c.eventname = 'UpdateTrail' AND b.eventid = c.eventid AND b.account = c.recipientaccountid
WHERE c.eventsource = 'cloudtrail.amazonaws.com'
  AND (c.eventname IN ('StopLogging', 'DeleteTrail')
       OR (c.eventname = 'UpdateTrail' AND b.bucket IS NOT NULL AND b.bucket IS DISTINCT FROM b.previous_bucket))
  AND c.errorcode IS NULL
  AND c.eventtime >= {{start}} AND c.eventtime < {{end}}
  AND coalesce(c.useridentity_arn, '') NOT IN {{allow_principals}}
