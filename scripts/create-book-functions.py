"""Creates the five Lambda functions of examples/books.yaml in the local AWS
test bed (moto behind aws-emulator), as the application's own deployment
(CDK, SAM, Terraform) would: urlguard protects functions, it never creates
them. Each carries the tag urlguard.io/allow=urlguard/books: the function's
owner opts in for urlguard instance `urlguard` in namespace `books` (urlguard
leaves functions without it alone). Reads the endpoint from AWS_ENDPOINT_URL;
idempotent."""

import io
import os
import sys
import zipfile

import boto3

FUNCTIONS = ["books-get-books", "books-get-book", "books-create-book", "books-update-book", "books-delete-book"]
REGION = "eu-west-1"
# The opt-in: instance `urlguard` (the default), namespace `books`.
OPT_IN = {"urlguard.io/allow": "urlguard/books"}
HANDLER = b"export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath }) });\n"


def handler_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.mjs", HANDLER)
    return buffer.getvalue()


def main():
    if not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1"):
        sys.exit("refusing to run: AWS_ENDPOINT_URL must point at the local test bed")
    iam = boto3.client("iam", region_name="us-east-1")
    try:
        role_arn = iam.get_role(RoleName="books-api")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        role_arn = iam.create_role(RoleName="books-api", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    lambda_client = boto3.client("lambda", region_name=REGION)
    code = handler_zip()
    for name in FUNCTIONS:
        try:
            arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
            lambda_client.tag_resource(Resource=arn, Tags=OPT_IN)
        except lambda_client.exceptions.ResourceNotFoundException:
            lambda_client.create_function(
                FunctionName=name,
                Runtime="nodejs24.x",
                Role=role_arn,
                Handler="index.handler",
                Code={"ZipFile": code},
                Tags=OPT_IN,
            )
        print(f"function {name} in {REGION}")


if __name__ == "__main__":
    main()
