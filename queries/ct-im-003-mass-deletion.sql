/* hunt
id = "CT-IM-003"
title = "Mass deletion by one principal"
description = """
One principal making at least min_deletes successful Delete* or Terminate*
calls, on any service, within an hour: destruction of data, instances or
backups, or an attacker cleaning up. One finding per burst: the call that
brings the principal's count for the preceding hour to min_deletes. Calls
made by AWS services are left out."""
tactics = ["TA0040"]
techniques = ["T1485", "T1490"]
severity = "high"
false_positives = [
  "Tear-down of test environments by infrastructure-as-code pipelines (list them in allow_principals)",
  "Lifecycle or clean-up jobs",
]
tags = ["impact", "deletion", "destruction"]

[params.min_deletes]
default = 20
description = "Delete or terminate calls within an hour that make a burst"

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that delete in bulk as their job"
*/
WITH deletes AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object
  FROM cloudtrail
  WHERE (eventname LIKE 'Delete%' OR eventname LIKE 'Terminate%')
    AND errorcode IS NULL
    AND coalesce(useridentity_type, '') <> 'AWSService'
    AND useridentity_invokedby IS NULL
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
    AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
),
counted AS (
  SELECT *,
         count(*) OVER (PARTITION BY principal, account ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS calls
  FROM deletes
),
crossings AS (
  SELECT *, lag(calls) OVER (PARTITION BY principal, account ORDER BY eventtime, eventid) AS previous
  FROM counted
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       calls || ' delete or terminate calls by one principal within an hour' AS reason
FROM crossings
WHERE calls >= {{min_deletes}} AND coalesce(previous, 0) < {{min_deletes}}
