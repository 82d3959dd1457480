/* hunt
id = "CT-DI-002"
title = "Burst of access-denied errors by one principal"
description = """
One principal collecting at least min_denied AccessDenied,
AccessDeniedException, UnauthorizedOperation or Client.UnauthorizedOperation
errors within an hour: stolen credentials being tried against services to map
what they may do (permission enumeration). One finding per burst: the call
that brings the principal's count for the preceding hour to min_denied. Calls
made by AWS services are left out."""
tactics = ["TA0007"]
techniques = ["T1580", "T1069.003"]
severity = "medium"
false_positives = [
  "A misconfigured application retrying a call it lacks permission for (list it in allow_principals)",
]
tags = ["discovery", "access-denied", "enumeration"]

[params.min_denied]
default = 10
description = "Denied calls within an hour that make a burst"

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) whose denials are known noise"
*/
WITH denied AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object
  FROM cloudtrail
  WHERE errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation')
    AND coalesce(useridentity_type, '') <> 'AWSService'
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
    AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
),
counted AS (
  SELECT *,
         count(*) OVER (PARTITION BY principal, account ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS denials
  FROM denied
),
crossings AS (
  SELECT *, lag(denials) OVER (PARTITION BY principal, account ORDER BY eventtime, eventid) AS previous
  FROM counted
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       denials || ' access-denied errors for one principal within an hour' AS reason
FROM crossings
WHERE denials >= {{min_denied}} AND coalesce(previous, 0) < {{min_denied}}
