#!/usr/bin/env bash
# Local S3 for s3-rewind tests: a throw-away single-node Ceph cluster
# (1 mon, 1 memstore OSD) plus a Ceph Object Gateway (RGW) on loopback.
#
#   bash scripts/local-s3.sh start    install ceph if needed, start, verify, print env
#   bash scripts/local-s3.sh stop     stop the daemons started from the state dir
#   bash scripts/local-s3.sh wipe     stop + remove the state dir
#   bash scripts/local-s3.sh status   exit 0 when the endpoint answers
#   bash scripts/local-s3.sh env      print the env file (source-able)
#
# Everything (config, mon store, logs, pid files, env file) lives in one state
# directory. Data is kept in RAM by the OSD (memstore) and is disposable: a
# `start` that finds nothing answering wipes the state dir and builds a new
# cluster (about 3 s on an idle 2-CPU machine, up to ~10 s on a busy one), a
# `start` that finds it answering does nothing. Either way it prints the env
# file, $STATE_DIR/env:
#   export AWS_ENDPOINT_URL_S3=http://127.0.0.1:PORT
#   export AWS_ACCESS_KEY_ID=...  AWS_SECRET_ACCESS_KEY=...  AWS_REGION=us-east-1
# Use path-style addressing (forcePathStyle: true) against it.
#
# Environment (all optional):
#   S3_REWIND_LOCAL_DIR        state dir              (default: <repo>/.local-s3)
#   S3_REWIND_LOCAL_PORT       S3 (RGW) port          (default: 7480; if unset and
#                                                      7480 is taken, a free port is used)
#   S3_REWIND_LOCAL_MON_PORT   ceph-mon port (msgr v1) (default: first free of 16789..)
#   S3_REWIND_LOCAL_ACCESS_KEY access key             (default: s3rewind)
#   S3_REWIND_LOCAL_SECRET_KEY secret key             (default: s3rewind-secret)
#   S3_REWIND_LOCAL_MEMSTORE_BYTES OSD RAM capacity   (default: 8 GiB)
#   S3_REWIND_LOCAL_TIMEOUT    seconds to wait for each startup phase (default: 120)
#   S3_REWIND_LOCAL_EXTRA_CONF file whose ceph.conf lines are appended to the generated ceph.conf
#   S3_REWIND_LOCAL_DEBUG=1    print how long each startup phase took
#   S3_REWIND_LOCAL_SKIP_INSTALL=1  never run apt-get
#   S3_REWIND_LOCAL_SKIP_VERIFY=1   skip the S3 round-trip check after start
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"

STATE_DIR="${S3_REWIND_LOCAL_DIR:-$REPO/.local-s3}"
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$PWD/$STATE_DIR" ;; esac
STATE_DIR="${STATE_DIR%/}"

PORT_REQUESTED="${S3_REWIND_LOCAL_PORT:-}"
MON_PORT_REQUESTED="${S3_REWIND_LOCAL_MON_PORT:-}"
ACCESS_KEY="${S3_REWIND_LOCAL_ACCESS_KEY:-s3rewind}"
SECRET_KEY="${S3_REWIND_LOCAL_SECRET_KEY:-s3rewind-secret}"
MEMSTORE_BYTES="${S3_REWIND_LOCAL_MEMSTORE_BYTES:-8589934592}"
TIMEOUT="${S3_REWIND_LOCAL_TIMEOUT:-120}"
REGION="us-east-1"
RGW_NAME="client.rgw.s3rewind"
MARKER=".s3-rewind-local-s3"   # present in every state dir this script created
# The RGW testing KMS backend's keys (32 bytes, base64): names are the key ids clients send.
KMS_TEST_KEY_1="czNyZXdpbmQtdGVzdC1rZXktMS0tMzItYnl0ZXMhISE="
KMS_TEST_KEY_2="czNyZXdpbmQtdGVzdC1rZXktMi0tMzItYnl0ZXMhISE="

CONF="$STATE_DIR/ceph.conf"
ENV_FILE="$STATE_DIR/env"
LOG_DIR="$STATE_DIR/log"
PID_DIR="$STATE_DIR/pid"
# Unix socket paths are limited to 107 bytes; use a short dir when needed.
STATE_HASH="$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)"
if [ "${#STATE_DIR}" -le 60 ]; then
  RUN_DIR="$STATE_DIR/run"
else
  RUN_DIR="${TMPDIR:-/tmp}/s3rewind-$STATE_HASH"
fi
LOCK_FILE="${TMPDIR:-/tmp}/s3rewind-local-s3-$STATE_HASH.lock"

log() { printf '[local-s3] %s\n' "$*" >&2; }
die() { printf '[local-s3] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
T_START="$(now_ms)"
phase() { [ -z "${S3_REWIND_LOCAL_DEBUG:-}" ] || log "+$(( $(now_ms) - T_START )) ms: $*"; }

# ---------------------------------------------------------------- processes

# pid of a daemon from its pid file if that process is alive (not a zombie)
# and really is the expected binary; empty otherwise.
live_pid() { # name comm
  local f="$PID_DIR/$1.pid" pid state
  [ -f "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [ -r "/proc/$pid/stat" ] || return 0
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" = "Z" ] && return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = "$2" ] || return 0
  printf '%s' "$pid"
}

stop_one() { # name comm signal grace_seconds
  local pid i
  pid="$(live_pid "$1" "$2")"
  if [ -n "$pid" ]; then
    kill "-$3" "$pid" 2>/dev/null || true
    for ((i = 0; i < $4 * 10; i++)); do
      [ -z "$(live_pid "$1" "$2")" ] && break
      sleep 0.1
    done
    if [ -n "$(live_pid "$1" "$2")" ]; then
      log "$1 (pid $pid) did not exit after SIG$3; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do
        [ -z "$(live_pid "$1" "$2")" ] && break
        sleep 0.1
      done
      [ -z "$(live_pid "$1" "$2")" ] || die "could not stop $1 (pid $pid)"
    fi
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$PID_DIR/$1.pid"
}

do_stop() {
  [ -d "$PID_DIR" ] || return 0
  stop_one rgw radosgw TERM 10
  # The OSD keeps everything in RAM (memstore). A clean shutdown would dump
  # the whole store to disk only for the next start to throw it away, so kill it.
  stop_one osd ceph-osd KILL 10
  stop_one mon ceph-mon TERM 10
}

spawn() { # name logfile cmd...
  local name="$1" out="$2"
  shift 2
  # New session, no controlling terminal, stdio detached: the caller
  # (e.g. Node's execFileSync) does not wait for the daemon.
  # fd 9 (the lock) is closed so that daemons do not hold it.
  setsid nohup "$@" </dev/null >>"$out" 2>&1 9>&- &
  echo "$!" >"$PID_DIR/$name.pid"
}

# -------------------------------------------------------------------- ports

port_in_use() { # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port_from() { # start
  local p="$1"
  while [ "$p" -lt 65000 ]; do
    port_in_use "$p" || { echo "$p"; return 0; }
    p=$((p + 1))
  done
  die "no free port found from $1"
}

# ---------------------------------------------------------------------- S3

env_endpoint() {
  [ -f "$ENV_FILE" ] || return 1
  sed -n 's/^export AWS_ENDPOINT_URL_S3=//p' "$ENV_FILE" | head -n1
}

http_answers() { # url
  local code
  code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" 2>/dev/null || true)"
  [ -n "$code" ] && [ "$code" != "000" ]
}

is_running() {
  local ep
  [ -n "$(live_pid rgw radosgw)" ] || return 1
  [ -n "$(live_pid osd ceph-osd)" ] || return 1
  [ -n "$(live_pid mon ceph-mon)" ] || return 1
  ep="$(env_endpoint)" || return 1
  [ -n "$ep" ] || return 1
  http_answers "$ep"
}

# Round trip through the S3 API: a bucket with Object Lock (hence versioning),
# two versions, a legal hold that must block a delete, a delete marker, and
# a bucket with versioning enabled by PutBucketVersioning.
verify_s3() { # endpoint
  local ep="$1"
  if [ -n "${S3_REWIND_LOCAL_SKIP_VERIFY:-}" ]; then return 0; fi
  if ! (cd "$REPO" && node -e 'require.resolve("@aws-sdk/client-s3")') >/dev/null 2>&1; then
    log "@aws-sdk/client-s3 not installed (run npm ci); checking with curl only"
    verify_s3_curl "$ep"
    return
  fi
  (cd "$REPO" && AWS_ENDPOINT_URL_S3="$ep" AWS_ACCESS_KEY_ID="$ACCESS_KEY" \
    AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_REGION="$REGION" node - <<'NODE'
const s3m = require('@aws-sdk/client-s3');
const c = new s3m.S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: process.env.AWS_REGION,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
  maxAttempts: 1,
});
const send = (Cmd, input) => c.send(new s3m[Cmd](input));
const fail = (m) => { throw new Error('local-s3 verify: ' + m); };
(async () => {
  const b = 'local-s3-verify-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  const b2 = b + '-v';
  await send('CreateBucketCommand', { Bucket: b, ObjectLockEnabledForBucket: true });
  try {
    const v = await send('GetBucketVersioningCommand', { Bucket: b });
    if (v.Status !== 'Enabled') fail('object-lock bucket versioning is ' + v.Status);
    const ol = await send('GetObjectLockConfigurationCommand', { Bucket: b });
    if (ol.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') fail('object lock not enabled');
    const p1 = await send('PutObjectCommand', { Bucket: b, Key: 'k', Body: 'one' });
    const p2 = await send('PutObjectCommand', { Bucket: b, Key: 'k', Body: 'two' });
    if (!p1.VersionId || !p2.VersionId || p1.VersionId === p2.VersionId) fail('no distinct version ids');
    await send('PutObjectLegalHoldCommand', { Bucket: b, Key: 'k', VersionId: p1.VersionId, LegalHold: { Status: 'ON' } });
    let blocked = false;
    try { await send('DeleteObjectCommand', { Bucket: b, Key: 'k', VersionId: p1.VersionId }); }
    catch (e) { blocked = true; }
    if (!blocked) fail('legal hold did not block a version delete');
    await send('PutObjectLegalHoldCommand', { Bucket: b, Key: 'k', VersionId: p1.VersionId, LegalHold: { Status: 'OFF' } });
    await send('DeleteObjectCommand', { Bucket: b, Key: 'k' });
    const l = await send('ListObjectVersionsCommand', { Bucket: b });
    if ((l.Versions || []).length !== 2 || (l.DeleteMarkers || []).length !== 1) fail('unexpected listing');
    for (const e of [...(l.Versions || []), ...(l.DeleteMarkers || [])])
      await send('DeleteObjectCommand', { Bucket: b, Key: e.Key, VersionId: e.VersionId });
  } finally {
    await send('DeleteBucketCommand', { Bucket: b }).catch(() => {});
  }
  await send('CreateBucketCommand', { Bucket: b2 });
  await send('PutBucketVersioningCommand', { Bucket: b2, VersioningConfiguration: { Status: 'Enabled' } });
  const v2 = await send('GetBucketVersioningCommand', { Bucket: b2 });
  await send('DeleteBucketCommand', { Bucket: b2 });
  if (v2.Status !== 'Enabled') fail('PutBucketVersioning did not enable versioning');
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
NODE
  )
}

verify_s3_curl() { # endpoint
  # curl's --aws-sigv4 (7.75+) needs an explicit payload hash for RGW and
  # "?versioning=" rather than "?versioning" to sign what RGW verifies.
  local ep="$1" b="local-s3-verify-$$-$RANDOM" out
  local sig=(--aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" -s -f -m 20
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  curl "${sig[@]}" -X PUT -H 'x-amz-bucket-object-lock-enabled: true' "$ep/$b" -o /dev/null ||
    { echo "verify: could not create an object-lock bucket" >&2; return 1; }
  out="$(curl "${sig[@]}" "$ep/$b?versioning=")" || { echo "verify: GetBucketVersioning failed" >&2; return 1; }
  curl "${sig[@]}" -X DELETE "$ep/$b" -o /dev/null || true
  [[ "$out" == *"<Status>Enabled</Status>"* ]] ||
    { echo "verify: object-lock bucket is not versioned: $out" >&2; return 1; }
}

# ------------------------------------------------------------------ install

ensure_installed() {
  local missing=() bin
  for bin in radosgw ceph-mon ceph-osd ceph radosgw-admin monmaptool; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ -z "${S3_REWIND_LOCAL_SKIP_INSTALL:-}" ] ||
    die "missing ${missing[*]} and S3_REWIND_LOCAL_SKIP_INSTALL is set"
  command -v apt-get >/dev/null 2>&1 ||
    die "missing ${missing[*]}; install the Debian/Ubuntu packages radosgw ceph-mon ceph-osd ceph-common"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}; need root or sudo to apt-get install them"
    sudo=(sudo -n)
  fi
  log "installing radosgw ceph-mon ceph-osd ceph-common (missing: ${missing[*]})"
  local t0
  t0="$(now_ms)"
  # DPkg::Lock::Timeout: a fresh VM may still be running unattended-upgrades.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq -o DPkg::Lock::Timeout=300 >&2 ||
    log "apt-get update failed; trying to install from the current package lists"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    radosgw ceph-mon ceph-osd ceph-common >&2 || die "apt-get install of the ceph packages failed"
  hash -r
  for bin in radosgw ceph-mon ceph-osd ceph radosgw-admin monmaptool; do
    command -v "$bin" >/dev/null 2>&1 || die "$bin still missing after apt-get install"
  done
  log "installed in $(( ($(now_ms) - t0) / 1000 )) s"
}

# -------------------------------------------------------------------- wipe

remove_state_dir() {
  [ -e "$STATE_DIR" ] || { rm -rf "$RUN_DIR"; return 0; }
  case "$STATE_DIR" in
    "" | / | "$HOME" | "$REPO" | /root | /tmp | /usr | /usr/* | /etc | /etc/* | /var | /bin | /sbin | /lib*)
      die "refusing to remove state dir '$STATE_DIR'" ;;
  esac
  if [ ! -e "$STATE_DIR/$MARKER" ] && [ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
    die "refusing to remove '$STATE_DIR': not empty and not created by this script (no $MARKER)"
  fi
  rm -rf "$STATE_DIR" "$RUN_DIR"
}

# ------------------------------------------------------------------- start

ceph_cli() { ceph -c "$CONF" --connect-timeout 15 "$@"; }

dump_logs() {
  local f
  for f in "$LOG_DIR"/*; do
    [ -f "$f" ] || continue
    printf '\n[local-s3] ---- last lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2 || true
  done
}

fail_start() { # only called inside fresh_start's subshell
  log "$1"
  dump_logs
  exit 1
}

write_conf() { # fsid mon_port rgw_port
  cat >"$CONF" <<EOF
# Generated by scripts/local-s3.sh; recreated on every fresh start.
[global]
fsid = $1
mon host = [v1:127.0.0.1:$2]
mon initial members = a
public addr = 127.0.0.1
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = $STATE_DIR/keyring
run dir = $RUN_DIR
admin socket = $RUN_DIR/\$cluster-\$name.asok
log file = $LOG_DIR/\$cluster-\$name.log
log to stderr = false
err to stderr = true
crash dir = $STATE_DIR/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
# a single monitor: commit map changes right away instead of batching for 1 s
paxos propose interval = 0.01
paxos min wait = 0.001
# No logging (nor in-memory log gathering) on the request path: it costs CPU.
debug ms = 0
debug mon = 0
debug paxos = 0
debug osd = 0
debug memstore = 0
debug objclass = 0
debug rados = 0
debug objecter = 0
debug optracker = 0
debug throttle = 0
debug finisher = 0
debug heartbeatmap = 0
debug context = 0
debug crush = 0
debug perfcounter = 0
debug timer = 0
debug buffer = 0
debug tp = 0
debug asok = 0
debug monc = 0
debug mgrc = 0
debug auth = 0
debug rgw = 0
debug rgw sync = 0
debug civetweb = 0

[mon]
mon data = $STATE_DIR/mon/\$cluster-\$id

[osd]
osd data = $STATE_DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
# The script puts osd.0 into the CRUSH map itself. Left to the OSD, its
# boot-time "crush set-device-class/create-or-move" commands can race its
# first monmap (mon log: "handle_command on fsid 0000... != ...") and the
# OSD never comes up.
osd crush update on start = false
osd class update on start = false
osd enable op tracker = false

[$RGW_NAME]
rgw frontends = beast endpoint=127.0.0.1:$3
rgw data = $STATE_DIR/rgw
rgw thread pool size = 128
rgw max concurrent requests = 1024
rgw dynamic resharding = false
rgw enable usage log = false
rgw enable ops log = false
rgw crypt require ssl = false
# SSE-KMS with RGW's testing backend: the keys below encrypt PutObject with
# aws:kms (HEAD reports the key id); RGW 16.2 can't copy such a version (501).
# Test keys only, published here: never protect real data with them.
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = s3-rewind-test-key-1=$KMS_TEST_KEY_1 s3-rewind-test-key-2=$KMS_TEST_KEY_2
rgw s3 auth use sts = false
EOF
  if [ -n "${S3_REWIND_LOCAL_EXTRA_CONF:-}" ]; then
    # Appended last, so its sections/options win.
    cat "$S3_REWIND_LOCAL_EXTRA_CONF" >>"$CONF"
  fi
}

# wait_daemon NAME COMM WHAT CMD...: poll CMD until it succeeds; give up after
# $TIMEOUT s or as soon as the daemon NAME has died.
wait_daemon() {
  local name="$1" comm="$2" what="$3" deadline
  shift 3
  deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    [ -n "$(live_pid "$name" "$comm")" ] || { log "$name exited while waiting for $what"; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { log "timed out after ${TIMEOUT}s waiting for $what"; return 1; }
    sleep 0.1
  done
}

osd_up() { # "1 osds: 1 up (since 2s), 1 in (since 2s); epoch: e12"
  ceph_cli osd stat 2>/dev/null | grep -Eq '(^|[^0-9])1 up'
}

# Build a new cluster in the (already removed) state dir. Runs in a subshell:
# `exit 1` (fail_start) aborts only this attempt.
fresh_start() ( # rgw_port mon_port
  set -euo pipefail
  local rgw_port="$1" mon_port="$2" fsid osd_uuid osd_id pool existing ep attempt
  mkdir -p "$STATE_DIR"
  : >"$STATE_DIR/$MARKER"
  mkdir -p "$LOG_DIR" "$PID_DIR" "$RUN_DIR" "$STATE_DIR/crash" "$STATE_DIR/rgw" \
    "$STATE_DIR/mon/ceph-a" "$STATE_DIR/osd/ceph-0"
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  write_conf "$fsid" "$mon_port" "$rgw_port"
  : >"$STATE_DIR/keyring"

  # --- monitor
  phase "creating monitor"
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" \
    "$STATE_DIR/monmap" >"$LOG_DIR/setup.log" 2>&1 || fail_start "monmaptool failed"
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE_DIR/monmap" --keyring "$STATE_DIR/keyring" \
    >>"$LOG_DIR/setup.log" 2>&1 || fail_start "ceph-mon --mkfs failed"
  spawn mon "$LOG_DIR/mon.out" ceph-mon -f -c "$CONF" -i a

  # --- OSD store, made while the monitor comes up
  phase "monitor spawned"
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" \
    >>"$LOG_DIR/setup.log" 2>&1 || fail_start "ceph-osd --mkfs failed"
  phase "osd store made"
  wait_daemon mon ceph-mon "the monitor" ceph_cli mon stat || fail_start "ceph-mon did not come up"
  phase "monitor answers"
  osd_id="$(ceph_cli osd new "$osd_uuid" 0 2>>"$LOG_DIR/setup.log")" || fail_start "ceph osd new failed"
  [ "$osd_id" = "0" ] || fail_start "expected osd id 0, got '$osd_id'"
  spawn osd "$LOG_DIR/osd.out" ceph-osd -f -c "$CONF" -i 0
  phase "osd spawned"

  # Put the OSD into CRUSH and create RGW's pools (RGW would create them one
  # by one on first use) in a single `ceph` session while the OSD boots.
  # Interactive `ceph` always exits 0, hence the `osd pool ls` check.
  local pools=(.rgw.root default.rgw.log default.rgw.control default.rgw.meta
    default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)
  existing="$(
    {
      echo "osd crush add osd.0 1.0 root=default"
      for pool in "${pools[@]}"; do echo "osd pool create $pool 8 8"; done
      echo "osd pool ls"
    } | ceph_cli 2>&1
  )" || fail_start "could not create the RGW pools"
  printf '%s\n' "$existing" >>"$LOG_DIR/setup.log"
  for pool in "${pools[@]}"; do
    grep -qxF "$pool" <<<"$existing" || fail_start "pool $pool was not created"
  done
  phase "pools created"
  wait_daemon osd ceph-osd "the OSD to be up" osd_up || fail_start "ceph-osd did not come up"
  phase "osd up"

  # --- RGW
  spawn rgw "$LOG_DIR/rgw.out" radosgw -f -c "$CONF" -n "$RGW_NAME"
  ep="http://127.0.0.1:$rgw_port"
  wait_daemon rgw radosgw "RGW at $ep" http_answers "$ep" || fail_start "radosgw did not answer at $ep"
  phase "rgw answers"
  radosgw-admin -c "$CONF" -n "$RGW_NAME" --admin-socket="" --log-file="$LOG_DIR/radosgw-admin.log" \
    user create --uid=s3rewind --display-name="s3-rewind tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >>"$LOG_DIR/setup.log" 2>&1 ||
    fail_start "radosgw-admin user create failed"
  phase "user created"

  # A new user can take a moment to reach RGW's cache: retry briefly.
  for attempt in 1 2 3 4 5 6; do
    if verify_s3 "$ep" 2>"$LOG_DIR/verify.err"; then
      phase "S3 verified"
      {
        echo "export AWS_ENDPOINT_URL_S3=$ep"
        echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY"
        echo "export AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
        echo "export AWS_REGION=$REGION"
      } >"$ENV_FILE.tmp"
      mv "$ENV_FILE.tmp" "$ENV_FILE"
      exit 0
    fi
    sleep 1
  done
  cat "$LOG_DIR/verify.err" >&2
  fail_start "S3 verification against $ep failed"
)

do_start() {
  local t0 rgw_port mon_port attempt
  t0="$(now_ms)"

  if is_running; then
    log "already running at $(env_endpoint)"
    cat "$ENV_FILE"
    return 0
  fi

  ensure_installed
  command -v curl >/dev/null 2>&1 || die "curl is required"
  command -v setsid >/dev/null 2>&1 || die "setsid (util-linux) is required"

  for attempt in 1 2; do
    # Whatever is left (stale pid files, half-dead daemons, old store) goes.
    do_stop
    remove_state_dir

    if [ -n "$PORT_REQUESTED" ]; then
      rgw_port="$PORT_REQUESTED"
      ! port_in_use "$rgw_port" || die "port $rgw_port (S3_REWIND_LOCAL_PORT) is already in use"
    elif port_in_use 7480; then
      rgw_port="$(free_port_from 17480)"
      log "port 7480 is taken; using $rgw_port"
    else
      rgw_port=7480
    fi
    if [ -n "$MON_PORT_REQUESTED" ]; then
      mon_port="$MON_PORT_REQUESTED"
      ! port_in_use "$mon_port" || die "port $mon_port (S3_REWIND_LOCAL_MON_PORT) is already in use"
    else
      mon_port="$(free_port_from 16789)"
    fi
    [ "$mon_port" != "$rgw_port" ] || die "mon and S3 ports are both $rgw_port"

    if fresh_start "$rgw_port" "$mon_port"; then
      log "S3 up and verified in $(( $(now_ms) - t0 )) ms (state: $STATE_DIR)"
      cat "$ENV_FILE"
      return 0
    fi
    [ "$attempt" = 2 ] || log "start failed; wiping and retrying once"
  done
  do_stop
  die "could not start local S3 (logs are in $LOG_DIR)"
}

# -------------------------------------------------------------------- main

with_lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    flock -w 600 9 || die "could not lock $LOCK_FILE"
  fi
  "$@"
}

cmd="${1:-}"
case "$cmd" in
  start) with_lock do_start ;;
  stop) with_lock do_stop ;;
  wipe) with_lock do_stop; remove_state_dir; log "wiped $STATE_DIR" ;;
  status)
    if is_running; then
      log "running at $(env_endpoint)"
      exit 0
    fi
    log "not running"
    exit 1
    ;;
  env)
    [ -f "$ENV_FILE" ] || die "no env file ($ENV_FILE); run: bash scripts/local-s3.sh start"
    cat "$ENV_FILE"
    ;;
  *)
    echo "usage: $0 {start|stop|wipe|status|env}" >&2
    exit 2
    ;;
esac
