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
-- An hour with fewer calls than min_distinct cannot hold a burst. Most
-- principal-hours are short role sessions with a call or two; leaving them
-- out first spares a set of distinct names and sources for each of them.
busy AS (
  SELECT principal, account, hour
  FROM reads
  GROUP BY principal, account, hour
  HAVING count(*) >= {{min_distinct}}
),
bursts AS (
  SELECT r.principal, r.account, r.hour,
         count(DISTINCT r.eventname) AS names, count(DISTINCT r.eventsource) AS services
  FROM reads AS r
  JOIN busy AS b ON r.principal = b.principal AND r.account = b.account AND r.hour = b.hour
  GROUP BY r.principal, r.account, r.hour
  HAVING count(DISTINCT r.eventname) >= {{min_distinct}} AND count(DISTINCT r.eventsource) >= {{min_services}}
),
-- Calls are ranked within the bursts only, not over every read call.
ranked AS (
  SELECT r.*, b.names, b.services,
         row_number() OVER (PARTITION BY r.principal, r.account, r.hour ORDER BY r.eventtime, r.eventid) AS n
  FROM reads AS r
  JOIN bursts AS b ON r.principal = b.principal AND r.account = b.account AND r.hour = b.hour
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       names || ' distinct read calls to ' || services || ' services within the hour from ' || hour AS reason
FROM ranked
WHERE n = 1
