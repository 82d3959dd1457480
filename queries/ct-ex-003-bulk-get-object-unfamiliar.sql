/* hunt
id = "CT-EX-003"
title = "Bulk S3 downloads by an unfamiliar principal or address"
description = """
A principal making at least min_objects successful GetObject calls within an
hour, each from a principal or a source IP address that left no event at all
in the lake in the baseline_days before it (events of the last hour before
it are not counted, so the burst does not hide itself). Needs S3 data events
in the archive. One finding per burst: the call that brings the count to
min_objects. The baseline is read from the lake, so it reaches back before
the hunt window: ingest at least baseline_days of history before it."""
tactics = ["TA0010", "TA0009"]
techniques = ["T1530"]
severity = "high"
false_positives = [
  "A new application or user starting a large legitimate download",
  "A lake that holds less history than baseline_days",
]
tags = ["s3", "exfiltration", "data-events"]

[params.min_objects]
default = 50
description = "GetObject calls within an hour that make a burst"

[params.baseline_days]
default = 30
description = "Days before a call during which any event of the principal (or from the address) makes it familiar"
*/
WITH activity AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, eventsource, errorcode,
         count(*) OVER (PARTITION BY recipientaccountid, coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby)
                        ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '1 hour' PRECEDING) AS principal_before,
         count(*) OVER (PARTITION BY sourceipaddress ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '1 hour' PRECEDING) AS address_before
  FROM cloudtrail
  WHERE eventtime >= {{start}} - INTERVAL '{{baseline_days}} days' AND eventtime < {{end}}
),
reads AS (
  SELECT *
  FROM activity
  WHERE eventsource = 's3.amazonaws.com'
    AND eventname = 'GetObject'
    AND errorcode IS NULL
    AND (principal_before = 0 OR address_before = 0)
    AND eventtime >= {{start}} AND eventtime < {{end}}
),
counted AS (
  SELECT *,
         count(*) OVER (PARTITION BY principal, account ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS objects
  FROM reads
),
crossings AS (
  SELECT *, lag(objects) OVER (PARTITION BY principal, account ORDER BY eventtime, eventid) AS previous
  FROM counted
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       objects || ' objects read within an hour by a '
         || CASE WHEN principal_before = 0 THEN 'principal' ELSE 'source address' END
         || ' unseen in the ' || {{baseline_days}} || ' days before' AS reason
FROM crossings
WHERE objects >= {{min_objects}} AND coalesce(previous, 0) < {{min_objects}}
