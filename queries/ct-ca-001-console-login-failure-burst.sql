/* hunt
id = "CT-CA-001"
title = "Bursts of failed console sign-ins"
description = """
Password guessing or spraying against the console: at least min_failures
failed ConsoleLogin events from one source IP, or for one user name, within
an hour. Each failed sign-in that brings the count of the hour up to it (that
failure included) to min_failures or more is one finding, so a burst of N
failures gives N - min_failures + 1 findings. Failures for a user name
CloudTrail hides (HIDDEN_DUE_TO_SECURITY_REASONS: no such user) are counted
by source IP only."""
tactics = ["TA0006"]
techniques = ["T1110.001", "T1110.003"]
severity = "medium"
false_positives = [
  "A user who forgot a changed password and retries many times",
  "Many users behind one corporate NAT address mistyping passwords",
]
tags = ["iam", "console", "brute-force", "credential-access"]

[params.min_failures]
default = 5
description = "Failed sign-ins within an hour, from one IP or for one user, that make a burst"
*/
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       CASE
         WHEN by_ip >= {{min_failures}} THEN by_ip || ' failed console sign-ins from ' || coalesce(sourceipaddress, '?') || ' within an hour'
         ELSE by_user || ' failed console sign-ins for ' || coalesce(username, '?') || ' within an hour'
       END AS reason
FROM (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, useridentity_username AS username,
         count(*) OVER (PARTITION BY sourceipaddress ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS by_ip,
         CASE WHEN useridentity_username IS NULL
                   OR useridentity_username = 'HIDDEN_DUE_TO_SECURITY_REASONS' THEN 0
              ELSE count(*) OVER (PARTITION BY recipientaccountid, useridentity_username ORDER BY eventtime
                                  RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW)
         END AS by_user
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin'
    AND (json_as_text(responseelements, 'ConsoleLogin') = 'Failure' OR errormessage = 'Failed authentication')
    AND eventtime >= {{start}} AND eventtime < {{end}}
) AS failures
WHERE by_ip >= {{min_failures}} OR by_user >= {{min_failures}}
