/* hunt
id = "CT-DE-010"
title = "EBS default encryption disabled or KMS key policy opened to everyone"
description = """
DisableEbsEncryptionByDefault lets new volumes be created unencrypted;
PutKeyPolicy with an Allow statement whose Principal is "*" (or AWS "*")
opens a KMS key to any principal, in any account unless a condition narrows
it. Failed calls are left out."""
tactics = ["TA0005"]
techniques = ["T1562"]
severity = "high"
false_positives = [
  "Key policies with a wildcard principal narrowed by conditions (aws:PrincipalOrgID, kms:CallerAccount)",
]
tags = ["kms", "ebs", "encryption", "defense-evasion"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to make these changes"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DisableEbsEncryptionByDefault' THEN 'EBS encryption by default disabled in ' || awsregion
         ELSE 'policy of key ' || coalesce(json_as_text(requestparameters, 'keyId'), '?') || ' allows any principal'
       END AS reason
FROM cloudtrail
WHERE ((eventsource = 'ec2.amazonaws.com' AND eventname = 'DisableEbsEncryptionByDefault')
       OR (eventsource = 'kms.amazonaws.com' AND eventname = 'PutKeyPolicy'
           AND regexp_like(json_as_text(requestparameters, 'policy'), '"Effect"\s*:\s*"Allow"')
           AND regexp_like(json_as_text(requestparameters, 'policy'),
                           '"Principal"\s*:\s*("\*"|\{\s*"AWS"\s*:\s*("\*"|\[[^\]]*"\*")\s*\})')))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
