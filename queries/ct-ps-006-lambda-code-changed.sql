/* hunt
id = "CT-PS-006"
title = "Lambda function code or layers changed outside the deployment pipeline"
description = """
UpdateFunctionCode replaces a function's code; UpdateFunctionConfiguration
with layers adds code that runs inside it. Either can plant a backdoor that
runs with the function's role on every invocation. The principals that
deploy functions as their job (CI/CD roles) go in allow_principals. Failed
calls are left out."""
tactics = ["TA0003", "TA0002"]
techniques = ["T1648", "T1525"]
severity = "medium"
false_positives = [
  "Deployments by pipelines or engineers not yet in allow_principals",
]
tags = ["lambda", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that deploy Lambda functions, such as CI/CD roles"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE WHEN eventname LIKE 'UpdateFunctionCode%' THEN 'code of function '
            ELSE 'layers of function '
       END || coalesce(json_as_text(requestparameters, 'functionName'), '?') || ' changed' AS reason
FROM cloudtrail
WHERE eventsource = 'lambda.amazonaws.com'
  AND (eventname LIKE 'UpdateFunctionCode%'
       OR (eventname LIKE 'UpdateFunctionConfiguration%'
           AND json_get_json(requestparameters, 'layers') IS NOT NULL))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
