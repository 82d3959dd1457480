/* hunt
id = "CT-DE-002"
title = "Security group opened to the internet on SSH or RDP"
description = """
AuthorizeSecurityGroupIngress adding a permission that lets 0.0.0.0/0 or ::/0
reach port 22 (SSH) or 3389 (RDP), or all ports (protocol -1): instances
behind the group become reachable for brute force and exploitation from
anywhere. Each permission of requestParameters.ipPermissions.items is looked
at on its own: its port range must cover 22 or 3389 and its text must hold
the CIDR "0.0.0.0/0" or "::/0" (matched as text in its ipRanges and
ipv6Ranges). A permission opened to any narrower range, such as a corporate
/24, is left out."""
tactics = ["TA0005", "TA0001"]
techniques = ["T1562.007", "T1133"]
severity = "high"
false_positives = [
  "Bastion hosts or honeypots meant to be reachable from anywhere (list their groups in allow_groups)",
]
tags = ["ec2", "network", "security-group", "defense-evasion"]

[params.allow_groups]
default = []
description = "Security group ids meant to be open to the internet"
*/
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       'security group ' || coalesce(groupid, '?') || ' opens '
         || CASE WHEN protocol = '-1' THEN 'all ports' ELSE coalesce(protocol, '?') || ' ' || fromport || '-' || toport END
         || ' to the internet' AS reason
FROM (
  SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
         source_object, groupid,
         json_as_text(perm, 'ipProtocol') AS protocol,
         json_get_int(perm, 'fromPort') AS fromport,
         json_get_int(perm, 'toPort') AS toport,
         perm
  FROM (
    SELECT eventtime, eventid, eventname,
           coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
           sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
           source_object,
           coalesce(json_as_text(requestparameters, 'groupId'), json_as_text(requestparameters, 'groupName')) AS groupid,
           unnest(json_get_array(requestparameters, 'ipPermissions', 'items')) AS perm
    FROM cloudtrail
    WHERE eventsource = 'ec2.amazonaws.com'
      AND eventname = 'AuthorizeSecurityGroupIngress'
      AND errorcode IS NULL
      AND eventtime >= {{start}} AND eventtime < {{end}}
  ) AS events
) AS perms
WHERE (perm LIKE '%"0.0.0.0/0"%' OR perm LIKE '%"::/0"%')
  AND (protocol IN ('-1', 'all')
       OR (fromport <= 22 AND toport >= 22)
       OR (fromport <= 3389 AND toport >= 3389))
  AND coalesce(groupid, '') NOT IN {{allow_groups}}
