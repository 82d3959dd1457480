/* hunt
id = "CT-DI-001"
title = "Burst of discovery calls by one principal"
description = """
One principal calling at least min_distinct different List*, Describe* or
Get* APIs across at least min_services event sources within one clock hour:
the enumeration that follows a credential compromise (often with tools such
as Pacu or ScoutSuite). Failed calls count too. One finding per principal and
hour: its first read call of that hour. Calls made by AWS services are left
out. A burst that straddles the hour boundary may be split and missed."""
tactics = ["TA0007"]
techniques = ["T1580", "T1526", "T1087.004"]
severity = "low"
false_positives = [
  "Inventory, compliance or CSPM scanners (list them in allow_principals)",
  "An administrator browsing many services in the console",
]
tags = ["discovery", "enumeration", "recon"]

[params.min_distinct]
default = 10
description = "Distinct read API names within an hour that make a burst"

[params.min_services]
default = 3
description = "Distinct event sources among them"

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) of scanners"
*/
WITH reads AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, eventsource,
         date_trunc('hour', eventtime) AS hour
  FROM cloudtrail
  WHERE (eventname LIKE 'List%' OR eventname LIKE 'Describe%' OR eventname LIKE 'Get%')
    AND coalesce(useridentity_type, '') <> 'AWSService'
    AND useridentity_invokedby IS NULL
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
    AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY principal, account, hour ORDER BY eventtime, eventid) AS n
  FROM reads
),
bursts AS (
  SELECT principal, account, hour,
         count(DISTINCT eventname) AS names, count(DISTINCT eventsource) AS services
  FROM reads
  GROUP BY principal, account, hour
  HAVING count(DISTINCT eventname) >= {{min_distinct}} AND count(DISTINCT eventsource) >= {{min_services}}
)
SELECT r.eventtime, r.eventid, r.eventname, r.principal, r.sourceipaddress, r.useragent, r.account, r.region,
       r.source_object,
       b.names || ' distinct read calls to ' || b.services || ' services within the hour from ' || r.hour AS reason
FROM ranked AS r
JOIN bursts AS b ON r.principal = b.principal AND r.account = b.account AND r.hour = b.hour
WHERE r.n = 1
