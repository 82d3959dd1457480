/* hunt
id = "CT-PS-003"
title = "IAM Identity Center or Organizations guard-rails changed"
description = """
Changes that hand out access across accounts or loosen organisation-wide
controls. IAM Identity Center (sso.amazonaws.com): CreatePermissionSet,
PutInlinePolicyToPermissionSet, CreateAccountAssignment, and
AttachManagedPolicyToPermissionSet with AdministratorAccess. Organizations
(organizations.amazonaws.com): LeaveOrganization,
RemoveAccountFromOrganization, DeletePolicy, DetachPolicy (CloudTrail does
not record the policy type of these two, so tag and backup policies are
reported too) and DisablePolicyType. Failed calls are left out."""
tactics = ["TA0003", "TA0004", "TA0005"]
techniques = ["T1098.003", "T1484.002", "T1562"]
severity = "high"
false_positives = [
  "Planned identity or organisation changes by the platform team (list them in allow_principals)",
]
tags = ["sso", "identity-center", "organizations", "scp", "persistence"]

[params.allow_principals]
default = []
description = "Principal ARNs (or role ARNs behind sessions) that administer Identity Center or Organizations"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE WHEN eventsource = 'sso.amazonaws.com' THEN 'Identity Center: ' ELSE 'Organizations: ' END
         || eventname
         || coalesce(' ' || json_as_text(requestparameters, 'managedPolicyArn'), '')
         || coalesce(' ' || json_as_text(requestparameters, 'policyId'), '')
         || coalesce(' ' || json_as_text(requestparameters, 'accountId'), '') AS reason
FROM cloudtrail
WHERE errorcode IS NULL
  AND ((eventsource = 'sso.amazonaws.com'
        AND (eventname IN ('CreatePermissionSet', 'PutInlinePolicyToPermissionSet', 'CreateAccountAssignment')
             OR (eventname = 'AttachManagedPolicyToPermissionSet'
                 AND json_as_text(requestparameters, 'managedPolicyArn') LIKE '%/AdministratorAccess')))
       OR (eventsource = 'organizations.amazonaws.com'
           AND eventname IN ('LeaveOrganization', 'RemoveAccountFromOrganization', 'DeletePolicy',
                             'DetachPolicy', 'DisablePolicyType')))
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
