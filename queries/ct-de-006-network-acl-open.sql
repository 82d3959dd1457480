/* hunt
id = "CT-DE-006"
title = "Network ACL opened to the internet"
description = """
CreateNetworkAclEntry or ReplaceNetworkAclEntry adding an inbound (egress
false) allow rule for 0.0.0.0/0 or ::/0 that covers every protocol
(protocol -1) or a port range including SSH (22) or RDP (3389). A rule
without a port range is taken to cover every port."""
tactics = ["TA0005", "TA0003"]
techniques = ["T1562.007"]
severity = "medium"
false_positives = [
  "Bastion or remote-desktop subnets that are meant to be reachable",
]
tags = ["ec2", "vpc", "network-acl", "defense-evasion"]
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       'network ACL ' || coalesce(json_as_text(requestparameters, 'networkAclId'), '?') || ' allows '
         || coalesce(json_as_text(requestparameters, 'cidrBlock'), json_as_text(requestparameters, 'ipv6CidrBlock'))
         || ' protocol ' || coalesce(json_as_text(requestparameters, 'protocol'), '?')
         || ' ports ' || coalesce(json_as_text(requestparameters, 'portRange', 'from'), '*')
         || '-' || coalesce(json_as_text(requestparameters, 'portRange', 'to'), '*') AS reason
FROM cloudtrail
WHERE eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('CreateNetworkAclEntry', 'ReplaceNetworkAclEntry')
  AND errorcode IS NULL
  AND lower(json_as_text(requestparameters, 'ruleAction')) = 'allow'
  AND coalesce(json_as_text(requestparameters, 'egress'), 'false') = 'false'
  AND (json_as_text(requestparameters, 'cidrBlock') = '0.0.0.0/0'
       OR json_as_text(requestparameters, 'ipv6CidrBlock') = '::/0')
  AND (json_as_text(requestparameters, 'protocol') IN ('-1', 'all')
       OR (coalesce(TRY_CAST(json_as_text(requestparameters, 'portRange', 'from') AS BIGINT), 0) <= 22
           AND coalesce(TRY_CAST(json_as_text(requestparameters, 'portRange', 'to') AS BIGINT), 65535) >= 22)
       OR (coalesce(TRY_CAST(json_as_text(requestparameters, 'portRange', 'from') AS BIGINT), 0) <= 3389
           AND coalesce(TRY_CAST(json_as_text(requestparameters, 'portRange', 'to') AS BIGINT), 65535) >= 3389))
  AND eventtime >= {{start}} AND eventtime < {{end}}
