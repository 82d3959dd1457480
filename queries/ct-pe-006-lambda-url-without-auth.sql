/* hunt
id = "CT-PE-006"
title = "Lambda function URL without authentication"
description = """
CreateFunctionUrlConfig or UpdateFunctionUrlConfig with authType NONE, or
AddPermission granting lambda:InvokeFunctionUrl to everyone with
functionUrlAuthType NONE: the function becomes callable by anyone on the
internet, with the function role's permissions. Attackers use it as a
persistent, unauthenticated backdoor into the account."""
tactics = ["TA0003", "TA0004"]
techniques = ["T1546", "T1190"]
severity = "high"
false_positives = [
  "Public webhooks or APIs that do their own authentication inside the function",
]
tags = ["lambda", "function-url", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs that publish public function URLs as part of their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       'function URL of ' || coalesce(json_as_text(requestparameters, 'functionName'), '?') || ' open without authentication' AS reason
FROM cloudtrail
WHERE eventsource = 'lambda.amazonaws.com'
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND (((eventname LIKE 'CreateFunctionUrlConfig%' OR eventname LIKE 'UpdateFunctionUrlConfig%')
        AND json_as_text(requestparameters, 'authType') = 'NONE')
       OR (eventname LIKE 'AddPermission%'
           AND json_as_text(requestparameters, 'functionUrlAuthType') = 'NONE'
           AND json_as_text(requestparameters, 'principal') = '*'))
