#!/usr/bin/env bash
# `make demo`: the books application on a local AWS test bed, no AWS account.
# Starts moto and aws-emulator on free loopback ports, creates the five book
# functions, runs `urlguard apply -f examples/books.yaml`, prints the
# protected URLs and SSM parameters, calls a function URL directly (403) and
# through the distribution (200), runs `urlguard verify`, and stops the test
# bed (also on error). The test bed serves CloudFront's and the function
# URLs' hosts on its one port: requests go there with the real `Host`.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${keep_logs:-}" = 1 ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1; logs: $work" >&2; keep_logs=1; return 1
}

echo "==> building urlguard and the AWS test bed"
cargo build --quiet --locked -p urlguard -p aws-emulator

moto_port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_for_port "$moto_port"

target_dir=$(cargo metadata --format-version 1 --no-deps | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
emulator_port=$(free_port)
"$target_dir/debug/aws-emulator" --listen "127.0.0.1:$emulator_port" --moto "http://127.0.0.1:$moto_port" \
  --deploy-seconds 2 --quiet >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_for_port "$emulator_port"
echo "==> local AWS test bed: moto on :$moto_port behind aws-emulator on :$emulator_port"

export AWS_ENDPOINT_URL="http://127.0.0.1:$emulator_port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

echo "==> the application's own functions (deployed by its team, not by urlguard)"
.venv/bin/python scripts/create-book-functions.py

echo "==> the signer roles' permissions boundary (once per account, from urlguard iam-policy --boundary)"
"$target_dir/debug/urlguard" iam-policy --boundary >"$work/boundary.json"
.venv/bin/python - "$work/boundary.json" <<'PY'
import sys
import boto3
with open(sys.argv[1]) as document:
    policy = boto3.client("iam", region_name="us-east-1").create_policy(
        PolicyName="urlguard-signer-boundary", Path="/urlguard/", PolicyDocument=document.read()
    )
print(f"  {policy['Policy']['Arn']}")
PY

echo "==> urlguard apply -f examples/books.yaml"
"$target_dir/debug/urlguard" apply -f examples/books.yaml --poll-interval 1s

echo "==> SSM parameters in us-east-1"
.venv/bin/python - <<'PY'
import boto3
ssm = boto3.client("ssm", region_name="us-east-1")
for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/books", Recursive=True):
    for p in page["Parameters"]:
        print(f"  {p['Name']} = {p['Value']}")
PY

echo "==> the function URL called directly, then the protected URL through CloudFront"
.venv/bin/python - "$emulator_port" <<'PY'
import http.client, json, sys
import boto3
port = int(sys.argv[1])
distributions = boto3.client("cloudfront", region_name="us-east-1").list_distributions()["DistributionList"]["Items"]
protected = f"https://{distributions[0]['DomainName']}/getBooks"
function_url = boto3.client("lambda", region_name="eu-west-1").get_function_url_config(FunctionName="books-get-books")["FunctionUrl"]
for url in (function_url, protected):
    host, _, path = url.removeprefix("https://").partition("/")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/" + path, headers={"Host": host})
    answer = connection.getresponse()
    body = answer.read().decode()
    try:
        shown = json.dumps({k: v for k, v in json.loads(body).items() if k in ("Message", "method", "path")})
    except ValueError:
        shown = body[:80]
    print(f"  GET {url} -> {answer.status} {shown}")
PY

echo "==> urlguard verify -f examples/books.yaml (requests to the test bed's port)"
"$target_dir/debug/urlguard" verify -f examples/books.yaml --connect-to "127.0.0.1:$emulator_port"
