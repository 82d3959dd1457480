/* hunt
id = "CT-PE-005"
title = "Role trust opened to a foreign account"
description = """
UpdateAssumeRolePolicy whose new trust policy has an Allow statement naming,
in its AWS principal, an account (a 12-digit id or an ARN holding one) that is
neither the role's own account nor in trusted_accounts, or everyone ("*").
Whoever controls that account can then assume the role: a quiet backdoor.
The first 20 statements of a policy are read."""
tactics = ["TA0003", "TA0004"]
techniques = ["T1098.003", "T1484"]
severity = "high"
false_positives = [
  "Cross-account roles for partners, vendors or other accounts of the organization (list them in trusted_accounts)",
]
tags = ["iam", "role", "trust-policy", "persistence"]

[params.trusted_accounts]
default = []
description = "Account ids that roles may trust"
*/
WITH updates AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, json_as_text(requestparameters, 'roleName') AS role,
         json_get_json(json_as_text(requestparameters, 'policyDocument'), 'Statement') AS statements
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname = 'UpdateAssumeRolePolicy'
    AND errorcode IS NULL
    AND eventtime >= {{start}} AND eventtime < {{end}}
),
statements AS (
  SELECT eventid, account,
         CASE WHEN substr(ltrim(statements), 1, 1) = '{' THEN CASE WHEN i = 0 THEN statements END
              ELSE json_get_json(statements, i) END AS statement
  FROM updates CROSS JOIN unnest(make_array(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)) AS t(i)
),
trusted AS (
  SELECT eventid, account,
         unnest(string_to_array(regexp_replace(coalesce(json_get_json(statement, 'Principal', 'AWS'), ''), '[^0-9*]+', ',', 'g'), ',')) AS target
  FROM statements
  WHERE json_as_text(statement, 'Effect') = 'Allow'
),
foreign_trust AS (
  SELECT eventid, account, string_agg(target, ', ') AS whom
  FROM trusted
  WHERE target = '*'
     OR (regexp_like(target, '^[0-9]{12}$') AND target <> account AND target NOT IN {{trusted_accounts}})
  GROUP BY eventid, account
)
SELECT u.eventtime, u.eventid, u.eventname, u.principal, u.sourceipaddress, u.useragent, u.account, u.region,
       u.source_object,
       'role ' || coalesce(u.role, '?') || ' now trusts ' || f.whom AS reason
FROM updates AS u JOIN foreign_trust AS f ON u.eventid = f.eventid AND u.account = f.account
