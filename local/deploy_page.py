"""`make deploy-page`: upload frontend/dist to the hosting stack's bucket (frontend/hosting.yaml), write config.json
with the API's URL, and invalidate CloudFront's copy of the page. Needs AWS credentials."""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "frontend" / "dist"
PREFIX = "integrations/"


def cache_control(relative: str) -> str:
    # Hashed asset names never change content; index.html and config.json must be revalidated.
    return "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"


def upload(bucket: str, api_base_url: str, embedder_origins: list[str]) -> int:
    s3 = boto3.client("s3")
    files = sorted(path for path in DIST.rglob("*") if path.is_file())
    if not (DIST / "index.html").is_file():
        raise SystemExit("frontend/dist is empty: run `make frontend-build` first")
    for path in files:
        relative = path.relative_to(DIST).as_posix()
        s3.upload_file(
            str(path),
            bucket,
            PREFIX + relative,
            ExtraArgs={
                "ContentType": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                "CacheControl": cache_control(relative),
            },
        )
    config = {"apiBaseUrl": api_base_url, "embedderOrigins": embedder_origins}
    s3.put_object(
        Bucket=bucket,
        Key=f"{PREFIX}config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl="no-cache",
    )
    return len(files) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack-name", required=True)
    arguments = parser.parse_args()
    stack = boto3.client("cloudformation").describe_stacks(StackName=arguments.stack_name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    embedders = [origin for origin in outputs.get("EmbedderOrigins", "").split(",") if origin]
    count = upload(outputs["PageBucketName"], outputs["ApiBaseUrl"], embedders)
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["PageDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/integrations/*"]}, "CallerReference": str(time.time())},
    )
    print(f"uploaded {count} files; the page: {outputs['PageUrl']}")
    print(f"API stack: add {outputs['PageOrigin']} to CorsAllowedOrigins")
    if outputs.get("ApiThroughCloudFrontUrl"):
        print(f"the API through CloudFront: {outputs['ApiThroughCloudFrontUrl']} (may be the API's PublicApiUrl)")


if __name__ == "__main__":
    main()
