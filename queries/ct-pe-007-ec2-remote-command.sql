/* hunt
id = "CT-PE-007"
title = "Commands run on instances through SSM or user data"
description = """
SSM SendCommand with the AWS-RunShellScript or AWS-RunPowerShellScript
document, or ModifyInstanceAttribute changing an instance's userData: both
run arbitrary code on instances, with the rights of their instance profiles.
Failed calls are left out."""
tactics = ["TA0002", "TA0004"]
techniques = ["T1651", "T1059"]
severity = "medium"
false_positives = [
  "Configuration management or patching that runs shell scripts through SSM (list it in allow_principals)",
]
tags = ["ec2", "ssm", "execution", "user-data"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that run commands on instances as their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE WHEN eventname = 'SendCommand'
            THEN 'SSM command ' || json_as_text(requestparameters, 'documentName') || ' sent'
            ELSE 'user data of ' || coalesce(json_as_text(requestparameters, 'instanceId'), '?') || ' changed'
       END AS reason
FROM cloudtrail
WHERE errorcode IS NULL
  AND ((eventsource = 'ssm.amazonaws.com' AND eventname = 'SendCommand'
        AND json_as_text(requestparameters, 'documentName') IN ('AWS-RunShellScript', 'AWS-RunPowerShellScript'))
       OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'ModifyInstanceAttribute'
           AND (json_as_text(requestparameters, 'userData') IS NOT NULL
                OR json_as_text(requestparameters, 'attribute') = 'userData')))
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
