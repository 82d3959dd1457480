/* hunt
id = "CT-PS-004"
title = "EC2 key pair imported or created"
description = """
ImportKeyPair registers an SSH public key the caller holds the private half
of; CreateKeyPair hands the caller a new private key. Launched with it, an
instance lets the attacker in over SSH. Failed calls are left out."""
tactics = ["TA0003"]
techniques = ["T1098.004"]
severity = "low"
false_positives = [
  "Engineers or provisioning pipelines setting up access to new instances (list them in allow_principals)",
]
tags = ["ec2", "ssh", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that manage key pairs as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'ImportKeyPair' THEN 'key pair imported: '
         ELSE 'key pair created: '
       END || coalesce(json_as_text(requestparameters, 'keyName'), '?') AS reason
FROM cloudtrail
WHERE eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('ImportKeyPair', 'CreateKeyPair')
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
