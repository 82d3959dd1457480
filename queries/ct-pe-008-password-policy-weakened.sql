/* hunt
id = "CT-PE-008"
title = "Account password policy weakened or deleted"
description = """
UpdateAccountPasswordPolicy with a minimumPasswordLength under 14 (or none)
or without requireSymbols, and DeleteAccountPasswordPolicy, let weak
passwords be set, easing password guessing against the account's users.
Failed calls are left out."""
tactics = ["TA0004", "TA0005"]
techniques = ["T1556"]
severity = "medium"
false_positives = [
  "An administrator applying an organisation policy that is laxer than 14 characters with symbols",
]
tags = ["iam", "password-policy"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to change the password policy"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DeleteAccountPasswordPolicy' THEN 'account password policy deleted'
         ELSE 'password policy set to minimum length ' || coalesce(json_as_text(requestparameters, 'minimumPasswordLength'), 'default')
           || ', symbols required: ' || coalesce(json_as_text(requestparameters, 'requireSymbols'), 'false')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND (eventname = 'DeleteAccountPasswordPolicy'
       OR (eventname = 'UpdateAccountPasswordPolicy'
           AND (coalesce(TRY_CAST(json_as_text(requestparameters, 'minimumPasswordLength') AS BIGINT), 0) < 14
                OR coalesce(json_as_text(requestparameters, 'requireSymbols'), 'false') = 'false')))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
