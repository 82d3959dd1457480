/* hunt
id = "CT-CA-002"
title = "Bulk reads of secrets"
description = """
A principal reading at least min_calls secrets within an hour: Secrets
Manager GetSecretValue or BatchGetSecretValue, or SSM Parameter Store
GetParameter, GetParameters or GetParametersByPath with withDecryption true.
Harvesting every secret an identity can reach is a typical step after a
compromise. One finding per burst: the call that brings the principal's
count for the preceding hour to min_calls. Failed calls are not counted."""
tactics = ["TA0006"]
techniques = ["T1555.006"]
severity = "medium"
false_positives = [
  "Applications or deployment pipelines that read many secrets at start-up (list them in allow_principals)",
]
tags = ["secretsmanager", "ssm", "credential-access"]

[params.min_calls]
default = 20
description = "Secret reads within an hour that make a burst"

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that read secrets in bulk as their job"
*/
WITH reads AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object
  FROM cloudtrail
  WHERE ((eventsource = 'secretsmanager.amazonaws.com' AND eventname IN ('GetSecretValue', 'BatchGetSecretValue'))
         OR (eventsource = 'ssm.amazonaws.com'
             AND eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath')
             AND json_as_text(requestparameters, 'withDecryption') = 'true'))
    AND errorcode IS NULL
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
    AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
),
counted AS (
  SELECT *,
         count(*) OVER (PARTITION BY principal, account ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS calls
  FROM reads
),
crossings AS (
  SELECT *, lag(calls) OVER (PARTITION BY principal, account ORDER BY eventtime, eventid) AS previous
  FROM counted
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       calls || ' secret reads by one principal within an hour' AS reason
FROM crossings
WHERE calls >= {{min_calls}} AND coalesce(previous, 0) < {{min_calls}}
