/* hunt
id = "CT-DE-008"
title = "AWS WAF web ACL deleted or disassociated, or Shield protection removed"
description = """
DeleteWebACL and DisassociateWebACL (WAF, WAF Classic and WAF Regional) take
the web application firewall off a resource; Shield DeleteProtection drops
DDoS protection. An attacker does it before attacking the application.
Failed calls are left out."""
tactics = ["TA0005"]
techniques = ["T1562.007"]
severity = "medium"
false_positives = [
  "Retiring an application or replacing its web ACL",
]
tags = ["waf", "shield", "defense-evasion"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to remove web ACLs"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DisassociateWebACL' THEN 'web ACL disassociated from ' || coalesce(json_as_text(requestparameters, 'resourceArn'), json_as_text(requestparameters, 'ResourceArn'), '?')
         WHEN 'DeleteProtection' THEN 'Shield protection deleted: ' || coalesce(json_as_text(requestparameters, 'protectionId'), '?')
         ELSE 'web ACL deleted: ' || coalesce(json_as_text(requestparameters, 'name'), json_as_text(requestparameters, 'Name'), json_as_text(requestparameters, 'webACLId'), '?')
       END AS reason
FROM cloudtrail
WHERE ((eventsource IN ('wafv2.amazonaws.com', 'waf.amazonaws.com', 'waf-regional.amazonaws.com')
        AND eventname IN ('DeleteWebACL', 'DisassociateWebACL'))
       OR (eventsource = 'shield.amazonaws.com' AND eventname = 'DeleteProtection'))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
