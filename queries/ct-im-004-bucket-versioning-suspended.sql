/* hunt
id = "CT-IM-004"
title = "S3 bucket versioning suspended or lifecycle configuration set"
description = """
PutBucketVersioning with Status Suspended stops S3 keeping old versions, so
overwritten or deleted objects cannot be recovered; a lifecycle
configuration (PutBucketLifecycle, PutBucketLifecycleConfiguration) can
expire every object in a day. Both come before ransom or destruction of
data. Every lifecycle change is reported for review. Failed calls are left
out."""
tactics = ["TA0040"]
techniques = ["T1485", "T1490"]
severity = "medium"
false_positives = [
  "Routine lifecycle rules moving or expiring old data",
]
tags = ["s3", "impact"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to change versioning and lifecycle rules"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'PutBucketVersioning' THEN 'versioning suspended on bucket '
         ELSE 'lifecycle configuration set on bucket '
       END || coalesce(json_as_text(requestparameters, 'bucketName'), '?') AS reason
FROM cloudtrail
WHERE eventsource = 's3.amazonaws.com'
  AND ((eventname = 'PutBucketVersioning'
        AND json_as_text(requestparameters, 'VersioningConfiguration', 'Status') = 'Suspended')
       OR eventname IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration'))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
