/* hunt
id = "CT-LM-002"
title = "New AssumeRole chain: a role session assuming a role it never assumed before"
description = """
A role session calling AssumeRole for another role (role chaining) when the
lake shows no AssumeRole from the same source role to the same target role in
the baseline_days before (events of the last hour before it are not counted).
Attackers chain through roles to reach other accounts or more privilege and
to blur the trail back to the first credential. Only judged when the lake
holds at least a day of the account's history before the call, so a lake
that starts with the incident does not report every routine chain. Calls
made by AWS services are left out."""
tactics = ["TA0008", "TA0004"]
techniques = ["T1550.001", "T1078.004"]
severity = "medium"
false_positives = [
  "A new deployment pipeline or cross-account automation (list its source role in allow_roles)",
  "A lake that holds less history than baseline_days",
]
tags = ["sts", "assume-role", "role-chaining", "lateral-movement"]

[params.baseline_days]
default = 30
description = "Days before a call during which the same chain makes it familiar"

[params.allow_roles]
default = []
description = "Source role ARNs allowed to chain into any role"
*/
WITH history AS (
  SELECT recipientaccountid AS account, min(eventtime) AS since
  FROM cloudtrail
  WHERE eventtime >= {{start}} - INTERVAL '{{baseline_days}} days' AND eventtime < {{end}}
  GROUP BY recipientaccountid
),
hops AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region, source_object,
         useridentity_sessioncontext_sessionissuer_arn AS from_role,
         json_as_text(requestparameters, 'roleArn') AS to_role,
         count(*) OVER (PARTITION BY recipientaccountid, useridentity_sessioncontext_sessionissuer_arn,
                                     json_as_text(requestparameters, 'roleArn')
                        ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '1 hour' PRECEDING) AS earlier
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com'
    AND eventname = 'AssumeRole'
    AND errorcode IS NULL
    AND useridentity_type = 'AssumedRole'
    AND useridentity_invokedby IS NULL
    AND useridentity_sessioncontext_sessionissuer_arn IS NOT NULL
    AND useridentity_sessioncontext_sessionissuer_arn NOT IN {{allow_roles}}
    AND eventtime >= {{start}} - INTERVAL '{{baseline_days}} days' AND eventtime < {{end}}
)
SELECT h.eventtime, h.eventid, h.eventname, h.principal, h.sourceipaddress, h.useragent, h.account, h.region,
       h.source_object,
       'role ' || h.from_role || ' chained into ' || coalesce(h.to_role, '?')
         || CASE WHEN split_part(coalesce(h.to_role, ''), ':', 5) NOT IN ('', split_part(h.from_role, ':', 5))
                 THEN ' in account ' || split_part(h.to_role, ':', 5) ELSE '' END
         || ', not seen in the ' || {{baseline_days}} || ' days before' AS reason
FROM hops AS h
JOIN history AS y ON y.account = h.account
WHERE h.earlier = 0
  AND y.since <= h.eventtime - INTERVAL '1 day'
  AND h.eventtime >= {{start}} AND h.eventtime < {{end}}
