/* hunt
id = "CT-DE-007"
title = "CloudWatch Logs log group or stream deleted, or retention cut to a day"
description = """
DeleteLogGroup and DeleteLogStream destroy collected logs; PutRetentionPolicy
with retentionInDays of 1 or less has them expire almost at once. Either
erases evidence an investigation would rely on. Failed calls are left out."""
tactics = ["TA0005"]
techniques = ["T1562.008", "T1070"]
severity = "medium"
false_positives = [
  "Infrastructure-as-code tearing down a stack and its log groups",
]
tags = ["cloudwatch", "logs", "defense-evasion"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to delete log groups"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'PutRetentionPolicy' THEN 'retention of log group ' || coalesce(json_as_text(requestparameters, 'logGroupName'), '?')
           || ' set to ' || coalesce(json_as_text(requestparameters, 'retentionInDays'), '?') || ' day(s)'
         WHEN 'DeleteLogStream' THEN 'log stream ' || coalesce(json_as_text(requestparameters, 'logStreamName'), '?')
           || ' deleted from ' || coalesce(json_as_text(requestparameters, 'logGroupName'), '?')
         ELSE 'log group deleted: ' || coalesce(json_as_text(requestparameters, 'logGroupName'), '?')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'logs.amazonaws.com'
  AND (eventname IN ('DeleteLogGroup', 'DeleteLogStream')
       OR (eventname = 'PutRetentionPolicy'
           AND TRY_CAST(json_as_text(requestparameters, 'retentionInDays') AS BIGINT) <= 1))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
