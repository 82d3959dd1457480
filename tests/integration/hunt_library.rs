//! Every bundled hunt over scenarios of its own: what must fire, and the
//! benign look-alikes that must not. The scenarios are the incident account
//! of `sample-logs/` (`AWSLogs/123456789012`); this module is their source,
//! and `sample_logs_hold_every_scenario` keeps the two in step.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{self, ctlake};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// A scenario: its records and the event ids the hunt must report.
struct Scenario {
    hunt: &'static str,
    records: Vec<Value>,
    fires: Vec<String>,
}

/// An event id unique to `hunt` and `n`.
fn id(prefix: u32, n: u32) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012x}")
}

fn iam_user(name: &str) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": format!("AIDA{}", name.to_uppercase()),
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAEXAMPLE",
        "userName": name,
    })
}

fn root() -> Value {
    json!({
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": format!("arn:aws:iam::{ACCOUNT}:root"),
        "accountId": ACCOUNT,
    })
}

fn role_session(role: &str) -> Value {
    json!({
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:session",
        "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session"),
        "accountId": ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2024-03-10T00:00:00Z", "mfaAuthenticated": "false"},
        },
    })
}

/// A management event at `time` (HH:MM:SS on 2024-03-10); `extra` adds or
/// replaces members (requestParameters, errorCode, ...).
fn event(
    event_id: &str,
    time: &str,
    source: &str,
    name: &str,
    identity: Value,
    extra: &Value,
) -> Value {
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": null,
        "eventTime": format!("2024-03-10T{time}Z"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{event_id}"),
        "eventID": event_id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    });
    record["userIdentity"] = identity;
    if let (Some(r), Some(e)) = (record.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            r.insert(k.clone(), v.clone());
        }
    }
    record
}

/// A ConsoleLogin event: `outcome` Success or Failure, `mfa` Yes or No.
fn console_login(
    event_id: &str,
    time: &str,
    identity: Value,
    ip: &str,
    outcome: &str,
    mfa: &str,
) -> Value {
    let mut extra = json!({
        "sourceIPAddress": ip,
        "userAgent": "Mozilla/5.0",
        "eventType": "AwsConsoleSignIn",
        "responseElements": {"ConsoleLogin": outcome},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": mfa,
        },
    });
    if outcome == "Failure" {
        extra["errorMessage"] = json!("Failed authentication");
    }
    event(
        event_id,
        time,
        "signin.amazonaws.com",
        "ConsoleLogin",
        identity,
        &extra,
    )
}

fn pe_001_root_use() -> Scenario {
    let n = |i| id(0x0001, i);
    let records = vec![
        console_login(&n(1), "08:00:00", root(), "203.0.113.9", "Success", "Yes"),
        event(
            &n(2),
            "08:05:00",
            "iam.amazonaws.com",
            "CreateUser",
            root(),
            &json!({"requestParameters": {"userName": "backdoor"}}),
        ),
        // Benign: an IAM user that happens to be named root.
        event(
            &n(3),
            "08:06:00",
            "s3.amazonaws.com",
            "ListBuckets",
            iam_user("root"),
            &json!({}),
        ),
        // Benign: a service acting with the root identity.
        event(
            &n(4),
            "08:07:00",
            "trustedadvisor.amazonaws.com",
            "RefreshCheck",
            json!({
                "type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"),
                "accountId": ACCOUNT, "invokedBy": "trustedadvisor.amazonaws.com",
            }),
            &json!({"eventType": "AwsServiceEvent"}),
        ),
    ];
    Scenario {
        hunt: "CT-PE-001",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn ia_001_login_without_mfa() -> Scenario {
    let n = |i| id(0x0002, i);
    let records = vec![
        console_login(
            &n(1),
            "09:00:00",
            iam_user("carol"),
            "203.0.113.20",
            "Success",
            "No",
        ),
        // Benign: MFA used, a failed sign-in, an SSO sign-in (MFA at the IdP).
        console_login(
            &n(2),
            "09:01:00",
            iam_user("dave"),
            "203.0.113.21",
            "Success",
            "Yes",
        ),
        console_login(
            &n(3),
            "09:02:00",
            iam_user("erin"),
            "203.0.113.22",
            "Failure",
            "No",
        ),
        console_login(
            &n(4),
            "09:03:00",
            role_session("AWSReservedSSO_Admin"),
            "203.0.113.23",
            "Success",
            "No",
        ),
        // carol again the same day: from the same address is not news, from another is.
        console_login(
            &n(5),
            "15:00:00",
            iam_user("carol"),
            "203.0.113.20",
            "Success",
            "No",
        ),
        console_login(
            &n(6),
            "16:00:00",
            iam_user("carol"),
            "198.51.100.99",
            "Success",
            "No",
        ),
    ];
    Scenario {
        hunt: "CT-IA-001",
        records,
        fires: vec![n(1), n(6)],
    }
}

fn ca_001_login_failure_burst() -> Scenario {
    let n = |i| id(0x0003, i);
    let mut records = Vec::new();
    // Spraying: six users from one IP in ten minutes; the 5th and 6th fire.
    for i in 1..=6 {
        records.push(console_login(
            &n(i),
            &format!("10:0{i}:00"),
            iam_user(&format!("spray{i}")),
            "203.0.113.50",
            "Failure",
            "No",
        ));
    }
    // Guessing one user's password from five IPs within the hour; the 5th fires.
    for i in 1..=5 {
        records.push(console_login(
            &n(10 + i),
            &format!("11:{:02}:00", i * 10),
            iam_user("frank"),
            &format!("192.0.2.{i}"),
            "Failure",
            "No",
        ));
    }
    // Benign: two failures, and five failures spread over five hours.
    records.push(console_login(
        &n(20),
        "12:00:00",
        iam_user("grace"),
        "198.51.100.77",
        "Failure",
        "No",
    ));
    records.push(console_login(
        &n(21),
        "12:01:00",
        iam_user("grace"),
        "198.51.100.77",
        "Failure",
        "No",
    ));
    for i in 1..=5 {
        records.push(console_login(
            &n(30 + i),
            &format!("{:02}:30:00", 12 + i),
            iam_user("heidi"),
            &format!("198.51.100.{}", 80 + i),
            "Failure",
            "No",
        ));
    }
    Scenario {
        hunt: "CT-CA-001",
        records,
        fires: vec![n(5), n(6), n(15)],
    }
}

fn pe_002_access_key_for_other_user() -> Scenario {
    let n = |i| id(0x0004, i);
    let key = |user: &str| json!({"responseElements": {"accessKey": {"userName": user, "accessKeyId": "AKIANEW", "status": "Active"}}});
    let with_user = |user: &str| {
        let mut e = key(user);
        e["requestParameters"] = json!({"userName": user});
        e
    };
    let records = vec![
        event(
            &n(1),
            "13:00:00",
            "iam.amazonaws.com",
            "CreateAccessKey",
            iam_user("ivan"),
            &with_user("judy"),
        ),
        event(
            &n(2),
            "13:01:00",
            "iam.amazonaws.com",
            "CreateAccessKey",
            role_session("ci"),
            &with_user("svc-deploy"),
        ),
        // Benign: users creating their own keys, with and without userName.
        event(
            &n(3),
            "13:02:00",
            "iam.amazonaws.com",
            "CreateAccessKey",
            iam_user("ken"),
            &key("ken"),
        ),
        event(
            &n(4),
            "13:03:00",
            "iam.amazonaws.com",
            "CreateAccessKey",
            iam_user("leo"),
            &with_user("leo"),
        ),
    ];
    Scenario {
        hunt: "CT-PE-002",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn pe_003_inline_admin_policy() -> Scenario {
    let n = |i| id(0x0005, i);
    let put = |target: &str, name: &str, doc: &Value| json!({"requestParameters": {target: name, "policyName": "p", "policyDocument": doc.to_string()}});
    let admin = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let admin_list = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["*"]}});
    let scoped = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::reports/*"}]});
    let records = vec![
        event(
            &n(1),
            "14:00:00",
            "iam.amazonaws.com",
            "PutUserPolicy",
            iam_user("mallory"),
            &put("userName", "mallory", &admin),
        ),
        event(
            &n(2),
            "14:01:00",
            "iam.amazonaws.com",
            "PutRolePolicy",
            iam_user("mallory"),
            &put("roleName", "ops", &admin_list),
        ),
        // Benign: a scoped policy.
        event(
            &n(3),
            "14:02:00",
            "iam.amazonaws.com",
            "PutGroupPolicy",
            iam_user("nina"),
            &put("groupName", "readers", &scoped),
        ),
    ];
    Scenario {
        hunt: "CT-PE-003",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn de_002_security_group_open() -> Scenario {
    let n = |i| id(0x0006, i);
    let ingress = |from: i64, to: i64, ranges: Value, v6: Value| {
        json!({"requestParameters": {"groupId": "sg-0123", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}},
            {"ipProtocol": "tcp", "fromPort": from, "toPort": to, "ipRanges": {"items": ranges}, "ipv6Ranges": {"items": v6}},
        ]}}})
    };
    let records = vec![
        event(
            &n(1),
            "15:00:00",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            iam_user("oscar"),
            &ingress(22, 22, json!([{"cidrIp": "0.0.0.0/0"}]), json!([])),
        ),
        event(
            &n(2),
            "15:01:00",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            iam_user("oscar"),
            &ingress(3000, 4000, json!([]), json!([{"cidrIpv6": "::/0"}])),
        ),
        // Benign: SSH opened to a corporate /24; HTTPS opened to the world.
        event(
            &n(3),
            "15:02:00",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            iam_user("oscar"),
            &ingress(22, 22, json!([{"cidrIp": "203.0.113.0/24"}]), json!([])),
        ),
        event(
            &n(4),
            "15:03:00",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            iam_user("oscar"),
            &ingress(443, 443, json!([{"cidrIp": "0.0.0.0/0"}]), json!([])),
        ),
    ];
    Scenario {
        hunt: "CT-DE-002",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn de_003_monitoring_disabled() -> Scenario {
    let n = |i| id(0x0007, i);
    let user = || iam_user("peggy");
    let none = json!({});
    let records = vec![
        event(
            &n(1),
            "16:00:00",
            "guardduty.amazonaws.com",
            "DeleteDetector",
            user(),
            &json!({"requestParameters": {"detectorId": "d1"}}),
        ),
        event(
            &n(2),
            "16:01:00",
            "guardduty.amazonaws.com",
            "UpdateDetector",
            user(),
            &json!({"requestParameters": {"detectorId": "d1", "enable": false}}),
        ),
        event(
            &n(3),
            "16:02:00",
            "config.amazonaws.com",
            "StopConfigurationRecorder",
            user(),
            &json!({"requestParameters": {"configurationRecorderName": "default"}}),
        ),
        event(
            &n(4),
            "16:03:00",
            "config.amazonaws.com",
            "DeleteConfigurationRecorder",
            user(),
            &json!({"requestParameters": {"configurationRecorderName": "default"}}),
        ),
        event(
            &n(5),
            "16:04:00",
            "securityhub.amazonaws.com",
            "DisableSecurityHub",
            user(),
            &none,
        ),
        event(
            &n(6),
            "16:05:00",
            "access-analyzer.amazonaws.com",
            "DeleteAnalyzer",
            user(),
            &json!({"requestParameters": {"analyzerName": "org"}}),
        ),
        event(
            &n(7),
            "16:06:00",
            "ec2.amazonaws.com",
            "DeleteFlowLogs",
            user(),
            &json!({"requestParameters": {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}}}),
        ),
        // Benign: reads, re-enabling, and a denied attempt.
        event(
            &n(8),
            "16:07:00",
            "guardduty.amazonaws.com",
            "ListDetectors",
            user(),
            &json!({"readOnly": true}),
        ),
        event(
            &n(9),
            "16:08:00",
            "ec2.amazonaws.com",
            "DescribeFlowLogs",
            user(),
            &json!({"readOnly": true}),
        ),
        event(
            &n(10),
            "16:09:00",
            "guardduty.amazonaws.com",
            "UpdateDetector",
            user(),
            &json!({"requestParameters": {"detectorId": "d1", "enable": true}}),
        ),
        event(
            &n(11),
            "16:10:00",
            "securityhub.amazonaws.com",
            "DisableSecurityHub",
            user(),
            &json!({"errorCode": "AccessDenied", "errorMessage": "denied"}),
        ),
    ];
    Scenario {
        hunt: "CT-DE-003",
        records,
        fires: (1..=7).map(n).collect(),
    }
}

fn im_001_kms_key_destroyed() -> Scenario {
    let n = |i| id(0x0008, i);
    let key = json!({"requestParameters": {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}});
    let records = vec![
        event(
            &n(1),
            "17:00:00",
            "kms.amazonaws.com",
            "DisableKey",
            iam_user("quinn"),
            &key,
        ),
        event(
            &n(2),
            "17:01:00",
            "kms.amazonaws.com",
            "ScheduleKeyDeletion",
            iam_user("quinn"),
            &json!({"requestParameters": {"keyId": "k2", "pendingWindowInDays": 7}}),
        ),
        // Benign: creating and enabling keys.
        event(
            &n(3),
            "17:02:00",
            "kms.amazonaws.com",
            "CreateKey",
            iam_user("quinn"),
            &json!({}),
        ),
        event(
            &n(4),
            "17:03:00",
            "kms.amazonaws.com",
            "EnableKey",
            iam_user("quinn"),
            &key,
        ),
    ];
    Scenario {
        hunt: "CT-IM-001",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn de_004_logging_narrowed() -> Scenario {
    let n = |i| id(0x0009, i);
    let ct = "cloudtrail.amazonaws.com";
    let user = || iam_user("rob");
    let selectors =
        |v: Value| json!({"requestParameters": {"trailName": "main", "eventSelectors": v}});
    let records = vec![
        event(
            &n(1),
            "18:00:00",
            ct,
            "PutEventSelectors",
            user(),
            &selectors(
                json!([{"readWriteType": "All", "includeManagementEvents": false,
                "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::b/"]}]}]),
            ),
        ),
        event(
            &n(2),
            "18:01:00",
            ct,
            "PutEventSelectors",
            user(),
            &selectors(json!([])),
        ),
        event(
            &n(3),
            "18:02:00",
            ct,
            "PutInsightSelectors",
            user(),
            &json!({"requestParameters": {"trailName": "main", "insightSelectors": []}}),
        ),
        event(
            &n(4),
            "18:03:00",
            ct,
            "DeleteEventDataStore",
            user(),
            &json!({"requestParameters": {"eventDataStore": "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/eds"}}),
        ),
        event(
            &n(5),
            "18:04:00",
            ct,
            "DeregisterOrganizationDelegatedAdmin",
            user(),
            &json!({"requestParameters": {"delegatedAdminAccountId": "444455556666"}}),
        ),
        // Benign: selectors that keep management events (plain and advanced),
        // Insights turned on, a denied deletion.
        event(
            &n(6),
            "18:05:00",
            ct,
            "PutEventSelectors",
            user(),
            &selectors(
                json!([{"readWriteType": "All", "includeManagementEvents": true, "dataResources": []}]),
            ),
        ),
        event(
            &n(7),
            "18:06:00",
            ct,
            "PutEventSelectors",
            user(),
            &json!({"requestParameters": {"trailName": "main", "advancedEventSelectors": [
                {"name": "mgmt", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]}}),
        ),
        event(
            &n(8),
            "18:07:00",
            ct,
            "PutInsightSelectors",
            user(),
            &json!({"requestParameters": {"trailName": "main", "insightSelectors": [{"insightType": "ApiCallRateInsight"}]}}),
        ),
        event(
            &n(9),
            "18:08:00",
            ct,
            "DeleteEventDataStore",
            user(),
            &json!({"errorCode": "AccessDenied", "errorMessage": "denied"}),
        ),
    ];
    Scenario {
        hunt: "CT-DE-004",
        records,
        fires: (1..=5).map(n).collect(),
    }
}

fn ex_001_bucket_made_public() -> Scenario {
    let n = |i| id(0x000a, i);
    let s3 = "s3.amazonaws.com";
    let user = || iam_user("sybil");
    let policy = |statements: Value| json!({"requestParameters": {"bucketName": "data", "bucketPolicy": {"Version": "2012-10-17", "Statement": statements}, "policy": [""]}});
    let tls_only = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::data/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
    let partner = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"});
    let records = vec![
        event(
            &n(1),
            "19:00:00",
            s3,
            "DeleteBucketPublicAccessBlock",
            user(),
            &json!({"requestParameters": {"bucketName": "data", "publicAccessBlock": [""]}}),
        ),
        event(
            &n(2),
            "19:01:00",
            s3,
            "DeletePublicAccessBlock",
            user(),
            &json!({}),
        ),
        event(
            &n(3),
            "19:02:00",
            s3,
            "PutBucketPolicy",
            user(),
            &policy(
                json!([tls_only.clone(), {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]),
            ),
        ),
        event(
            &n(4),
            "19:03:00",
            s3,
            "PutBucketPolicy",
            user(),
            &policy(
                json!({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "*"]}, "Action": "s3:*", "Resource": "*"}),
            ),
        ),
        event(
            &n(5),
            "19:04:00",
            s3,
            "PutBucketAcl",
            user(),
            &json!({"requestParameters": {"bucketName": "data", "AccessControlPolicy": {"AccessControlList": {"Grant": [
                {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}}),
        ),
        // Benign: a partner principal plus a deny-everyone TLS rule, and a private ACL.
        event(
            &n(6),
            "19:05:00",
            s3,
            "PutBucketPolicy",
            user(),
            &policy(json!([tls_only, partner])),
        ),
        event(
            &n(7),
            "19:06:00",
            s3,
            "PutBucketAcl",
            user(),
            &json!({"requestParameters": {"bucketName": "data", "x-amz-acl": "private"}}),
        ),
    ];
    Scenario {
        hunt: "CT-EX-001",
        records,
        fires: (1..=5).map(n).collect(),
    }
}

fn ex_002_snapshot_shared() -> Scenario {
    let n = |i| id(0x000b, i);
    let user = || iam_user("trent");
    let ebs = |items: Value| {
        json!({"requestParameters": {"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": items}}}})
    };
    let rds = |values: Value| json!({"requestParameters": {"dBSnapshotIdentifier": "db-snap", "attributeName": "restore", "valuesToAdd": values}});
    let records = vec![
        event(
            &n(1),
            "20:00:00",
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            user(),
            &ebs(json!([{"userId": "999988887777"}])),
        ),
        event(
            &n(2),
            "20:01:00",
            "ec2.amazonaws.com",
            "ModifyImageAttribute",
            user(),
            &json!({"requestParameters": {"imageId": "ami-1", "attributeType": "launchPermission",
                "launchPermission": {"add": {"items": [{"group": "all"}]}}}}),
        ),
        event(
            &n(3),
            "20:02:00",
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            user(),
            &rds(json!(["all"])),
        ),
        event(
            &n(4),
            "20:03:00",
            "rds.amazonaws.com",
            "ModifyDBClusterSnapshotAttribute",
            user(),
            &json!({"requestParameters": {"dBClusterSnapshotIdentifier": "c-snap", "attributeName": "restore",
                "valuesToAdd": ["444455556666", "999988887777"]}}),
        ),
        // Benign: shares with the account itself, removals, an allow-listed
        // account (with the parameter; see below).
        event(
            &n(5),
            "20:04:00",
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            user(),
            &ebs(json!([{"userId": ACCOUNT}])),
        ),
        event(
            &n(6),
            "20:05:00",
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            user(),
            &json!({"requestParameters": {"dBSnapshotIdentifier": "db-snap", "attributeName": "restore", "valuesToRemove": ["all"]}}),
        ),
        event(
            &n(7),
            "20:06:00",
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            user(),
            &rds(json!(["444455556666"])),
        ),
    ];
    Scenario {
        hunt: "CT-EX-002",
        records,
        fires: vec![n(1), n(2), n(3), n(4), n(7)],
    }
}

fn pe_004_login_profile_for_other_user() -> Scenario {
    let n = |i| id(0x000c, i);
    let iam = "iam.amazonaws.com";
    let profile = |user: &str| json!({"requestParameters": {"userName": user, "passwordResetRequired": false}});
    let records = vec![
        event(
            &n(1),
            "21:00:00",
            iam,
            "CreateLoginProfile",
            iam_user("uma"),
            &profile("victor"),
        ),
        event(
            &n(2),
            "21:01:00",
            iam,
            "UpdateLoginProfile",
            role_session("ops"),
            &profile("wendy"),
        ),
        event(
            &n(3),
            "21:02:00",
            iam,
            "UpdateLoginProfile",
            iam_user("uma"),
            &profile("xena"),
        ),
        // Benign: a user changing its own profile; a denied attempt.
        event(
            &n(4),
            "21:03:00",
            iam,
            "UpdateLoginProfile",
            iam_user("yuri"),
            &profile("yuri"),
        ),
        event(
            &n(5),
            "21:04:00",
            iam,
            "CreateLoginProfile",
            iam_user("uma"),
            &json!({"requestParameters": {"userName": "zed"}, "errorCode": "AccessDenied", "errorMessage": "denied"}),
        ),
    ];
    Scenario {
        hunt: "CT-PE-004",
        records,
        fires: vec![n(1), n(2), n(3)],
    }
}

fn pe_005_role_trust_foreign() -> Scenario {
    let n = |i| id(0x000d, i);
    let trust = |principal: Value| {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "123456789012"}}},
        ]});
        json!({"requestParameters": {"roleName": "deploy", "policyDocument": doc.to_string()}})
    };
    let update = |i, time, principal| {
        event(
            &n(i),
            time,
            "iam.amazonaws.com",
            "UpdateAssumeRolePolicy",
            iam_user("alice"),
            &trust(principal),
        )
    };
    let records = vec![
        update(
            1,
            "22:00:00",
            json!({"AWS": "arn:aws:iam::999988887777:root"}),
        ),
        update(
            2,
            "22:01:00",
            json!({"AWS": ["arn:aws:iam::111122223333:role/ci", "555566667777"]}),
        ),
        update(3, "22:02:00", json!({"AWS": "*"})),
        // Benign: the account itself (the ExternalId digits are in a condition).
        update(
            4,
            "22:03:00",
            json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/ci")}),
        ),
        update(5, "22:04:00", json!({"Service": "lambda.amazonaws.com"})),
    ];
    Scenario {
        hunt: "CT-PE-005",
        records,
        fires: vec![n(1), n(2), n(3)],
    }
}

fn de_005_mfa_removed() -> Scenario {
    let n = |i| id(0x000e, i);
    let iam = "iam.amazonaws.com";
    let device = json!({"requestParameters": {"userName": "bob", "serialNumber": "arn:aws:iam::111122223333:mfa/bob"}});
    let records = vec![
        event(
            &n(1),
            "23:00:00",
            iam,
            "DeactivateMFADevice",
            iam_user("bob"),
            &device,
        ),
        event(
            &n(2),
            "23:01:00",
            iam,
            "DeleteVirtualMFADevice",
            iam_user("bob"),
            &device,
        ),
        // Benign: enrolling a device.
        event(
            &n(3),
            "23:02:00",
            iam,
            "CreateVirtualMFADevice",
            iam_user("bob"),
            &device,
        ),
        event(
            &n(4),
            "23:03:00",
            iam,
            "EnableMFADevice",
            iam_user("bob"),
            &device,
        ),
    ];
    Scenario {
        hunt: "CT-DE-005",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn di_001_discovery_burst() -> Scenario {
    let n = |i| id(0x000f, i);
    let calls = [
        ("iam.amazonaws.com", "ListUsers"),
        ("iam.amazonaws.com", "ListRoles"),
        ("iam.amazonaws.com", "GetAccountAuthorizationDetails"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("s3.amazonaws.com", "GetBucketPolicy"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("ec2.amazonaws.com", "DescribeSecurityGroups"),
        ("ec2.amazonaws.com", "DescribeVpcs"),
        ("lambda.amazonaws.com", "ListFunctions20150331"),
        ("sts.amazonaws.com", "GetCallerIdentity"),
    ];
    let mut records = Vec::new();
    // A burst: ten distinct reads over five services in twenty minutes;
    // the first of them is the finding.
    for (i, (source, name)) in (1..).zip(calls) {
        records.push(event(
            &n(i),
            &format!("05:{:02}:00", 10 + 2 * i),
            source,
            name,
            role_session("recon"),
            &json!({"readOnly": true}),
        ));
    }
    // Benign: four distinct reads; ten distinct reads of one service; the
    // burst's calls spread over ten hours.
    for (i, (source, name)) in (20..).zip(&calls[..4]) {
        records.push(event(
            &n(i),
            &format!("06:{i:02}:00"),
            source,
            name,
            iam_user("carl"),
            &json!({"readOnly": true}),
        ));
    }
    for i in 30..40 {
        records.push(event(
            &n(i),
            &format!("06:{i}:00"),
            "ec2.amazonaws.com",
            &format!("DescribeThing{i}"),
            iam_user("dana"),
            &json!({"readOnly": true}),
        ));
    }
    for (i, (source, name)) in (40..).zip(calls) {
        records.push(event(
            &n(i),
            &format!("{:02}:05:00", i - 40),
            source,
            name,
            iam_user("eve"),
            &json!({"readOnly": true}),
        ));
    }
    Scenario {
        hunt: "CT-DI-001",
        records,
        fires: vec![n(1)],
    }
}

fn ca_002_bulk_secrets() -> Scenario {
    let n = |i| id(0x0010, i);
    let mut records = Vec::new();
    // Twenty-two reads in an hour (GetSecretValue and decrypted parameters):
    // the 20th fires.
    for i in 1..=22 {
        let (source, name, params) = if i % 2 == 0 {
            (
                "ssm.amazonaws.com",
                "GetParameter",
                json!({"name": format!("/app/p{i}"), "withDecryption": true}),
            )
        } else {
            (
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                json!({"secretId": format!("s{i}")}),
            )
        };
        records.push(event(
            &n(i),
            &format!("02:{:02}:00", i * 2),
            source,
            name,
            iam_user("felix"),
            &json!({"requestParameters": params, "readOnly": true}),
        ));
    }
    // Benign: three secret reads; twenty-five parameter reads without decryption.
    for i in 30..33 {
        records.push(event(
            &n(i),
            &format!("03:{i}:00"),
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            iam_user("gina"),
            &json!({"requestParameters": {"secretId": "db"}, "readOnly": true}),
        ));
    }
    for i in 40..65 {
        records.push(event(
            &n(i),
            &format!("04:{:02}:00", i - 40),
            "ssm.amazonaws.com",
            "GetParameter",
            iam_user("hank"),
            &json!({"requestParameters": {"name": "/app/x", "withDecryption": false}, "readOnly": true}),
        ));
    }
    Scenario {
        hunt: "CT-CA-002",
        records,
        fires: vec![n(20)],
    }
}

fn im_002_run_instances_new_region() -> Scenario {
    let n = |i| id(0x0011, i);
    let at = |region: &str, day: &str| json!({"awsRegion": region, "eventTime": format!("2024-03-{day}Z")});
    let run = |i, region: &str, day: &str| {
        let mut extra = at(region, day);
        extra["requestParameters"] = json!({"instanceType": "p3.16xlarge", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}});
        event(
            &n(i),
            "00:00:00",
            "ec2.amazonaws.com",
            "RunInstances",
            iam_user("ivy"),
            &extra,
        )
    };
    let look = |i, region: &str, day: &str| {
        event(
            &n(i),
            "00:00:00",
            "ec2.amazonaws.com",
            "DescribeInstances",
            iam_user("ivy"),
            &at(region, day),
        )
    };
    let records = vec![
        // Baseline: us-west-2 in use a week before.
        look(1, "us-west-2", "01T12:00:00"),
        // A look around eu-north-1 just before the launch does not count.
        look(2, "eu-north-1", "10T07:50:00"),
        run(3, "eu-north-1", "10T08:00:00"),
        // Benign: a launch in a region in use.
        run(4, "us-west-2", "10T08:05:00"),
    ];
    Scenario {
        hunt: "CT-IM-002",
        records,
        fires: vec![n(3)],
    }
}

fn pe_006_lambda_url_without_auth() -> Scenario {
    let n = |i| id(0x0012, i);
    let lambda = "lambda.amazonaws.com";
    let url = |auth: &str| json!({"requestParameters": {"functionName": "fn", "authType": auth}});
    let records = vec![
        event(
            &n(1),
            "01:00:00",
            lambda,
            "CreateFunctionUrlConfig",
            iam_user("jack"),
            &url("NONE"),
        ),
        event(
            &n(2),
            "01:01:00",
            lambda,
            "UpdateFunctionUrlConfig",
            iam_user("jack"),
            &url("NONE"),
        ),
        event(
            &n(3),
            "01:02:00",
            lambda,
            "AddPermission20150331v2",
            iam_user("jack"),
            &json!({"requestParameters": {"functionName": "fn", "statementId": "url", "action": "lambda:InvokeFunctionUrl",
                "principal": "*", "functionUrlAuthType": "NONE"}}),
        ),
        // Benign: IAM-authenticated URLs.
        event(
            &n(4),
            "01:03:00",
            lambda,
            "CreateFunctionUrlConfig",
            iam_user("jack"),
            &url("AWS_IAM"),
        ),
        event(
            &n(5),
            "01:04:00",
            lambda,
            "UpdateFunctionUrlConfig",
            iam_user("jack"),
            &url("AWS_IAM"),
        ),
    ];
    Scenario {
        hunt: "CT-PE-006",
        records,
        fires: vec![n(1), n(2), n(3)],
    }
}

fn ps_001_new_user_given_admin() -> Scenario {
    let n = |i| id(0x0013, i);
    let iam = "iam.amazonaws.com";
    let user = |name: &str| json!({"requestParameters": {"userName": name}});
    let to_group = |name: &str, group: &str| json!({"requestParameters": {"userName": name, "groupName": group}});
    let records = vec![
        // A new user put into an admin group by someone else.
        event(
            &n(1),
            "06:00:00",
            iam,
            "CreateUser",
            iam_user("olivia"),
            &user("svc-new"),
        ),
        event(
            &n(2),
            "06:30:00",
            iam,
            "AddUserToGroup",
            role_session("provisioner"),
            &to_group("svc-new", "Admins"),
        ),
        // The creator of a user granting admin rights within the day.
        event(
            &n(3),
            "06:01:00",
            iam,
            "CreateUser",
            iam_user("pablo"),
            &user("temp1"),
        ),
        event(
            &n(4),
            "18:00:00",
            iam,
            "AddUserToGroup",
            iam_user("pablo"),
            &to_group("old-user", "PlatformAdmins"),
        ),
        // Benign: a new user given read-only rights; an admin group grant
        // with no user created.
        event(
            &n(5),
            "06:02:00",
            iam,
            "CreateUser",
            iam_user("quentin"),
            &user("reader"),
        ),
        event(
            &n(6),
            "06:03:00",
            iam,
            "AttachUserPolicy",
            iam_user("quentin"),
            &json!({"requestParameters": {"userName": "reader", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}),
        ),
        event(
            &n(7),
            "06:04:00",
            iam,
            "AddUserToGroup",
            iam_user("rachel"),
            &to_group("veteran", "Admins"),
        ),
    ];
    Scenario {
        hunt: "CT-PS-001",
        records,
        fires: vec![n(2), n(4)],
    }
}

fn ps_002_admin_policy_attached() -> Scenario {
    let n = |i| id(0x0014, i);
    let iam = "iam.amazonaws.com";
    let attach = |target: &str, name: &str, policy: &str| json!({"requestParameters": {target: name, "policyArn": format!("arn:aws:iam::aws:policy/{policy}")}});
    let mut denied = attach("userName", "sam", "AdministratorAccess");
    denied["errorCode"] = json!("AccessDenied");
    denied["errorMessage"] = json!("denied");
    let records = vec![
        event(
            &n(1),
            "07:00:00",
            iam,
            "AttachRolePolicy",
            iam_user("sam"),
            &attach("roleName", "ops", "AdministratorAccess"),
        ),
        event(
            &n(2),
            "07:01:00",
            iam,
            "AttachGroupPolicy",
            iam_user("sam"),
            &attach("groupName", "devs", "IAMFullAccess"),
        ),
        // Benign: a read-only policy; a denied attempt.
        event(
            &n(3),
            "07:02:00",
            iam,
            "AttachUserPolicy",
            iam_user("sam"),
            &attach("userName", "tina", "ReadOnlyAccess"),
        ),
        event(
            &n(4),
            "07:03:00",
            iam,
            "AttachUserPolicy",
            iam_user("sam"),
            &denied,
        ),
    ];
    Scenario {
        hunt: "CT-PS-002",
        records,
        fires: vec![n(1), n(2)],
    }
}

fn di_002_access_denied_burst() -> Scenario {
    let n = |i| id(0x0015, i);
    let denied =
        |code: &str| json!({"errorCode": code, "errorMessage": "not authorized", "readOnly": true});
    let mut records = Vec::new();
    // Twelve denials in twelve minutes: the 10th fires.
    for i in 1..=12 {
        let (source, name, code) = if i % 2 == 0 {
            (
                "ec2.amazonaws.com",
                "DescribeInstances",
                "Client.UnauthorizedOperation",
            )
        } else {
            ("s3.amazonaws.com", "ListBuckets", "AccessDenied")
        };
        records.push(event(
            &n(i),
            &format!("04:{:02}:00", 10 + i),
            source,
            name,
            role_session("probe"),
            &denied(code),
        ));
    }
    // Benign: three denials.
    for i in 20..23 {
        records.push(event(
            &n(i),
            &format!("04:{i}:00"),
            "s3.amazonaws.com",
            "ListBuckets",
            iam_user("quiet"),
            &denied("AccessDenied"),
        ));
    }
    Scenario {
        hunt: "CT-DI-002",
        records,
        fires: vec![n(10)],
    }
}

fn foreign_user(account: &str, name: &str) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": "AIDAFOREIGN",
        "arn": format!("arn:aws:iam::{account}:user/{name}"),
        "accountId": account,
        "accessKeyId": "AKIAFOREIGN",
        "userName": name,
    })
}

fn lm_001_cross_account_assume_role() -> Scenario {
    let n = |i| id(0x0016, i);
    let sts = "sts.amazonaws.com";
    let assume = json!({"requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/deploy"), "roleSessionName": "s"}});
    let records = vec![
        event(
            &n(1),
            "08:10:00",
            sts,
            "AssumeRole",
            foreign_user("999988887777", "intruder"),
            &assume,
        ),
        // Reported unless 444455556666 is in trusted_accounts (see below).
        event(
            &n(2),
            "08:11:00",
            sts,
            "AssumeRole",
            foreign_user("444455556666", "partner"),
            &assume,
        ),
        // Benign: a role assumed within the account; an AWS service.
        event(
            &n(3),
            "08:12:00",
            sts,
            "AssumeRole",
            iam_user("sally"),
            &assume,
        ),
        event(
            &n(4),
            "08:13:00",
            sts,
            "AssumeRole",
            json!({"type": "AWSService", "invokedBy": "lambda.amazonaws.com", "accountId": "777766665555"}),
            &assume,
        ),
        // A vendor's first visit fires; its return nine days later does not.
        event(
            &n(5),
            "08:00:00",
            sts,
            "AssumeRole",
            foreign_user("555566667777", "vendor"),
            &json!({"eventTime": "2024-03-01T08:00:00Z",
                    "requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/vendor"), "roleSessionName": "s"}}),
        ),
        event(
            &n(6),
            "08:14:00",
            sts,
            "AssumeRole",
            foreign_user("555566667777", "vendor"),
            &json!({"requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/vendor"), "roleSessionName": "s"}}),
        ),
    ];
    Scenario {
        hunt: "CT-LM-001",
        records,
        fires: vec![n(1), n(2), n(5)],
    }
}

/// The Organizations changes of the CT-PS-003 scenario, ids 5 to 8.
fn organizations_changes(n: impl Fn(u32) -> String, user: &dyn Fn() -> Value) -> Vec<Value> {
    let org = "organizations.amazonaws.com";
    vec![
        event(
            &n(5),
            "09:14:00",
            org,
            "DetachPolicy",
            user(),
            &json!({"requestParameters": {"policyId": "p-abcd1234", "targetId": "r-root"}}),
        ),
        event(
            &n(6),
            "09:15:00",
            org,
            "DeletePolicy",
            user(),
            &json!({"requestParameters": {"policyId": "p-abcd1234"}}),
        ),
        event(
            &n(7),
            "09:16:00",
            org,
            "LeaveOrganization",
            user(),
            &json!({}),
        ),
        event(
            &n(8),
            "09:17:00",
            org,
            "RemoveAccountFromOrganization",
            user(),
            &json!({"requestParameters": {"accountId": "444455556666"}}),
        ),
    ]
}

fn ps_003_identity_center_organizations() -> Scenario {
    let n = |i| id(0x0017, i);
    let sso = "sso.amazonaws.com";
    let org = "organizations.amazonaws.com";
    let user = || iam_user("idc-admin");
    let instance = "arn:aws:sso:::instance/ssoins-1";
    let set = format!("{instance}/ps-1");
    let managed = |policy: &str| {
        json!({"requestParameters": {"instanceArn": instance, "permissionSetArn": set,
        "managedPolicyArn": format!("arn:aws:iam::aws:policy/{policy}")}})
    };
    let mut records = vec![
        event(
            &n(1),
            "09:10:00",
            sso,
            "CreatePermissionSet",
            user(),
            &json!({"requestParameters": {"instanceArn": instance, "name": "Break"}}),
        ),
        event(
            &n(2),
            "09:11:00",
            sso,
            "AttachManagedPolicyToPermissionSet",
            user(),
            &managed("AdministratorAccess"),
        ),
        event(
            &n(3),
            "09:12:00",
            sso,
            "PutInlinePolicyToPermissionSet",
            user(),
            &json!({"requestParameters": {"instanceArn": instance, "permissionSetArn": set}}),
        ),
        event(
            &n(4),
            "09:13:00",
            sso,
            "CreateAccountAssignment",
            user(),
            &json!({"requestParameters": {"instanceArn": instance, "permissionSetArn": set, "targetId": ACCOUNT,
                "targetType": "AWS_ACCOUNT", "principalType": "USER", "principalId": "u-1"}}),
        ),
        // Benign: reads and a read-only managed policy.
        event(
            &n(9),
            "09:18:00",
            sso,
            "ListPermissionSets",
            user(),
            &json!({"readOnly": true}),
        ),
        event(
            &n(10),
            "09:19:00",
            org,
            "DescribeOrganization",
            user(),
            &json!({"readOnly": true}),
        ),
        event(
            &n(11),
            "09:20:00",
            sso,
            "AttachManagedPolicyToPermissionSet",
            user(),
            &managed("ReadOnlyAccess"),
        ),
    ];
    records.extend(organizations_changes(n, &user));
    Scenario {
        hunt: "CT-PS-003",
        records,
        fires: (1..=8).map(n).collect(),
    }
}

fn ex_003_bulk_get_object_unfamiliar() -> Scenario {
    let n = |i| id(0x0018, i);
    let get = |i: u32, key: u32, identity: Value, ip: &str| {
        event(
            &n(i),
            &format!("03:{key:02}:00"),
            "s3.amazonaws.com",
            "GetObject",
            identity,
            &json!({"sourceIPAddress": ip, "readOnly": true, "managementEvent": false, "eventCategory": "Data",
                "requestParameters": {"bucketName": "data", "key": format!("k{key}")}}),
        )
    };
    let mut records = vec![
        // Baseline: the analyst and its address seen five days before.
        event(
            &n(200),
            "00:00:00",
            "s3.amazonaws.com",
            "ListBuckets",
            iam_user("analyst"),
            &json!({"eventTime": "2024-03-05T12:00:00Z", "readOnly": true}),
        ),
    ];
    // Fifty-five objects read by an unseen session from an unseen address:
    // the 50th fires.
    for i in 1..=55 {
        records.push(get(i, i - 1, role_session("exfil"), "203.0.113.199"));
    }
    // Benign: the known analyst reading as much from its usual address.
    for i in 1..=55 {
        records.push(get(100 + i, i - 1, iam_user("analyst"), "198.51.100.10"));
    }
    Scenario {
        hunt: "CT-EX-003",
        records,
        fires: vec![n(50)],
    }
}

fn im_003_mass_deletion() -> Scenario {
    let n = |i| id(0x0019, i);
    let calls = [
        ("s3.amazonaws.com", "DeleteBucket"),
        ("ec2.amazonaws.com", "TerminateInstances"),
        ("rds.amazonaws.com", "DeleteDBInstance"),
        ("ec2.amazonaws.com", "DeleteVolume"),
    ];
    let mut records = Vec::new();
    // Twenty-two deletions in twenty-two minutes: the 20th fires.
    for i in 1..=22 {
        let (source, name) = calls[i as usize % calls.len()];
        records.push(event(
            &n(i),
            &format!("05:{i:02}:00"),
            source,
            name,
            iam_user("wrecker"),
            &json!({}),
        ));
    }
    // Benign: five deletions.
    for i in 30..35 {
        let (source, name) = calls[i as usize % calls.len()];
        records.push(event(
            &n(i),
            &format!("05:{i}:00"),
            source,
            name,
            iam_user("tidy"),
            &json!({}),
        ));
    }
    Scenario {
        hunt: "CT-IM-003",
        records,
        fires: vec![n(20)],
    }
}

fn de_006_network_acl_open() -> Scenario {
    let n = |i| id(0x001a, i);
    let ec2 = "ec2.amazonaws.com";
    let user = || iam_user("netops");
    let entry = |protocol: &str, from: i64, to: i64, cidr: Value| {
        let mut p = json!({"networkAclId": "acl-1", "ruleNumber": 100, "egress": false, "ruleAction": "allow",
            "protocol": protocol, "portRange": {"from": from, "to": to}});
        if let (Some(p), Some(c)) = (p.as_object_mut(), cidr.as_object()) {
            for (k, v) in c {
                p.insert(k.clone(), v.clone());
            }
        }
        json!({"requestParameters": p})
    };
    let world = || json!({"cidrBlock": "0.0.0.0/0"});
    let mut egress = entry("-1", 0, 65535, world());
    egress["requestParameters"]["egress"] = json!(true);
    let records = vec![
        event(
            &n(1),
            "10:10:00",
            ec2,
            "CreateNetworkAclEntry",
            user(),
            &entry("6", 22, 22, world()),
        ),
        event(
            &n(2),
            "10:11:00",
            ec2,
            "ReplaceNetworkAclEntry",
            user(),
            &entry("6", 3000, 4000, json!({"ipv6CidrBlock": "::/0"})),
        ),
        event(
            &n(3),
            "10:12:00",
            ec2,
            "CreateNetworkAclEntry",
            user(),
            &entry("-1", 0, 0, world()),
        ),
        // Benign: SSH from a /24, HTTPS from the world, an egress rule.
        event(
            &n(4),
            "10:13:00",
            ec2,
            "CreateNetworkAclEntry",
            user(),
            &entry("6", 22, 22, json!({"cidrBlock": "203.0.113.0/24"})),
        ),
        event(
            &n(5),
            "10:14:00",
            ec2,
            "CreateNetworkAclEntry",
            user(),
            &entry("6", 443, 443, world()),
        ),
        event(
            &n(6),
            "10:15:00",
            ec2,
            "CreateNetworkAclEntry",
            user(),
            &egress,
        ),
    ];
    Scenario {
        hunt: "CT-DE-006",
        records,
        fires: vec![n(1), n(2), n(3)],
    }
}

fn ia_002_login_after_failures() -> Scenario {
    let n = |i| id(0x001b, i);
    let login = |i, time: &str, user: &str, ip: &str, outcome: &str| {
        console_login(&n(i), time, iam_user(user), ip, outcome, "Yes")
    };
    let records = vec![
        // Three failures, then a success (with MFA) from another address.
        login(1, "07:00:00", "olga", "192.0.2.100", "Failure"),
        login(2, "07:01:00", "olga", "192.0.2.100", "Failure"),
        login(3, "07:02:00", "olga", "192.0.2.100", "Failure"),
        login(4, "07:03:00", "olga", "192.0.2.101", "Success"),
        // Benign: a success after one failure; a success two hours after
        // three failures.
        login(5, "07:10:00", "pat", "192.0.2.110", "Failure"),
        login(6, "07:11:00", "pat", "192.0.2.110", "Success"),
        login(7, "05:00:00", "quill", "192.0.2.120", "Failure"),
        login(8, "05:01:00", "quill", "192.0.2.120", "Failure"),
        login(9, "05:02:00", "quill", "192.0.2.120", "Failure"),
        login(10, "07:30:00", "quill", "192.0.2.120", "Success"),
    ];
    Scenario {
        hunt: "CT-IA-002",
        records,
        fires: vec![n(4)],
    }
}

fn pe_007_remote_command() -> Scenario {
    let n = |i| id(0x001c, i);
    let command = |document: &str| json!({"requestParameters": {"documentName": document, "instanceIds": ["i-1"]}});
    let records = vec![
        event(
            &n(1),
            "11:10:00",
            "ssm.amazonaws.com",
            "SendCommand",
            role_session("ssm-op"),
            &command("AWS-RunShellScript"),
        ),
        event(
            &n(2),
            "11:11:00",
            "ssm.amazonaws.com",
            "SendCommand",
            role_session("ssm-op"),
            &command("AWS-RunPowerShellScript"),
        ),
        event(
            &n(3),
            "11:12:00",
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            role_session("ssm-op"),
            &json!({"requestParameters": {"instanceId": "i-1", "userData": "<sensitiveDataRemoved>"}}),
        ),
        // Benign: an agent update; an instance type change.
        event(
            &n(4),
            "11:13:00",
            "ssm.amazonaws.com",
            "SendCommand",
            role_session("ssm-op"),
            &command("AWS-UpdateSSMAgent"),
        ),
        event(
            &n(5),
            "11:14:00",
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            role_session("ssm-op"),
            &json!({"requestParameters": {"instanceId": "i-1", "instanceType": {"value": "t3.large"}}}),
        ),
    ];
    Scenario {
        hunt: "CT-PE-007",
        records,
        fires: vec![n(1), n(2), n(3)],
    }
}

/// A scenario of single events: `(time, source, name, identity, extra)`
/// each, ids numbered from 1; `fires` lists the numbers that must fire.
fn simple(
    hunt: &'static str,
    prefix: u32,
    events: Vec<(&str, &str, &str, Value, Value)>,
    fires: &[u32],
) -> Scenario {
    let records = (1..)
        .zip(events)
        .map(|(i, (time, source, name, identity, extra))| {
            event(&id(prefix, i), time, source, name, identity, &extra)
        })
        .collect();
    Scenario {
        hunt,
        records,
        fires: fires.iter().map(|&i| id(prefix, i)).collect(),
    }
}

fn de_007_log_group_deleted() -> Scenario {
    let user = || iam_user("lg-cleaner");
    let logs = "logs.amazonaws.com";
    simple(
        "CT-DE-007",
        0x001d,
        vec![
            (
                "20:00:00",
                logs,
                "DeleteLogGroup",
                user(),
                json!({"requestParameters": {"logGroupName": "/aws/lambda/app"}}),
            ),
            (
                "20:01:00",
                logs,
                "DeleteLogStream",
                user(),
                json!({"requestParameters": {"logGroupName": "/aws/lambda/app", "logStreamName": "2024/03/10"}}),
            ),
            (
                "20:02:00",
                logs,
                "PutRetentionPolicy",
                user(),
                json!({"requestParameters": {"logGroupName": "/app", "retentionInDays": 1}}),
            ),
            // Benign: a new log group, a sensible retention, a failed delete.
            (
                "20:03:00",
                logs,
                "CreateLogGroup",
                user(),
                json!({"requestParameters": {"logGroupName": "/app/new"}}),
            ),
            (
                "20:04:00",
                logs,
                "PutRetentionPolicy",
                user(),
                json!({"requestParameters": {"logGroupName": "/app", "retentionInDays": 90}}),
            ),
            (
                "20:05:00",
                logs,
                "DeleteLogGroup",
                user(),
                json!({"requestParameters": {"logGroupName": "/app"}, "errorCode": "AccessDeniedException"}),
            ),
        ],
        &[1, 2, 3],
    )
}

fn de_008_waf_removed() -> Scenario {
    let user = || iam_user("waf-admin");
    let waf = "wafv2.amazonaws.com";
    simple(
        "CT-DE-008",
        0x001e,
        vec![
            (
                "20:10:00",
                waf,
                "DeleteWebACL",
                user(),
                json!({"requestParameters": {"name": "prod-acl", "scope": "REGIONAL", "id": "abc"}}),
            ),
            (
                "20:11:00",
                waf,
                "DisassociateWebACL",
                user(),
                json!({"requestParameters": {"resourceArn": "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web/1"}}),
            ),
            // Benign: reading a web ACL.
            (
                "20:12:00",
                waf,
                "GetWebACL",
                user(),
                json!({"requestParameters": {"name": "prod-acl", "scope": "REGIONAL", "id": "abc"}, "readOnly": true}),
            ),
        ],
        &[1, 2],
    )
}

fn ps_004_key_pair_created() -> Scenario {
    let user = || iam_user("kp-maker");
    let ec2 = "ec2.amazonaws.com";
    simple(
        "CT-PS-004",
        0x001f,
        vec![
            (
                "20:20:00",
                ec2,
                "ImportKeyPair",
                user(),
                json!({"requestParameters": {"keyName": "attacker", "publicKeyMaterial": "<sensitiveDataRemoved>"}}),
            ),
            (
                "20:21:00",
                ec2,
                "CreateKeyPair",
                user(),
                json!({"requestParameters": {"keyName": "other"}}),
            ),
            // Benign: listing key pairs.
            (
                "20:22:00",
                ec2,
                "DescribeKeyPairs",
                user(),
                json!({"requestParameters": {"keySet": {}}, "readOnly": true}),
            ),
        ],
        &[1, 2],
    )
}

fn ps_005_identity_provider() -> Scenario {
    let user = || iam_user("idp-admin");
    let iam = "iam.amazonaws.com";
    simple(
        "CT-PS-005",
        0x0020,
        vec![
            (
                "20:30:00",
                iam,
                "CreateOpenIDConnectProvider",
                user(),
                json!({"requestParameters": {"url": "https://evil.example", "clientIDList": ["sts.amazonaws.com"]}}),
            ),
            (
                "20:31:00",
                iam,
                "CreateSAMLProvider",
                user(),
                json!({"requestParameters": {"name": "EvilIdP", "sAMLMetadataDocument": "<md/>"}}),
            ),
            (
                "20:32:00",
                iam,
                "UpdateSAMLProvider",
                user(),
                json!({"requestParameters": {"sAMLProviderArn": "arn:aws:iam::111122223333:saml-provider/Okta", "sAMLMetadataDocument": "<md/>"}}),
            ),
            // Benign: listing providers.
            (
                "20:33:00",
                iam,
                "ListSAMLProviders",
                user(),
                json!({"readOnly": true}),
            ),
        ],
        &[1, 2, 3],
    )
}

fn ex_004_traffic_mirroring() -> Scenario {
    let user = || iam_user("mirror-maker");
    let ec2 = "ec2.amazonaws.com";
    simple(
        "CT-EX-004",
        0x0021,
        vec![
            (
                "20:40:00",
                ec2,
                "CreateTrafficMirrorTarget",
                user(),
                json!({"requestParameters": {"CreateTrafficMirrorTargetRequest": {"NetworkInterfaceId": "eni-0attacker"}}}),
            ),
            (
                "20:41:00",
                ec2,
                "CreateTrafficMirrorSession",
                user(),
                json!({"requestParameters": {"CreateTrafficMirrorSessionRequest": {"NetworkInterfaceId": "eni-0victim", "TrafficMirrorTargetId": "tmt-1", "TrafficMirrorFilterId": "tmf-1", "SessionNumber": 1}}}),
            ),
            // Benign: listing sessions.
            (
                "20:42:00",
                ec2,
                "DescribeTrafficMirrorSessions",
                user(),
                json!({"readOnly": true}),
            ),
        ],
        &[1, 2],
    )
}

fn im_004_versioning_suspended() -> Scenario {
    let user = || iam_user("bucket-owner");
    let s3 = "s3.amazonaws.com";
    simple(
        "CT-IM-004",
        0x0022,
        vec![
            (
                "20:50:00",
                s3,
                "PutBucketVersioning",
                user(),
                json!({"requestParameters": {"bucketName": "backups", "VersioningConfiguration": {"Status": "Suspended"}}}),
            ),
            (
                "20:51:00",
                s3,
                "PutBucketLifecycle",
                user(),
                json!({"requestParameters": {"bucketName": "backups", "LifecycleConfiguration": {"Rule": {"Expiration": {"Days": 1}, "Status": "Enabled"}}}}),
            ),
            // Benign: versioning enabled.
            (
                "20:52:00",
                s3,
                "PutBucketVersioning",
                user(),
                json!({"requestParameters": {"bucketName": "backups", "VersioningConfiguration": {"Status": "Enabled"}}}),
            ),
        ],
        &[1, 2],
    )
}

fn de_009_dns_logging_deleted() -> Scenario {
    let user = || iam_user("dns-admin");
    simple(
        "CT-DE-009",
        0x0023,
        vec![
            (
                "21:00:00",
                "route53.amazonaws.com",
                "DeleteQueryLoggingConfig",
                user(),
                json!({"requestParameters": {"id": "qlc-1"}}),
            ),
            (
                "21:01:00",
                "route53resolver.amazonaws.com",
                "DeleteResolverQueryLogConfig",
                user(),
                json!({"requestParameters": {"resolverQueryLogConfigId": "rqlc-1"}}),
            ),
            (
                "21:02:00",
                "route53resolver.amazonaws.com",
                "DisassociateResolverQueryLogConfig",
                user(),
                json!({"requestParameters": {"resolverQueryLogConfigId": "rqlc-2", "resourceId": "vpc-1"}}),
            ),
            // Benign: listing query logging configurations.
            (
                "21:03:00",
                "route53.amazonaws.com",
                "ListQueryLoggingConfigs",
                user(),
                json!({"readOnly": true}),
            ),
        ],
        &[1, 2, 3],
    )
}

fn pe_008_password_policy_weakened() -> Scenario {
    let user = || iam_user("pw-admin");
    let iam = "iam.amazonaws.com";
    simple(
        "CT-PE-008",
        0x0024,
        vec![
            (
                "21:10:00",
                iam,
                "UpdateAccountPasswordPolicy",
                user(),
                json!({"requestParameters": {"minimumPasswordLength": 8, "requireSymbols": true, "requireNumbers": true}}),
            ),
            (
                "21:11:00",
                iam,
                "UpdateAccountPasswordPolicy",
                user(),
                json!({"requestParameters": {"minimumPasswordLength": 16, "requireSymbols": false}}),
            ),
            (
                "21:12:00",
                iam,
                "DeleteAccountPasswordPolicy",
                user(),
                json!({}),
            ),
            // Benign: a strong policy.
            (
                "21:13:00",
                iam,
                "UpdateAccountPasswordPolicy",
                user(),
                json!({"requestParameters": {
                    "minimumPasswordLength": 16, "requireSymbols": true, "requireNumbers": true,
                    "requireUppercaseCharacters": true, "requireLowercaseCharacters": true,
                    "allowUsersToChangePassword": true,
                }}),
            ),
        ],
        &[1, 2, 3],
    )
}

fn ca_003_secrets_exported() -> Scenario {
    let user = || iam_user("secret-reader");
    simple(
        "CT-CA-003",
        0x0025,
        vec![
            (
                "21:20:00",
                "ec2.amazonaws.com",
                "GetPasswordData",
                user(),
                json!({"requestParameters": {"instanceId": "i-0win"}, "readOnly": true}),
            ),
            (
                "21:21:00",
                "iam.amazonaws.com",
                "UploadSSHPublicKey",
                user(),
                json!({"requestParameters": {"userName": "secret-reader", "sSHPublicKeyBody": "ssh-rsa AAAA"}}),
            ),
            (
                "21:22:00",
                "ssm.amazonaws.com",
                "GetParametersByPath",
                user(),
                json!({"requestParameters": {"path": "/prod", "recursive": true, "withDecryption": true}, "readOnly": true}),
            ),
            // Benign: parameters read without decryption.
            (
                "21:23:00",
                "ssm.amazonaws.com",
                "GetParametersByPath",
                user(),
                json!({"requestParameters": {"path": "/prod", "recursive": true, "withDecryption": false}, "readOnly": true}),
            ),
        ],
        &[1, 2, 3],
    )
}

fn de_010_encryption_weakened() -> Scenario {
    let user = || iam_user("crypto-admin");
    let open = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#;
    let narrow = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    simple(
        "CT-DE-010",
        0x0026,
        vec![
            (
                "21:30:00",
                "ec2.amazonaws.com",
                "DisableEbsEncryptionByDefault",
                user(),
                json!({"requestParameters": {"DisableEbsEncryptionByDefaultRequest": ""}}),
            ),
            (
                "21:31:00",
                "kms.amazonaws.com",
                "PutKeyPolicy",
                user(),
                json!({"requestParameters": {"keyId": "key-1", "policyName": "default", "policy": open}}),
            ),
            // Benign: encryption enabled, a key policy naming the account.
            (
                "21:32:00",
                "ec2.amazonaws.com",
                "EnableEbsEncryptionByDefault",
                user(),
                json!({"requestParameters": {"EnableEbsEncryptionByDefaultRequest": ""}}),
            ),
            (
                "21:33:00",
                "kms.amazonaws.com",
                "PutKeyPolicy",
                user(),
                json!({"requestParameters": {"keyId": "key-2", "policyName": "default", "policy": narrow}}),
            ),
        ],
        &[1, 2],
    )
}

const LAMBDA_DEPLOYER: &str = "lambda-deployer";

fn ps_006_lambda_code_changed() -> Scenario {
    let user = || iam_user("lambda-dev");
    let lambda = "lambda.amazonaws.com";
    simple(
        "CT-PS-006",
        0x0027,
        vec![
            (
                "21:40:00",
                lambda,
                "UpdateFunctionCode20150331v2",
                user(),
                json!({"requestParameters": {"functionName": "payments", "publish": false}}),
            ),
            (
                "21:41:00",
                lambda,
                "UpdateFunctionConfiguration20150331v2",
                user(),
                json!({"requestParameters": {"functionName": "payments", "layers": ["arn:aws:lambda:us-east-1:999988887777:layer:evil:1"]}}),
            ),
            // The pipeline's deployment: reported unless its role is allow-listed.
            (
                "21:42:00",
                lambda,
                "UpdateFunctionCode20150331v2",
                role_session(LAMBDA_DEPLOYER),
                json!({"requestParameters": {"functionName": "payments"}}),
            ),
            // Benign: a configuration change without layers.
            (
                "21:43:00",
                lambda,
                "UpdateFunctionConfiguration20150331v2",
                user(),
                json!({"requestParameters": {"functionName": "payments", "timeout": 30}}),
            ),
        ],
        &[1, 2, 3],
    )
}

fn de_001_trail_stopped() -> Scenario {
    let n = |i| id(0x0030, i);
    let ct = "cloudtrail.amazonaws.com";
    let trail = |name: &str, bucket: Option<&str>| {
        let mut params = json!({"name": name});
        if let Some(bucket) = bucket {
            params["s3BucketName"] = json!(bucket);
        }
        json!({"requestParameters": params})
    };
    let main_arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main");
    let records = vec![
        // Benign: the trail is created with the organisation's bucket.
        event(
            &n(1),
            "01:00:00",
            ct,
            "CreateTrail",
            iam_user("admin"),
            &trail("main", Some("org-trail-logs")),
        ),
        // Benign: updated by ARN, same bucket, other settings changed.
        event(
            &n(2),
            "01:05:00",
            ct,
            "UpdateTrail",
            iam_user("admin"),
            &trail(&main_arn, Some("org-trail-logs")),
        ),
        // Benign: log file validation turned on, no bucket named.
        event(
            &n(3),
            "01:06:00",
            ct,
            "UpdateTrail",
            iam_user("admin"),
            &trail("main", None),
        ),
        // Benign: logging (re)started.
        event(
            &n(4),
            "01:07:00",
            ct,
            "StartLogging",
            iam_user("admin"),
            &trail("main", None),
        ),
        // Fires: the trail now writes to the intruder's bucket.
        event(
            &n(5),
            "09:00:00",
            ct,
            "UpdateTrail",
            iam_user("mallory"),
            &trail("main", Some("drop-zone-7")),
        ),
        // Fires: a trail the lake never saw created, pointed at a bucket.
        event(
            &n(6),
            "09:01:00",
            ct,
            "UpdateTrail",
            iam_user("mallory"),
            &trail("audit", Some("drop-zone-7")),
        ),
        event(
            &n(7),
            "09:02:00",
            ct,
            "StopLogging",
            iam_user("mallory"),
            &trail(&main_arn, None),
        ),
        event(
            &n(8),
            "09:03:00",
            ct,
            "DeleteTrail",
            iam_user("mallory"),
            &trail("audit", None),
        ),
        // Benign: a DeleteTrail that was refused.
        event(
            &n(9),
            "09:04:00",
            ct,
            "DeleteTrail",
            iam_user("guest"),
            &json!({"requestParameters": {"name": "main"}, "errorCode": "AccessDenied", "errorMessage": "not authorized"}),
        ),
    ];
    Scenario {
        hunt: "CT-DE-001",
        records,
        fires: vec![n(5), n(6), n(7), n(8)],
    }
}

/// A RunInstances of `count` instances by `identity` at `day`T`time`.
fn run_instances(event_id: &str, day: &str, time: &str, identity: Value, count: usize) -> Value {
    let items: Vec<Value> = (0..count)
        .map(|i| json!({"instanceId": format!("i-{event_id:.8}{i:04}"), "instanceType": "c5.24xlarge"}))
        .collect();
    event(
        event_id,
        time,
        "ec2.amazonaws.com",
        "RunInstances",
        identity,
        &json!({
            "eventTime": format!("2024-03-{day}T{time}Z"),
            "requestParameters": {"instanceType": "c5.24xlarge",
                "instancesSet": {"items": [{"imageId": "ami-1", "minCount": count, "maxCount": count}]}},
            "responseElements": {"instancesSet": {"items": items}},
        }),
    )
}

fn im_005_run_instances_burst() -> Scenario {
    let n = |i| id(0x0031, i);
    let autoscaling = {
        let mut identity = role_session("AWSServiceRoleForAutoScaling");
        identity["invokedBy"] = json!("autoscaling.amazonaws.com");
        identity
    };
    let records = vec![
        // Fires: 8 + 8 + 8 instances within 40 minutes by a stolen key.
        run_instances(&n(1), "10", "10:00:00", iam_user("dev-bob"), 8),
        run_instances(&n(2), "10", "10:20:00", iam_user("dev-bob"), 8),
        run_instances(&n(3), "10", "10:40:00", iam_user("dev-bob"), 8),
        // Benign: the same user's few launches the next hours.
        run_instances(&n(4), "10", "13:00:00", iam_user("dev-bob"), 2),
        // A batch role's first burst in the lake fires; its weekly repeat does not.
        run_instances(&n(5), "03", "02:00:00", role_session("batch-runner"), 30),
        run_instances(&n(6), "10", "02:00:00", role_session("batch-runner"), 30),
        // Benign: Auto Scaling scaling out.
        run_instances(&n(7), "10", "11:00:00", autoscaling, 40),
        // Benign: 19 instances, one short of a burst, spread over an hour.
        run_instances(&n(8), "10", "15:00:00", iam_user("carol"), 10),
        run_instances(&n(9), "10", "15:59:00", iam_user("carol"), 9),
        run_instances(&n(10), "10", "16:30:00", iam_user("carol"), 5),
    ];
    Scenario {
        hunt: "CT-IM-005",
        records,
        fires: vec![n(1), n(5)],
    }
}

fn lm_002_assume_role_chain() -> Scenario {
    let n = |i| id(0x0032, i);
    let sts = "sts.amazonaws.com";
    let assume =
        |role: &str| json!({"requestParameters": {"roleArn": role, "roleSessionName": "s"}});
    let at = |day: &str, role: &str| {
        let mut extra = assume(role);
        extra["eventTime"] = json!(format!("2024-03-{day}Z"));
        extra
    };
    let deploy_target = format!("arn:aws:iam::{ACCOUNT}:role/deploy-target");
    let admin = format!("arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole");
    let foreign = "arn:aws:iam::210987654321:role/prod-admin";
    let records = vec![
        // Benign: a pipeline that chains into its target role every week. Its
        // first chain is the account's first event in the lake: too early to judge.
        event(
            &n(1),
            "00:00:00",
            sts,
            "AssumeRole",
            role_session("pipeline"),
            &at("01T00:30:00", &deploy_target),
        ),
        event(
            &n(2),
            "03:00:00",
            sts,
            "AssumeRole",
            role_session("pipeline"),
            &assume(&deploy_target),
        ),
        // Fires: a web server's role chaining into the admin role, then out to another account.
        event(
            &n(3),
            "09:30:00",
            sts,
            "AssumeRole",
            role_session("web-server"),
            &assume(&admin),
        ),
        event(
            &n(4),
            "09:31:00",
            sts,
            "AssumeRole",
            role_session("OrganizationAccountAccessRole"),
            &assume(foreign),
        ),
        // Benign: a user assuming a role is not a chain; a refused chain.
        event(
            &n(5),
            "09:32:00",
            sts,
            "AssumeRole",
            iam_user("sally"),
            &assume(&admin),
        ),
        event(
            &n(6),
            "09:33:00",
            sts,
            "AssumeRole",
            role_session("web-server"),
            &json!({"requestParameters": {"roleArn": foreign, "roleSessionName": "s"}, "errorCode": "AccessDenied"}),
        ),
    ];
    Scenario {
        hunt: "CT-LM-002",
        records,
        fires: vec![n(3), n(4)],
    }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        de_001_trail_stopped(),
        im_005_run_instances_burst(),
        lm_002_assume_role_chain(),
        pe_001_root_use(),
        ia_001_login_without_mfa(),
        ca_001_login_failure_burst(),
        pe_002_access_key_for_other_user(),
        pe_003_inline_admin_policy(),
        de_002_security_group_open(),
        de_003_monitoring_disabled(),
        im_001_kms_key_destroyed(),
        de_004_logging_narrowed(),
        ex_001_bucket_made_public(),
        ex_002_snapshot_shared(),
        pe_004_login_profile_for_other_user(),
        pe_005_role_trust_foreign(),
        de_005_mfa_removed(),
        di_001_discovery_burst(),
        ca_002_bulk_secrets(),
        im_002_run_instances_new_region(),
        pe_006_lambda_url_without_auth(),
        ps_001_new_user_given_admin(),
        ps_002_admin_policy_attached(),
        di_002_access_denied_burst(),
        lm_001_cross_account_assume_role(),
        ps_003_identity_center_organizations(),
        ex_003_bulk_get_object_unfamiliar(),
        im_003_mass_deletion(),
        de_006_network_acl_open(),
        ia_002_login_after_failures(),
        pe_007_remote_command(),
        de_007_log_group_deleted(),
        de_008_waf_removed(),
        ps_004_key_pair_created(),
        ps_005_identity_provider(),
        ex_004_traffic_mirroring(),
        im_004_versioning_suspended(),
        de_009_dns_logging_deleted(),
        pe_008_password_policy_weakened(),
        ca_003_secrets_exported(),
        de_010_encryption_weakened(),
        ps_006_lambda_code_changed(),
    ]
}

/// What the hunts report over the rest of `sample-logs/` (the Lake sample
/// trail of 111122223333 and its organization member): each one checked by
/// hand against its record.
fn sample_trail_findings(hunt: &str) -> Vec<String> {
    let sample = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    match hunt {
        // StopLogging on the management trail.
        "CT-DE-001" => vec![sample(9)],
        // SSH opened to 0.0.0.0/0.
        "CT-DE-002" => vec![sample(19)],
        // AssumeRole from 999988887777, an account nobody trusted.
        "CT-LM-001" => vec![sample(16)],
        // Root console sign-in.
        "CT-PE-001" => vec![sample(1)],
        // alice creates an access key for bob.
        "CT-PE-002" => vec![sample(3)],
        // An inline role policy allowing * on *.
        "CT-PE-003" => vec![sample(18)],
        _ => Vec::new(),
    }
}

/// The event ids `scenario`'s hunt must report over the whole of `sample-logs/`.
fn expected_ids(scenario: &Scenario) -> Vec<String> {
    let mut ids = scenario.fires.clone();
    ids.extend(sample_trail_findings(scenario.hunt));
    ids.sort();
    ids
}

/// The scenario files under `sample-logs/`: one per scenario and
/// region/day, named and placed as CloudTrail delivers them.
fn scenario_files() -> BTreeMap<String, Vec<Value>> {
    let mut files: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for scenario in scenarios() {
        let tag: String = scenario
            .hunt
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let mut groups: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
        for record in scenario.records {
            let region = record["awsRegion"].as_str().unwrap().to_owned();
            let day = record["eventTime"].as_str().unwrap()[..10].to_owned();
            groups.entry((region, day)).or_default().push(record);
        }
        for ((region, day), records) in groups {
            let first = records
                .iter()
                .map(|r| r["eventTime"].as_str().unwrap())
                .min()
                .unwrap();
            let stamp = format!(
                "{}T{}{}Z",
                day.replace('-', ""),
                &first[11..13],
                &first[14..16]
            );
            let path = format!(
                "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{ACCOUNT}_CloudTrail_{region}_{stamp}_{tag:0<16}.json.gz",
                day.replace('-', "/")
            );
            files.insert(path, records);
        }
    }
    files
}

fn sample_logs() -> PathBuf {
    common::repo().join("sample-logs")
}

/// The committed scenario files must be exactly what `scenarios()` builds.
/// `CTLAKE_WRITE_SAMPLE_LOGS=1` rewrites them after a scenario changes.
#[test]
#[expect(
    clippy::disallowed_types,
    reason = "the fixture check reads the files without ingest's code"
)]
fn sample_logs_hold_every_scenario() {
    let incident = sample_logs().join(format!("AWSLogs/{ACCOUNT}"));
    let expected = scenario_files();
    if std::env::var_os("CTLAKE_WRITE_SAMPLE_LOGS").is_some() {
        if incident.exists() {
            std::fs::remove_dir_all(&incident).unwrap();
        }
        for (path, records) in &expected {
            let doc = json!({ "Records": records });
            common::write_gz(&sample_logs().join(path), doc.to_string().as_bytes());
        }
    }
    let mut found = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&incident) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(entry.path()).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let path = entry.path().strip_prefix(sample_logs()).unwrap();
        found.insert(
            path.to_str().unwrap().to_owned(),
            doc["Records"].as_array().unwrap().clone(),
        );
    }
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "run with CTLAKE_WRITE_SAMPLE_LOGS=1 to rewrite the scenario files"
    );
    for (path, records) in &expected {
        assert_eq!(
            &found[path], records,
            "{path}: run with CTLAKE_WRITE_SAMPLE_LOGS=1 to rewrite it"
        );
    }
}

#[test]
fn every_bundled_hunt_has_a_scenario() {
    let catalogue = ctlake_hunt::Catalogue::load(&[]).unwrap();
    let mut bundled: Vec<&str> = catalogue.hunts().map(|h| h.header.id.as_str()).collect();
    bundled.sort_unstable();
    let scenarios = scenarios();
    let mut tested: Vec<&str> = scenarios.iter().map(|s| s.hunt).collect();
    tested.sort_unstable();
    assert_eq!(bundled, tested);
    for scenario in &scenarios {
        assert!(
            !scenario.fires.is_empty(),
            "{}: no true positive",
            scenario.hunt
        );
        assert!(
            scenario.records.len() > scenario.fires.len(),
            "{}: no benign look-alike",
            scenario.hunt
        );
    }
}

/// `sample-logs/` ingested once into a lake shared by the tests of this module.
fn lake() -> &'static Path {
    static LAKE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &LAKE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let lake = dir.path().join("lake");
            let out = common::ingest_cli(&sample_logs(), &lake, dir.path(), &[]);
            common::assert_exit(&out, 0);
            (dir, lake)
        })
        .1
}

/// `ctlake hunt ARGS --lake LAKE --format json` as a document, with its exit code.
fn hunt_json(lake: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let scratch = tempfile::tempdir().unwrap();
    let mut all = vec!["hunt"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--lake", lake.to_str().unwrap(), "--format", "json"]);
    let out = ctlake(&all, scratch.path());
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

fn finding_ids(hunt: &Value) -> Vec<String> {
    let mut ids: Vec<String> = hunt["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["eventid"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn each_hunt_fires_on_its_scenario_only() {
    let lake = lake();
    for scenario in scenarios() {
        let (code, doc) = hunt_json(lake, &[scenario.hunt]);
        assert_eq!(code, Some(1), "{} exit code: {doc:#}", scenario.hunt);
        assert_eq!(doc["errors"], json!([]), "{}", scenario.hunt);
        let hunts = doc["hunts"].as_array().unwrap();
        assert_eq!(hunts.len(), 1);
        assert_eq!(hunts[0]["hunt_id"], scenario.hunt);
        assert_eq!(
            finding_ids(&hunts[0]),
            expected_ids(&scenario),
            "{}: {:#}",
            scenario.hunt,
            hunts[0]["findings"]
        );
        for finding in hunts[0]["findings"].as_array().unwrap() {
            let reason = finding["reason"].as_str().unwrap_or_default();
            assert!(
                !reason.is_empty(),
                "{}: a finding without a reason: {finding}",
                scenario.hunt
            );
            let Some(record) = scenario
                .records
                .iter()
                .find(|r| r["eventID"] == finding["eventid"])
            else {
                continue;
            };
            assert_eq!(finding["account"], ACCOUNT);
            assert_eq!(finding["region"], record["awsRegion"]);
        }
    }
}

#[test]
fn all_hunts_run_together_without_errors() {
    let (code, doc) = hunt_json(lake(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["errors"], json!([]));
    let hunts = doc["hunts"].as_array().unwrap();
    let ran: Vec<&str> = hunts
        .iter()
        .map(|h| h["hunt_id"].as_str().unwrap())
        .collect();
    for scenario in scenarios() {
        assert!(
            ran.contains(&scenario.hunt),
            "{} did not run: {ran:?}",
            scenario.hunt
        );
    }
    for hunt in hunts {
        assert!(
            !hunt["tactics"].as_array().unwrap().is_empty(),
            "{}",
            hunt["hunt_id"]
        );
        assert!(
            !hunt["techniques"].as_array().unwrap().is_empty(),
            "{}",
            hunt["hunt_id"]
        );
    }
    // Each scenario's true positives come from its own hunt, none from another scenario's.
    for scenario in scenarios() {
        let hunt = hunts
            .iter()
            .find(|h| h["hunt_id"] == scenario.hunt)
            .unwrap();
        assert_eq!(
            finding_ids(hunt),
            expected_ids(&scenario),
            "{}",
            scenario.hunt
        );
    }
}

#[test]
fn allow_listed_accounts_are_not_reported() {
    let scenario = ex_002_snapshot_shared();
    let (code, doc) = hunt_json(
        lake(),
        &["CT-EX-002", "--param", "allow_accounts=444455556666"],
    );
    assert_eq!(code, Some(1), "{doc:#}");
    // The share with only the allow-listed account drops out; the one that
    // also names a foreign account stays.
    let mut expected: Vec<String> = scenario.fires[..4].to_vec();
    expected.sort();
    assert_eq!(finding_ids(&doc["hunts"][0]), expected, "{doc:#}");
}

#[test]
fn trusted_accounts_may_assume_roles() {
    let scenario = lm_001_cross_account_assume_role();
    let (code, doc) = hunt_json(
        lake(),
        &["CT-LM-001", "--param", "trusted_accounts=444455556666"],
    );
    assert_eq!(code, Some(1), "{doc:#}");
    let mut expected = vec![scenario.fires[0].clone(), scenario.fires[2].clone()];
    expected.extend(sample_trail_findings("CT-LM-001"));
    expected.sort();
    assert_eq!(finding_ids(&doc["hunts"][0]), expected, "{doc:#}");
}

#[test]
fn lambda_deployers_may_change_code() {
    let scenario = ps_006_lambda_code_changed();
    let role = format!("allow_principals=arn:aws:iam::{ACCOUNT}:role/{LAMBDA_DEPLOYER}");
    let (code, doc) = hunt_json(lake(), &["CT-PS-006", "--param", &role]);
    assert_eq!(code, Some(1), "{doc:#}");
    let mut expected: Vec<String> = scenario.fires[..2].to_vec();
    expected.sort();
    assert_eq!(finding_ids(&doc["hunts"][0]), expected, "{doc:#}");
}

#[test]
fn bundled_hunts_name_a_tactic_and_a_technique() {
    let catalogue = ctlake_hunt::Catalogue::load(&[]).unwrap();
    for hunt in catalogue.hunts() {
        let h = &hunt.header;
        assert!(
            !h.tactics.is_empty() && !h.techniques.is_empty(),
            "{}",
            h.id
        );
        assert!(h.tactics.iter().all(|t| t.starts_with("TA")), "{}", h.id);
        assert!(
            h.techniques
                .iter()
                .all(|t| t.starts_with('T') && !t.starts_with("TA")),
            "{}",
            h.id
        );
    }
}

#[test]
fn every_hunt_runs_over_the_corpora() {
    let Some(corpora) = common::corpora() else {
        return;
    };
    let mut archives: Vec<PathBuf> = std::fs::read_dir(&corpora)
        .unwrap()
        .map(|e| e.unwrap().path().join("AWSLogs"))
        .filter(|p| p.is_dir())
        .collect();
    archives.sort();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for archive in &archives {
        let out = common::ingest_cli(archive, &lake, dir.path(), &[]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}: {}",
            archive.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, doc) = hunt_json(&lake, &[]);
    assert!(matches!(code, Some(0 | 1)), "{doc:#}");
    assert_eq!(doc["errors"], json!([]), "{doc:#}");
}
