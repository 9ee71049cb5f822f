#!/bin/sh
# The README's demo command: installs missing packages, builds, and runs
# the main job end to end on the embedded default (a SoftHSM2 token store
# in a private directory, a SQLite CA store): instance and officers, CMVP
# registry and HSM mapping, root and issuing key ceremonies, verification
# with the openssl CLI, the audit chain and its witnesses, a backup and a
# quorum restore, the policy gate refusing a key on an HSM whose CMVP record
# turned Historical, and the relying party's eseal-verify on good, revoked
# and sealed documents.
# Everything lands in demo-out/ (recreated on each run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh tools/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p _build
(cd _build && { [ -f Makefile ] || ../configure -q; } && make -j"$(nproc)" >/dev/null)
B="$top/_build"
PATH="$B:$PATH"
export PATH

OUT="$top/demo-out"
rm -rf "$OUT"
mkdir -p "$OUT/tokens" "$OUT/secrets"
chmod 700 "$OUT/secrets"
step() { printf '\n== %s\n' "$*"; }

MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && MODULE=$m && break
done
[ -n "$MODULE" ] || { echo "demo: SoftHSM2 module not found" >&2; exit 1; }

# Secrets live in files (mode 0600); the tools read them by source name,
# never from the command line.
umask 077
for s in root issuing; do
	openssl rand -hex 8 >"$OUT/secrets/$s.pin"
done
for o in alice bob carol dave; do
	echo "passphrase-of-$o-$(openssl rand -hex 6)" >"$OUT/secrets/$o.pass"
done
umask 022
cat >"$OUT/softhsm2.conf" <<EOT
directories.tokendir = $OUT/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOT
SOFTHSM2_CONF="$OUT/softhsm2.conf"
export SOFTHSM2_CONF
ESEAL_DB="$OUT/ca.db"
export ESEAL_DB
S="$OUT/secrets"

step "SoftHSM2 tokens in a private directory"
for t in root issuing; do
	softhsm2-util --init-token --free --label "eseal-$t" --so-pin "$(openssl rand -hex 8)" \
	    --pin "$(cat "$S/$t.pin")" >/dev/null
done
eseal-ca token list --module "$MODULE"

step "Create a test CA instance with three officers (quorum 2)"
eseal-ca init --mode test --quorum 2 \
    --officer alice=file:"$S/alice.pass" --officer bob=file:"$S/bob.pass" \
    --officer carol=file:"$S/carol.pass"
eseal-ca operator add dave --role operator --pass file:"$S/dave.pass" \
    --officer alice=file:"$S/alice.pass" --officer bob=file:"$S/bob.pass"
eseal-ca operator list

step "CMVP registry: import NIST's snapshot, declare the test token, map it"
gzip -dc tests/data/cmvp/modules.json.gz >"$OUT/modules.json"
gzip -dc tests/data/cmvp/historical-modules.json.gz >"$OUT/historical-modules.json"
cp tests/data/cmvp/metadata.json "$OUT/metadata.json"
eseal-policy cmvp import --db "$ESEAL_DB" --operator alice=file:"$S/alice.pass" "$OUT/modules.json" "$OUT/historical-modules.json"
eseal-policy cmvp status --db "$ESEAL_DB" --as-of 2026-11-22 4962 4335 1381 || true
eseal-policy cmvp declare --db "$ESEAL_DB" --cert TEST-SOFTHSM --vendor "SoftHSM project" \
    --module "SoftHSM v2 (test declaration)" --standard "FIPS 140-3" --level 3 \
    --status Active --operator alice=file:"$S/alice.pass"
eseal-policy hsm map --db "$ESEAL_DB" --manufacturer "SoftHSM project" --model "SoftHSM v2" \
    --cert TEST-SOFTHSM --operator alice=file:"$S/alice.pass"
eseal-policy hsm list --db "$ESEAL_DB"

for f in root issuing; do
	sed -e "s|@SOFTHSM_MODULE@|$MODULE|g" -e "s|@SECRETS@|$S|g" -e "s|@OUT@|$OUT|g" \
	    "doc/examples/$f-ceremony.json" >"$OUT/$f-ceremony.json"
done

step "Root key ceremony: review the file, then run it with two officers"
eseal-ca ceremony show "$OUT/root-ceremony.json"
eseal-ca ceremony run "$OUT/root-ceremony.json" \
    --officer alice=file:"$S/alice.pass" --officer bob=file:"$S/bob.pass"

step "Issuing CA key ceremony, signed by the root"
eseal-ca ceremony run "$OUT/issuing-ceremony.json" \
    --officer bob=file:"$S/bob.pass" --officer carol=file:"$S/carol.pass"
eseal-ca ca list

step "Independent check: openssl verify -x509_strict"
openssl verify -x509_strict -CAfile "$OUT/root.pem" "$OUT/issuing.pem"
openssl x509 -in "$OUT/issuing.pem" -noout -subject -issuer -ext basicConstraints,keyUsage,certificatePolicies

step "Lint the CA certificates"
eseal-policy lint --kind root "$OUT/root.pem"
eseal-policy lint --kind issuing --issuer "$OUT/root.pem" "$OUT/issuing.pem"

step "E-seal requests: CSRs from the openssl CLI, one per shipped profile"
ESEAL_PROFILES="$top/profiles"; export ESEAL_PROFILES
mkdir -p "$OUT/csr" "$OUT/certs"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/csr/seal.key" 2>/dev/null
openssl req -new -key "$OUT/csr/seal.key" -out "$OUT/csr/seal.csr" \
    -subj "/C=JP/O=Example Seal K.K./organizationIdentifier=NTRJP-7000012050002/CN=Example Seal K.K. e-Seal"
D="dave=file:$S/dave.pass"
for p in eseal-qualified eseal eseal-jp; do
	extra=""
	# A qualified seal names the HSM holding the subject key: here a real
	# CMVP certificate from the imported snapshot (Thales Luna G7, Active).
	[ "$p" = eseal-qualified ] && extra="--subject-hsm 4962"
	# shellcheck disable=SC2086
	eseal-ca request submit "$OUT/csr/seal.csr" --profile "$p" --ca issuing --submitter "$D" $extra >"$OUT/csr/$p.id"
	echo "request $(cat "$OUT/csr/$p.id") ($p) submitted by dave"
	eseal-ca request approve "$(cat "$OUT/csr/$p.id")" --approver alice=file:"$S/alice.pass"
	eseal-ca request approve "$(cat "$OUT/csr/$p.id")" --approver bob=file:"$S/bob.pass"
done
echo "a submitter cannot approve his own request:"
eseal-ca request approve "$(cat "$OUT/csr/eseal.id")" --approver "$D" || echo "(refused as expected)"
eseal-ca request list

step "Batch issuance: one token login, throw-away copies linted before signing"
eseal-ca issue --ca issuing --pin file:"$S/issuing.pin" --operator "$D" --out-dir "$OUT/certs"
for p in eseal-qualified eseal eseal-jp; do
	serial=$(sqlite3 "$ESEAL_DB" "SELECT serial FROM certificates WHERE request_id = '$(cat "$OUT/csr/$p.id")'")
	cp "$OUT/certs/$serial.pem" "$OUT/certs/$p.pem"
	case $p in eseal-qualified) pol=0.4.0.194112.1.3 ;; eseal) pol=0.4.0.194112.1.1 ;; *) pol=0.4.0.2042.1.1 ;; esac
	printf '%s (serial %s): ' "$p" "$serial"
	openssl verify -x509_strict -policy_check -explicit_policy -policy "$pol" \
	    -CAfile "$OUT/root.pem" -untrusted "$OUT/issuing.pem" "$OUT/certs/$p.pem"
	eseal-policy lint --kind eseal --profile "$p" --issuer "$OUT/issuing.pem" "$OUT/certs/$p.pem" | tail -1
done

step "Revocation under dual control: dave asks, alice and carol approve"
REVOKED=$(sqlite3 "$ESEAL_DB" "SELECT serial FROM certificates WHERE request_id = '$(cat "$OUT/csr/eseal.id")'")
eseal-ca revoke "$REVOKED" --ca issuing --reason keyCompromise --requester "$D" \
    --approver alice=file:"$S/alice.pass" --approver carol=file:"$S/carol.pass"
eseal-ca revoke "$REVOKED" --ca issuing --reason keyCompromise --requester "$D" \
    --approver alice=file:"$S/alice.pass" --approver carol=file:"$S/carol.pass" || echo "(revoking twice refused as expected)"

step "CRL signed on the token; openssl verify -crl_check rejects the revoked seal"
eseal-ca crl --ca issuing --pin file:"$S/issuing.pin" --out "$OUT/issuing.crl"
openssl crl -inform DER -in "$OUT/issuing.crl" -noout -verify -CAfile "$OUT/issuing.pem"
openssl crl -inform DER -in "$OUT/issuing.crl" -out "$OUT/issuing-crl.pem"
openssl crl -in "$OUT/issuing-crl.pem" -noout -text | grep -E "CRL Number|Serial Number|Reason|Full Name|URI" -A1 | head -12
cat "$OUT/root.pem" "$OUT/issuing.pem" >"$OUT/chain.pem"
printf 'eseal-qualified (good): '
openssl verify -crl_check -CAfile "$OUT/chain.pem" -CRLfile "$OUT/issuing-crl.pem" "$OUT/certs/eseal-qualified.pem"
printf 'eseal (revoked): '
if openssl verify -crl_check -CAfile "$OUT/chain.pem" -CRLfile "$OUT/issuing-crl.pem" "$OUT/certs/eseal.pem"; then
	echo "demo: the revoked certificate should have been rejected" >&2
	exit 1
fi
echo "(rejected as expected: certificate revoked)"

step "OCSP: delegated signer, signed status export, eseal-ocspd answers openssl ocsp"
mkdir -p "$OUT/ocsp"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/ocsp/signer.key" 2>/dev/null
chmod 600 "$OUT/ocsp/signer.key"
openssl req -new -key "$OUT/ocsp/signer.key" -out "$OUT/ocsp/signer.csr" \
    -subj "/C=JP/O=Example Trust K.K./CN=Example TEST e-Seal OCSP Responder"
eseal-ca ocsp-signer issue --ca issuing --csr "$OUT/ocsp/signer.csr" --out "$OUT/ocsp/signer.pem" \
    --pin file:"$S/issuing.pin" --officer alice=file:"$S/alice.pass" --officer bob=file:"$S/bob.pass"
eseal-policy lint --kind ocsp --issuer "$OUT/issuing.pem" "$OUT/ocsp/signer.pem" | tail -1
eseal-ca export-status --ca issuing --pin file:"$S/issuing.pin" --out "$OUT/ocsp/status.export"
# Witnesses of the audit chain kept off-site: the export carries the audit
# head it was made at; an anchor is a signed statement of the current head
# (CMS SignedData that the openssl CLI verifies and reads).
eseal-ca audit anchor --pin file:"$S/root.pin" --out "$OUT/audit-anchor.der"
openssl cms -verify -inform DER -binary -purpose any -CAfile "$OUT/root.pem" \
    -in "$OUT/audit-anchor.der" 2>&1 | sed 's/^/  /'
eseal-ca audit verify --ca-cert "$OUT/root.pem" --ca-cert "$OUT/issuing.pem" \
    --witness "$OUT/ocsp/status.export" --witness "$OUT/audit-anchor.der"
cat >"$OUT/ocsp/ocspd.conf" <<EOT
listen = 127.0.0.1
port = 0
port-file = $OUT/ocsp/port
export = $OUT/ocsp/status.export
ca-cert = $OUT/issuing.pem
signer-cert = $OUT/ocsp/signer.pem
signer-key = $OUT/ocsp/signer.key
signer-program = $B/eseal-ocsp-signer
reload-interval = 1
state-dir = $OUT/ocsp/state
EOT
eseal-ocspd -d -f "$OUT/ocsp/ocspd.conf" 2>"$OUT/ocsp/ocspd.log" &
OCSPD=$!
trap 'kill $OCSPD 2>/dev/null' EXIT
i=0
while [ ! -s "$OUT/ocsp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://127.0.0.1:$(cat "$OUT/ocsp/port")"
for p in eseal-qualified eseal; do
	echo "-- openssl ocsp for $p (with a nonce):"
	openssl ocsp -url "$URL" -issuer "$OUT/issuing.pem" -cert "$OUT/certs/$p.pem" \
	    -VAfile "$OUT/ocsp/signer.pem" -CAfile "$OUT/chain.pem" 2>&1 | sed 's/^/   /'
done
echo "-- pre-signed answer over GET (no nonce), with its RFC 5019 caching headers:"
openssl ocsp -issuer "$OUT/issuing.pem" -cert "$OUT/certs/eseal-qualified.pem" -no_nonce \
    -reqout "$OUT/ocsp/req.der" >/dev/null 2>&1
REQ=$(base64 -w0 "$OUT/ocsp/req.der" | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
curl -s -D "$OUT/ocsp/headers" -o "$OUT/ocsp/resp.der" "$URL/$REQ"
grep -iE '^(HTTP|cache-control|etag|expires|last-modified)' "$OUT/ocsp/headers" | sed 's/^/   /'
openssl ocsp -respin "$OUT/ocsp/resp.der" -issuer "$OUT/issuing.pem" -cert "$OUT/certs/eseal-qualified.pem" \
    -VAfile "$OUT/ocsp/signer.pem" -CAfile "$OUT/chain.pem" -no_nonce 2>&1 | sed 's/^/   /'
kill $OCSPD 2>/dev/null; wait $OCSPD 2>/dev/null || true
trap - EXIT

step "Refusals: one officer only, the same officer twice"
eseal-ca operator add eve --role auditor --pass file:"$S/dave.pass" \
    --officer alice=file:"$S/alice.pass" || echo "(refused as expected)"
eseal-ca operator add eve --role auditor --pass file:"$S/dave.pass" \
    --officer alice=file:"$S/alice.pass" --officer alice=file:"$S/alice.pass" || echo "(refused as expected)"

step "Backup under the quorum; a seal revoked after it; a quorum restore keeps the revocation"
AB="--officer alice=file:$S/alice.pass --officer bob=file:$S/bob.pass"
# shellcheck disable=SC2086
eseal-ca backup create "$OUT/ca.backup" --pass file:"$S/alice.pass" $AB
eseal-ca backup verify "$OUT/ca.backup" --pass file:"$S/alice.pass"
LATE=$(sqlite3 "$ESEAL_DB" "SELECT serial FROM certificates WHERE request_id = '$(cat "$OUT/csr/eseal-jp.id")'")
eseal-ca revoke "$LATE" --ca issuing --reason superseded --requester "$D" \
    --approver alice=file:"$S/alice.pass" --approver carol=file:"$S/carol.pass"
eseal-ca restore "$OUT/ca.backup" --pass file:"$S/alice.pass" --officer alice=file:"$S/alice.pass" ||
    echo "(one officer: refused as expected)"
# shellcheck disable=SC2086
eseal-ca restore "$OUT/ca.backup" --pass file:"$S/alice.pass" $AB --witness "$OUT/ocsp/status.export" \
    --witness "$OUT/issuing.crl" --replace-newer
printf 'revocations after the restore: '
sqlite3 "$ESEAL_DB" "SELECT group_concat(serial || ' (reason ' || reason || ')', ', ') FROM revocations"

step "Policy gate: the token's CMVP record turns Historical; a new CA key is refused"
eseal-policy cmvp mark --db "$ESEAL_DB" --cert TEST-SOFTHSM --status Historical \
    --date 2026-11-01 --operator alice=file:"$S/alice.pass"
sed -e 's/"ca": "issuing"/"ca": "issuing-2"/' -e 's/eseal-issuing-2026/eseal-issuing-2/' \
    -e 's|/issuing.pem|/issuing-2.pem|' -e 's|/issuing-ceremony.txt|/issuing-2-ceremony.txt|' \
    "$OUT/issuing-ceremony.json" >"$OUT/issuing-2-ceremony.json"
if eseal-ca ceremony run "$OUT/issuing-2-ceremony.json" --quiet \
    --officer alice=file:"$S/alice.pass" --officer carol=file:"$S/carol.pass"; then
	echo "demo: the gate should have refused" >&2
	exit 1
fi
echo "(refused as expected)"
eseal-policy cmvp mark --db "$ESEAL_DB" --cert TEST-SOFTHSM --status Active \
    --date 2026-11-22 --operator alice=file:"$S/alice.pass"

step "Compliance report (HTML in English and Japanese with inline SVG charts, JSON, CSV, sheets)"
eseal-policy report --db "$ESEAL_DB" --format html --ca-cert "$OUT/root.pem" --ca-cert "$OUT/issuing.pem" \
    --out "$OUT/report.html"
eseal-policy report --db "$ESEAL_DB" --format json --ca-cert "$OUT/root.pem" --ca-cert "$OUT/issuing.pem" \
    --out "$OUT/report.json"
eseal-policy report --db "$ESEAL_DB" --format csv --out "$OUT/report.csv"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c=r["certificates"]; print("report: %d HSMs (%s), %d CA keys, %d certificates %s, %d refusals in the audit chain, audit chain %s" % (len(r["hsm_inventory"]["tokens"]), ", ".join(t["cmvp_cert"]+" "+t["effective_status"] for t in r["hsm_inventory"]["tokens"]), len(r["ca_keys"]), c["total"], json.dumps(c["by_status"]), len(r["refusals"]["audit"]), r["audit"]["result"]))' "$OUT/report.json"
# Issue 11: the Japanese report beside the English one (the report's
# catalogue, po/ja-report.po), the per-certificate sheet, the workbook, and
# the seal whose subject key is on CMVP 4962 at risk after its sunset.
mkdir -p "$OUT/locale/ja/LC_MESSAGES"
msgfmt -o "$OUT/locale/ja/LC_MESSAGES/eseal.mo" "$top/po/ja-report.po"
ESEAL_LOCALEDIR="$OUT/locale" eseal-policy report --db "$ESEAL_DB" --lang ja --ca-cert "$OUT/root.pem" \
    --ca-cert "$OUT/issuing.pem" --algorithm-policies "$top/policy/algorithm-policies" --out "$OUT/report.ja.html"
eseal-policy report --db "$ESEAL_DB" --format csv --sheet certificates --bom \
    --algorithm-policies "$top/policy/algorithm-policies" --out "$OUT/certificates.csv"
eseal-policy report --db "$ESEAL_DB" --format xlsx --algorithm-policies "$top/policy/algorithm-policies" \
    --out "$OUT/report.xlsx" || echo "(no xlsx: built without libxlsxwriter)"
eseal-policy report --db "$ESEAL_DB" --format json --as-of 2027-03-01 | python3 -c 'import json,sys; r=json.load(sys.stdin); [print("at risk as of 2027-03-01: %s %s: %s" % (x["serial"], x["profile"], x["why"])) for x in r["at_risk"]]'
echo "written: $OUT/report.html, $OUT/report.ja.html, $OUT/report.json, $OUT/report.csv, $OUT/certificates.csv, $OUT/report.xlsx"

step "Audit chain: show the last entries and verify with the CA certificates and the witnesses"
eseal-ca audit show --last 12
eseal-ca audit sign --pin file:"$S/root.pin"
eseal-ca audit verify --ca-cert "$OUT/root.pem" --ca-cert "$OUT/issuing.pem" \
    --witness "$OUT/ocsp/status.export" --witness "$OUT/audit-anchor.der"

step "Relying party: eseal-verify on a good seal, a revoked seal and a sealed document"
# The root's ARL (the issuing CA's status) under the quorum, and the
# responder again; eseal-verify needs nothing else of eseal.
sed -e "s|@SOFTHSM_MODULE@|$MODULE|g" -e "s|@SECRETS@|$S|g" -e "s|@OUT@|$OUT|g" \
    doc/examples/arl-ceremony.json >"$OUT/arl-ceremony.json"
eseal-ca ceremony run "$OUT/arl-ceremony.json" --quiet \
    --officer alice=file:"$S/alice.pass" --officer carol=file:"$S/carol.pass"
echo "-- NSS imports the issuing CA's complete CRL (no IDP):"
rm -rf "$OUT/nssdb" && mkdir "$OUT/nssdb"
certutil -N -d "sql:$OUT/nssdb" --empty-password
certutil -A -d "sql:$OUT/nssdb" -n root -t "C,," -i "$OUT/root.pem"
certutil -A -d "sql:$OUT/nssdb" -n issuing -t ",," -i "$OUT/issuing.pem"
crlutil -I -d "sql:$OUT/nssdb" -t 1 -i "$OUT/issuing.crl" && crlutil -L -d "sql:$OUT/nssdb" | sed 's/^/   /'
rm -f "$OUT/ocsp/port"
eseal-ocspd -d -f "$OUT/ocsp/ocspd.conf" 2>>"$OUT/ocsp/ocspd.log" &
OCSPD=$!
trap 'kill $OCSPD 2>/dev/null' EXIT
i=0
while [ ! -s "$OUT/ocsp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://127.0.0.1:$(cat "$OUT/ocsp/port")"
RP="--cache-dir $OUT/verify-cache --anchor $OUT/root.pem --chain $OUT/issuing.pem --ocsp-url $URL --crl $OUT/root-arl.crl"
echo "-- the qualified seal (good):"
# shellcheck disable=SC2086
eseal-verify $RP --profile eseal-qualified "$OUT/certs/eseal-qualified.pem"
echo "-- the revoked seal (exit status 1 expected):"
rc=0
# shellcheck disable=SC2086
eseal-verify $RP --profile eseal "$OUT/certs/eseal.pem" || rc=$?
[ "$rc" = 1 ] || { echo "demo: eseal-verify should have refused the revoked seal (exit $rc)" >&2; exit 1; }
printf 'Invoice 2026-0042: 1,000,000 JPY\n' >"$OUT/invoice.txt"
openssl cms -sign -binary -cades -in "$OUT/invoice.txt" -signer "$OUT/certs/eseal-qualified.pem" \
    -inkey "$OUT/csr/seal.key" -certfile "$OUT/issuing.pem" -outform DER -out "$OUT/invoice.p7s"
echo "-- a document sealed with openssl cms -sign -cades (detached), as JSON:"
# shellcheck disable=SC2086
eseal-verify $RP --profile eseal-qualified --json --cms "$OUT/invoice.p7s" --content "$OUT/invoice.txt" |
    jq -c '{indication, signer: .evidence.signer.subject, qualified: .evidence.profile.qualified,
        qscd: .evidence.profile.qscd, checks: [.checks[] | "\(.check): \(.result)"],
        status: [.revocation[] | select(.used) | "\(.source) \(.certStatus) \(.nonce // .crlNumber)"]}'
sed 's/1,000,000/9,000,000/' "$OUT/invoice.txt" >"$OUT/invoice-changed.txt"
echo "-- the same seal over a changed document (exit status 1 expected):"
rc=0
# shellcheck disable=SC2086
eseal-verify $RP --cms "$OUT/invoice.p7s" --content "$OUT/invoice-changed.txt" >"$OUT/changed.txt" || rc=$?
head -1 "$OUT/changed.txt"
[ "$rc" = 1 ] || { echo "demo: eseal-verify should have refused the changed document (exit $rc)" >&2; exit 1; }
kill $OCSPD 2>/dev/null; wait $OCSPD 2>/dev/null || true
trap - EXIT

printf '\nDemo complete: outputs in %s\n' "$OUT"
