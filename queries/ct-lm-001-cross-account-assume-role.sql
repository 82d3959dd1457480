/* hunt
id = "CT-LM-001"
title = "Role assumed from an unknown foreign account"
description = """
A successful AssumeRole whose caller belongs to another account than the
one the role lives in, when that account is not in trusted_accounts and the
lake shows it assuming no role in the account in the baseline_days before
(events of the last hour before it are not counted): an outside party moving
into the account through a role trust (possibly one it planted, see
CT-PE-005). A foreign account's first visit is reported; its return visits
within baseline_days are not. Calls made by AWS services are left out."""
tactics = ["TA0008", "TA0001"]
techniques = ["T1078.004", "T1550.001"]
severity = "medium"
false_positives = [
  "Organisation accounts, partners and vendors that assume roles by design (list them in trusted_accounts)",
]
tags = ["sts", "assume-role", "cross-account", "lateral-movement"]

[params.baseline_days]
default = 30
description = "Days before a call during which the same foreign account assuming a role makes it known"

[params.trusted_accounts]
default = []
description = "Account ids whose principals may assume roles in the account"
*/
WITH visits AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object,
         json_as_text(requestparameters, 'roleArn') AS role,
         useridentity_accountid AS caller_account,
         count(*) OVER (PARTITION BY recipientaccountid, useridentity_accountid ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '{{baseline_days}} days' PRECEDING AND INTERVAL '1 hour' PRECEDING) AS earlier
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com'
    AND eventname = 'AssumeRole'
    AND errorcode IS NULL
    AND coalesce(useridentity_type, '') <> 'AWSService'
    AND useridentity_invokedby IS NULL
    AND useridentity_accountid IS NOT NULL
    AND useridentity_accountid <> coalesce(recipientaccountid, '')
    AND useridentity_accountid NOT IN {{trusted_accounts}}
    AND eventtime >= {{start}} - INTERVAL '{{baseline_days}} days' AND eventtime < {{end}}
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region, source_object,
       'role ' || coalesce(role, '?') || ' assumed from account ' || caller_account
         || ', which assumed no role here in the ' || {{baseline_days}} || ' days before' AS reason
FROM visits
WHERE earlier = 0
  AND eventtime >= {{start}} AND eventtime < {{end}}
