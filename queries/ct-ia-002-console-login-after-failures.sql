/* hunt
id = "CT-IA-002"
title = "Console sign-in success after repeated failures"
description = """
A successful ConsoleLogin for a user name that had at least min_failures
failed console sign-ins within the hour before: a password guessed or
sprayed successfully. Failures are counted per account and user name, from
any address. Sign-ins whose user name CloudTrail hides are left out."""
tactics = ["TA0001", "TA0006"]
techniques = ["T1110.001", "T1078.004"]
severity = "high"
false_positives = [
  "A user who forgot a password and got it right after a few tries",
]
tags = ["console", "signin", "brute-force", "initial-access"]

[params.min_failures]
default = 3
description = "Failed sign-ins for the user name within the hour before the success"
*/
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       'console sign-in of ' || username || ' after ' || failures || ' failures within an hour' AS reason
FROM (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, useridentity_username AS username,
         json_as_text(responseelements, 'ConsoleLogin') AS outcome,
         sum(CASE WHEN json_as_text(responseelements, 'ConsoleLogin') = 'Failure'
                       OR errormessage = 'Failed authentication' THEN 1 ELSE 0 END)
           OVER (PARTITION BY recipientaccountid, useridentity_username ORDER BY eventtime
                 RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS failures
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin'
    AND eventtime >= {{start}} - INTERVAL '1 hour' AND eventtime < {{end}}
) AS logins
WHERE outcome = 'Success'
  AND failures >= {{min_failures}}
  AND username IS NOT NULL
  AND username <> 'HIDDEN_DUE_TO_SECURITY_REASONS'
  AND eventtime >= {{start}}
