#!/bin/sh
# Runs once per `docker compose up` in the minio-init container (idempotent): creates the buckets and an
# S3 user, RAT_S3_ACCESS_KEY_ID, whose policy allows those buckets only, so that no service but MinIO
# itself holds the root credentials.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${RAT_S3_ACCESS_KEY_ID:?}" "${RAT_S3_SECRET_ACCESS_KEY:?}"
BUCKETS="${RAT_BUCKETS:-lakehouse landing}"

mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
resources=""
for bucket in $BUCKETS; do
    mc mb --ignore-existing "local/$bucket"
    resources="$resources\"arn:aws:s3:::$bucket\", \"arn:aws:s3:::$bucket/*\", "
done
resources="${resources%, }"

policy=/tmp/ratatouille-policy.json
cat > "$policy" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": [$resources]}]
}
JSON

mc admin user add local "$RAT_S3_ACCESS_KEY_ID" "$RAT_S3_SECRET_ACCESS_KEY"
mc admin policy create local ratatouille "$policy"
mc admin policy attach local ratatouille --user "$RAT_S3_ACCESS_KEY_ID" 2>/dev/null \
    || echo "policy ratatouille already attached to $RAT_S3_ACCESS_KEY_ID"
echo "buckets ready: $BUCKETS"
