"""A real S3-compatible server (moto's server mode) on loopback for the S3 tests.

Starts the server with request authentication on, creates IAM users, prints
one JSON line {endpoint, users: {name: [key, secret]}}, then obeys one JSON
command per line on stdin and answers each with one JSON line. Exits when
stdin closes, so the server never outlives the test process.

Users: "admin" (everything; the fixture itself uploads with it), "reader"
(s3:ListBucket and s3:GetObject only: the policy the README documents) and
"nobody" (no permissions).
"""

import json
import logging
import os
import sys

# Moto lets exactly this many requests through unauthenticated: the three
# that create the admin user and its key. Everything after is checked.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}
    ],
}
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def client(service, endpoint, key, secret):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def make_user(iam, name, policy):
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return [key["AccessKeyId"], key["SecretAccessKey"]]


# Beside a file, the user metadata to upload it with (not uploaded itself).
METADATA_SIDECAR = ".metadata.json"


def upload(s3, command):
    bucket = command["bucket"]
    s3.create_bucket(Bucket=bucket)
    if command.get("versioned"):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    root = command["dir"]
    count = 0
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(folder, name)
            key = os.path.relpath(path, root).replace(os.sep, "/")
            if key.endswith(METADATA_SIDECAR):
                continue
            extra = {}
            if "CloudTrail-Digest" in key:
                # What CloudTrail puts on every digest object: a signature
                # from a sidecar file when the test signed the digest.
                sidecar = path + METADATA_SIDECAR
                if os.path.exists(sidecar):
                    with open(sidecar) as f:
                        extra["Metadata"] = json.load(f)
                else:
                    extra["Metadata"] = {
                        "signature": "3a5f" * 16,
                        "signature-algorithm": "SHA256withRSA",
                    }
            with open(path, "rb") as body:
                s3.put_object(Bucket=bucket, Key=key, Body=body.read(), **extra)
            count += 1
    return {"ok": True, "objects": count}


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    iam = client("iam", endpoint, "bootstrap", "bootstrap")
    users = {"admin": make_user(iam, "admin", ADMIN_POLICY)}
    iam = client("iam", endpoint, *users["admin"])
    users["reader"] = make_user(iam, "reader", READ_POLICY)
    users["nobody"] = make_user(iam, "nobody", None)
    s3 = client("s3", endpoint, *users["admin"])
    print(json.dumps({"endpoint": endpoint, "users": users}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["op"] == "upload":
                answer = upload(s3, command)
            else:
                answer = {"ok": False, "error": f"unknown op {command['op']}"}
        except Exception as e:  # the test prints it
            answer = {"ok": False, "error": repr(e)}
        print(json.dumps(answer), flush=True)
    server.stop()


if __name__ == "__main__":
    main()
