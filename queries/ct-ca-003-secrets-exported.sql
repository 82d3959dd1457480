/* hunt
id = "CT-CA-003"
title = "Instance password, SSH key or decrypted parameters obtained"
description = """
EC2 GetPasswordData returns a Windows instance's encrypted administrator
password; IAM UploadSSHPublicKey gives a user SSH access to CodeCommit;
SSM GetParametersByPath with withDecryption true reads a whole tree of
SecureString parameters in clear. Each yields credentials an attacker can
reuse. Failed calls are left out."""
tactics = ["TA0006"]
techniques = ["T1552", "T1098.004"]
severity = "medium"
false_positives = [
  "Applications reading their configuration with decryption at start-up (list their roles in allow_principals)",
]
tags = ["credentials", "ec2", "ssm", "iam"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that read these as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'GetPasswordData' THEN 'Windows password data read for ' || coalesce(json_as_text(requestparameters, 'instanceId'), '?')
         WHEN 'UploadSSHPublicKey' THEN 'SSH public key uploaded for ' || coalesce(json_as_text(requestparameters, 'userName'), '?')
         ELSE 'parameters under ' || coalesce(json_as_text(requestparameters, 'path'), '?') || ' read decrypted'
       END AS reason
FROM cloudtrail
WHERE ((eventsource = 'ec2.amazonaws.com' AND eventname = 'GetPasswordData')
       OR (eventsource = 'iam.amazonaws.com' AND eventname = 'UploadSSHPublicKey')
       OR (eventsource = 'ssm.amazonaws.com' AND eventname = 'GetParametersByPath'
           AND json_as_text(requestparameters, 'withDecryption') = 'true'))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
