/* hunt
id = "CT-PS-005"
title = "IAM OIDC or SAML identity provider created or updated"
description = """
CreateOpenIDConnectProvider, CreateSAMLProvider and UpdateSAMLProvider make
the account trust an outside identity provider. An attacker who controls the
provider (or swaps its metadata) can then sign in to any role that trusts it
without keys or passwords. Failed calls are left out."""
tactics = ["TA0003", "TA0004"]
techniques = ["T1484.002"]
severity = "high"
false_positives = [
  "Setting up single sign-on or CI federation (GitHub Actions OIDC), rotating a SAML certificate",
]
tags = ["iam", "federation", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to manage identity providers"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'CreateOpenIDConnectProvider' THEN 'OIDC provider created for ' || coalesce(json_as_text(requestparameters, 'url'), '?')
         WHEN 'CreateSAMLProvider' THEN 'SAML provider created: ' || coalesce(json_as_text(requestparameters, 'name'), '?')
         ELSE 'SAML provider metadata replaced: ' || coalesce(json_as_text(requestparameters, 'sAMLProviderArn'), '?')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname IN ('CreateOpenIDConnectProvider', 'CreateSAMLProvider', 'UpdateSAMLProvider')
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
