# A CA instance on SoftHSM2 for the fault tests (after tests/lib.sh):
#   . "$top_srcdir/tests/ca-lib.sh"; ca_setup
# makes $T/s (secrets), officers alice, bob, carol ($A $B $C), operator
# dave ($D), the SoftHSM token mapped to a local CMVP record, a root CA
# "root" ($T/root.pem) and an issuing CA "issuing" ($T/issuing.pem) with
# its URLs, and exports ESEAL_DB and ESEAL_PROFILES.  Helpers:
#   q SQL                    sqlite3 on the store
#   ca_ceremony_file F NAME KIND EXTRA   write a ceremony file
#   ca_request                submit and approve (alice, bob) one request
#                            for profile "eseal"; prints its id
softhsm_setup
MODULE=$SOFTHSM_MODULE
ESEAL_PROFILES="$top_srcdir/profiles"; export ESEAL_PROFILES
S="$T/s"
ESEAL_DB="$T/ca.db"; export ESEAL_DB
A="alice=file:$S/alice.pass"; B="bob=file:$S/bob.pass"; C="carol=file:$S/carol.pass"
D="dave=file:$S/dave.pass"
PIN="file:$S/issuing.pin"; RPIN="file:$S/root.pin"
OID=NTRJP-7000012050002

q() { sqlite3 "$ESEAL_DB" "$1"; }

# ca_ceremony_file FILE NAME KIND EXTRA-TOP-LEVEL-JSON [OUTPUT]
ca_ceremony_file() {
	_tok=root _pin=$RPIN _parent="" _settings="" _out=${5:-$T/$2.pem}
	_certx='"path-length": 1,'
	if [ "$3" = issuing ]; then
		_tok=issuing _pin=$PIN
		_parent="\"parent\": { \"ca\": \"root\", \"pin\": \"$RPIN\" },"
		_settings="\"settings\": { \"crl-url\": \"http://pki.example/issuing.crl\",
		  \"ocsp-url\": \"http://ocsp.pki.example/\", \"ca-issuers-url\": \"http://pki.example/issuing.crt\" },"
		_certx='"path-length": 0, "crl-distribution-point": "http://pki.example/root.crl",
		  "ca-issuers": "http://pki.example/root.crt",
		  "policies": ["0.4.0.194112.1.3", "0.4.0.194112.1.1", "0.4.0.2042.1.1"],'
	fi
	cat >"$1" <<EOT
{ "ceremony": "$3", "ca": "$2", $4
  "token": { "module": "$MODULE", "label": "$_tok", "pin": "$_pin" },
  "key": { "algorithm": "ec-p256", "label": "$2-key" }, "signature": "ecdsa-sha256",
  $_parent $_settings
  "certificate": {
    "subject": { "C": "JP", "O": "Example K.K.", "organizationIdentifier": "$OID", "CN": "Example TEST $2 CA" },
    "not-before": "2026-01-01", "not-after": "2035-01-01", $_certx "output": "$_out" } }
EOT
}

ca_setup() {
	softhsm_token root rootpin-xyz
	softhsm_token issuing issuingpin-xyz
	mkdir -p "$S" && chmod 700 "$S"
	echo rootpin-xyz >"$S/root.pin"
	echo issuingpin-xyz >"$S/issuing.pin"
	for o in alice bob carol dave; do echo "passphrase-of-$o-123" >"$S/$o.pass"; done
	{
		eseal-ca init --mode test --officer "$A" --officer "$B" --officer "$C" &&
		eseal-ca operator add dave --role operator --pass "file:$S/dave.pass" \
		    --officer "$A" --officer "$B" &&
		eseal-policy cmvp declare --db "$ESEAL_DB" --cert TEST-1 \
		    --vendor "SoftHSM project" --module "SoftHSM v2" \
		    --standard "FIPS 140-3" --level 3 --status Active --operator "$A" &&
		eseal-policy hsm map --db "$ESEAL_DB" --manufacturer "SoftHSM project" \
		    --model "SoftHSM v2" --cert TEST-1 --operator "$A" &&
		ca_ceremony_file "$T/root.json" root root "" &&
		ca_ceremony_file "$T/issuing.json" issuing issuing "" &&
		eseal-ca ceremony run "$T/root.json" --officer "$A" --officer "$B" --quiet &&
		eseal-ca ceremony run "$T/issuing.json" --officer "$A" --officer "$B" --quiet &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/p256.pem" &&
		openssl req -new -key "$T/p256.pem" -out "$T/seal.csr" \
		    -subj "/C=JP/O=Example Seal K.K./organizationIdentifier=$OID/CN=Example Seal"
	} >"$T/setup.log" 2>&1 || { cat "$T/setup.log"; echo "Bail out! CA setup failed"; exit 1; }
}

ca_request() {
	_id=$(eseal-ca request submit "$T/seal.csr" --profile eseal --ca issuing \
	    --submitter "$D" 2>>"$T/setup.log") &&
	eseal-ca request approve "$_id" --approver "$A" >/dev/null 2>>"$T/setup.log" &&
	eseal-ca request approve "$_id" --approver "$B" >/dev/null 2>>"$T/setup.log" &&
	echo "$_id"
}
