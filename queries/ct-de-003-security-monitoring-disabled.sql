/* hunt
id = "CT-DE-003"
title = "GuardDuty, Config, Security Hub, Access Analyzer or flow logs turned off"
description = """
Attackers blind the account's detection before acting: a GuardDuty detector
deleted or disabled (UpdateDetector with enable = false), the AWS Config
recorder stopped or deleted or its delivery channel deleted, Security Hub
disabled, an IAM Access Analyzer analyzer deleted, or VPC flow logs
deleted. Only calls that succeeded are reported."""
tactics = ["TA0005"]
techniques = ["T1562.001", "T1562.008"]
severity = "high"
false_positives = [
  "Planned decommissioning or re-configuration by the security team (list it in allow_principals)",
  "Infrastructure-as-code tearing down a test environment",
]
tags = ["guardduty", "config", "securityhub", "flowlogs", "defense-evasion", "logging"]

[params.allow_principals]
default = []
description = "Principal ARNs that manage security tooling as part of their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'DeleteDetector' THEN 'GuardDuty detector deleted: ' || coalesce(json_as_text(requestparameters, 'detectorId'), '?')
         WHEN 'UpdateDetector' THEN 'GuardDuty detector disabled: ' || coalesce(json_as_text(requestparameters, 'detectorId'), '?')
         WHEN 'StopConfigurationRecorder' THEN 'Config recorder stopped'
         WHEN 'DeleteConfigurationRecorder' THEN 'Config recorder deleted'
         WHEN 'DeleteDeliveryChannel' THEN 'Config delivery channel deleted'
         WHEN 'DisableSecurityHub' THEN 'Security Hub disabled'
         WHEN 'DeleteAnalyzer' THEN 'Access Analyzer analyzer deleted: ' || coalesce(json_as_text(requestparameters, 'analyzerName'), '?')
         ELSE 'VPC flow logs deleted'
       END AS reason
FROM cloudtrail
WHERE errorcode IS NULL
  AND ((eventsource = 'guardduty.amazonaws.com'
        AND (eventname = 'DeleteDetector'
             OR (eventname = 'UpdateDetector' AND json_as_text(requestparameters, 'enable') = 'false')))
       OR (eventsource = 'config.amazonaws.com'
           AND eventname IN ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'))
       OR (eventsource = 'securityhub.amazonaws.com' AND eventname = 'DisableSecurityHub')
       OR (eventsource = 'access-analyzer.amazonaws.com' AND eventname = 'DeleteAnalyzer')
       OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs'))
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
