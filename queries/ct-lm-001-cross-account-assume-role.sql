/* hunt
id = "CT-LM-001"
title = "Role assumed from an untrusted foreign account"
description = """
A successful AssumeRole whose caller belongs to another account than the
one the role lives in, and that account is not in trusted_accounts: an
outside party moving into the account through a role trust (possibly one it
planted, see CT-PE-005). Calls made by AWS services are left out."""
tactics = ["TA0008", "TA0001"]
techniques = ["T1078.004", "T1550.001"]
severity = "medium"
false_positives = [
  "Organisation accounts, partners and vendors that assume roles by design (list them in trusted_accounts)",
]
tags = ["sts", "assume-role", "cross-account", "lateral-movement"]

[params.trusted_accounts]
default = []
description = "Account ids whose principals may assume roles in the account"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       'role ' || coalesce(json_as_text(requestparameters, 'roleArn'), '?') || ' assumed from account '
         || useridentity_accountid AS reason
FROM cloudtrail
WHERE eventsource = 'sts.amazonaws.com'
  AND eventname = 'AssumeRole'
  AND errorcode IS NULL
  AND coalesce(useridentity_type, '') <> 'AWSService'
  AND useridentity_invokedby IS NULL
  AND useridentity_accountid IS NOT NULL
  AND useridentity_accountid <> coalesce(recipientaccountid, '')
  AND useridentity_accountid NOT IN {{trusted_accounts}}
  AND eventtime >= {{start}} AND eventtime < {{end}}
