/* hunt
id = "CT-DE-009"
title = "Route 53 or Resolver DNS query logging deleted"
description = """
DeleteQueryLoggingConfig (Route 53 public zones), DeleteResolverQueryLogConfig
and DisassociateResolverQueryLogConfig (Route 53 Resolver, VPC DNS) stop DNS
queries being logged, hiding command-and-control or exfiltration over DNS.
Failed calls are left out."""
tactics = ["TA0005"]
techniques = ["T1562.008"]
severity = "medium"
false_positives = [
  "Moving query logging to another destination",
]
tags = ["route53", "dns", "defense-evasion"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to remove DNS query logging"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DeleteQueryLoggingConfig' THEN 'hosted zone query logging deleted: ' || coalesce(json_as_text(requestparameters, 'id'), '?')
         WHEN 'DeleteResolverQueryLogConfig' THEN 'resolver query logging deleted: ' || coalesce(json_as_text(requestparameters, 'resolverQueryLogConfigId'), '?')
         ELSE 'resolver query logging detached from ' || coalesce(json_as_text(requestparameters, 'resourceId'), '?')
       END AS reason
FROM cloudtrail
WHERE ((eventsource = 'route53.amazonaws.com' AND eventname = 'DeleteQueryLoggingConfig')
       OR (eventsource = 'route53resolver.amazonaws.com'
           AND eventname IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig')))
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
