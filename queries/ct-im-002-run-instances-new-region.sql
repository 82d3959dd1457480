/* hunt
id = "CT-IM-002"
title = "Instances launched in a region the account had not been using"
description = """
RunInstances in a region where the account recorded no event at all in the
baseline_days before the launch (events of the last hour before it are not
counted, so the attacker's own look around the region does not hide it),
while the account did leave events elsewhere in the lake at least a day
before: without that history the lake cannot tell a new region from a new
lake.
Attackers run crypto-miners or staging hosts in regions nobody watches. The
baseline is read from the lake, so it reaches back before the hunt window:
ingest at least baseline_days of history before it."""
tactics = ["TA0040", "TA0005"]
techniques = ["T1496", "T1535"]
severity = "medium"
false_positives = [
  "Expansion into a new region or a disaster-recovery test",
  "A lake that holds less history than baseline_days",
]
tags = ["ec2", "region", "impact", "resource-hijacking"]

[params.baseline_days]
default = 30
description = "Days before a launch during which any event in its region counts as the region being in use"
*/
-- The baseline looks back over every event, so its windows carry only what
-- they compare and, for launches, where the record is; the launches' other
-- columns are read again for them alone.
WITH activity AS (
  SELECT recipientaccountid AS account, awsregion AS region, eventtime,
         CASE WHEN eventsource = 'ec2.amazonaws.com' AND eventname = 'RunInstances' AND errorcode IS NULL
              THEN source_object END AS launch_object,
         source_index,
         count(*) OVER (PARTITION BY recipientaccountid, awsregion ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '1 hour' PRECEDING) AS earlier,
         count(*) OVER (PARTITION BY recipientaccountid ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '1 day' PRECEDING) AS account_history
  FROM cloudtrail
  WHERE eventtime >= {{start}} - INTERVAL '{{baseline_days}} days' AND eventtime < {{end}}
),
launches AS (
  SELECT launch_object, source_index
  FROM activity
  WHERE launch_object IS NOT NULL
    AND earlier = 0
    AND account_history > 0
    AND eventtime >= {{start}} AND eventtime < {{end}}
)
SELECT c.eventtime, c.eventid, c.eventname,
       coalesce(c.useridentity_arn, c.useridentity_principalid, c.useridentity_invokedby) AS principal,
       c.sourceipaddress, c.useragent, c.recipientaccountid AS account, c.awsregion AS region,
       c.source_object,
       'instances launched in ' || coalesce(c.awsregion, '?') || ', unused by the account in the ' || {{baseline_days}} || ' days before' AS reason
FROM cloudtrail AS c
JOIN launches AS l ON c.source_object = l.launch_object AND c.source_index = l.source_index
WHERE c.eventsource = 'ec2.amazonaws.com'
  AND c.eventname = 'RunInstances'
  AND c.eventtime >= {{start}} AND c.eventtime < {{end}}
