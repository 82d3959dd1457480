/* hunt
id = "CT-EX-004"
title = "VPC traffic mirroring set up"
description = """
CreateTrafficMirrorTarget and CreateTrafficMirrorSession copy an instance's
network traffic to another interface or load balancer, where an attacker
can capture it. Rarely used outside network monitoring. Failed calls are
left out."""
tactics = ["TA0010", "TA0006"]
techniques = ["T1040", "T1020"]
severity = "medium"
false_positives = [
  "A network monitoring or IDS appliance being deployed",
]
tags = ["ec2", "vpc", "exfiltration"]

[params.allow_principals]
default = []
description = "Principal ARNs allowed to set up traffic mirroring"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'CreateTrafficMirrorSession' THEN 'traffic of ' || coalesce(json_as_text(requestparameters, 'CreateTrafficMirrorSessionRequest', 'NetworkInterfaceId'), json_as_text(requestparameters, 'networkInterfaceId'), '?')
           || ' mirrored to ' || coalesce(json_as_text(requestparameters, 'CreateTrafficMirrorSessionRequest', 'TrafficMirrorTargetId'), json_as_text(requestparameters, 'trafficMirrorTargetId'), '?')
         ELSE 'traffic mirror target created'
       END AS reason
FROM cloudtrail
WHERE eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('CreateTrafficMirrorSession', 'CreateTrafficMirrorTarget')
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND coalesce(useridentity_sessioncontext_sessionissuer_arn, '') NOT IN {{allow_principals}}
