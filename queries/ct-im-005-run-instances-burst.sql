/* hunt
id = "CT-IM-005"
title = "Burst of instance launches by one principal"
description = """
One principal (a user, or the role behind a session) launching at least
min_instances instances with RunInstances within window_minutes, when it
launched fewer than min_instances in all of the baseline_days before the
burst: compute hijacked for crypto-mining, or staging hosts. Launches by
AWS services (Auto Scaling, EC2 Fleet, Spot) are left out. The count is the
number of instances in the response, or the requested maxCount when the
response is absent. One finding per burst: its first launch."""
tactics = ["TA0040"]
techniques = ["T1496", "T1578.002"]
severity = "high"
false_positives = [
  "A deployment or batch job scaling out by hand for the first time (list its role in allow_principals)",
  "A lake that holds less history than baseline_days",
]
tags = ["ec2", "impact", "resource-hijacking", "burst"]

[params.min_instances]
default = 20
description = "Instances launched within window_minutes that make a burst"

[params.window_minutes]
default = 60
description = "Length of the burst window"

[params.baseline_days]
default = 30
description = "Days before a burst during which launching min_instances makes the principal a routine launcher"

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that launch fleets by design"
*/
WITH launches AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid) AS principal,
         coalesce(useridentity_sessioncontext_sessionissuer_arn, useridentity_arn, useridentity_principalid) AS launcher,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region, source_object,
         coalesce(json_length(responseelements, 'instancesSet', 'items'),
                  json_get_int(requestparameters, 'instancesSet', 'items', 0, 'maxCount'), 1) AS instances,
         json_as_text(requestparameters, 'instanceType') AS instance_type
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com'
    AND eventname = 'RunInstances'
    AND errorcode IS NULL
    AND coalesce(useridentity_type, '') <> 'AWSService'
    AND useridentity_invokedby IS NULL
    AND eventtime >= {{start}} - INTERVAL '{{baseline_days}} days' AND eventtime < {{end}} + INTERVAL '{{window_minutes}} minutes'
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
    AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
),
windows AS (
  SELECT *,
         sum(instances) OVER (PARTITION BY account, launcher ORDER BY eventtime
                              RANGE BETWEEN CURRENT ROW AND INTERVAL '{{window_minutes}} minutes' FOLLOWING) AS burst,
         coalesce(sum(instances) OVER (PARTITION BY account, launcher ORDER BY eventtime
                              RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '{{window_minutes}} minutes' PRECEDING), 0) AS before,
         lag(eventtime) OVER (PARTITION BY account, launcher ORDER BY eventtime, eventid) AS previous_launch
  FROM launches
),
bursts AS (
  SELECT *,
         lag(burst >= {{min_instances}}) OVER (PARTITION BY account, launcher ORDER BY eventtime, eventid) AS previous_in_burst
  FROM windows
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region, source_object,
       burst || ' instances launched within ' || {{window_minutes}} || ' minutes'
         || coalesce(' (' || instance_type || ' first)', '') || ', ' || before || ' in the '
         || {{baseline_days}} || ' days before' AS reason
FROM bursts
WHERE burst >= {{min_instances}}
  AND before < {{min_instances}}
  AND NOT (coalesce(previous_in_burst, false)
           AND previous_launch > eventtime - INTERVAL '{{window_minutes}} minutes')
  AND eventtime >= {{start}} AND eventtime < {{end}}
