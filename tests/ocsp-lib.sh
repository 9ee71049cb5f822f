# Shared setup for the OCSP tests: a test PKI made with the openssl CLI.
#   ocsp_pki DIR      CA (P-256), CA2, OCSP signer, bad signer, leaves, CRL
#   ocsp_export SEQ OUT [extra spec lines on stdin are appended]
# Leaves: c1 (good), c2 (revoked keyCompromise), c3 (never in the export),
# d1 (issued by CA2).

_ossl() { openssl "$@" >/dev/null 2>>"$T/openssl.log"; }

_mkcert() {	# name issuer-name subject extfile-section
	_ossl req -new -key "$P/$1.key" -subj "$3" -out "$P/$1.csr"
	_ossl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" -CAkey "$P/$2.key" \
	    -set_serial "0x$5" -days 30 -extfile "$P/ext.cnf" -extensions "$4" \
	    -out "$P/$1.pem"
}

ocsp_pki() {
	P=$1
	mkdir -p "$P"
	cat >"$P/ext.cnf" <<EOT
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ocsp]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
[badocsp]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,cRLSign
extendedKeyUsage = OCSPSigning
[noeku]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
[leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
EOT
	for k in ca ca2 ocsp badocsp noeku c1 c2 c3 d1; do
		_ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$P/$k.key"
	done
	for c in ca ca2; do
		_ossl req -x509 -new -key "$P/$c.key" -subj "/CN=Test $c/O=eseal" \
		    -days 60 -config "$P/ext.cnf" -extensions ca -out "$P/$c.pem"
	done
	_mkcert ocsp ca "/CN=Test OCSP signer" ocsp 0a01
	_mkcert badocsp ca "/CN=Bad OCSP signer" badocsp 0a02
	_mkcert noeku ca "/CN=No EKU signer" noeku 0a03
	_mkcert c1 ca "/CN=leaf one" leaf 1001
	_mkcert c2 ca "/CN=leaf two" leaf 1002
	_mkcert c3 ca "/CN=leaf three" leaf 1003
	_mkcert d1 ca2 "/CN=other leaf" leaf 2001
	# A CRL from the CA (openssl ca needs a tiny database).
	mkdir -p "$P/cadb"
	: >"$P/cadb/index.txt"
	echo 01 >"$P/cadb/crlnumber"
	cat >"$P/ca.cnf" <<EOT
[ca]
default_ca = d
[d]
database = $P/cadb/index.txt
crlnumber = $P/cadb/crlnumber
default_md = sha256
default_crl_days = 7
EOT
	_ossl ca -gencrl -config "$P/ca.cnf" -keyfile "$P/ca.key" \
	    -cert "$P/ca.pem" -out "$P/ca-crl.pem"
	_ossl crl -in "$P/ca-crl.pem" -outform DER -out "$P/ca-crl.der"
}

# ocsp_spec SEQ: the default export spec for the PKI in $P.
ocsp_spec() {
	cat <<EOT
sequence $1
issuer $P/ca.pem 2020-01-01 2099-01-01
good 0a01
good 1001
revoked 1002 2021-03-04T05:06:07Z keyCompromise 2021-03-01
crl ca $P/ca-crl.der
EOT
}

# ocsp_conf NAME EXPORT [extra "key = value" lines on stdin]
ocsp_conf() {
	{
		cat <<EOT
listen = 127.0.0.1
port = 0
port-file = $T/$1.port
export = $2
ca-cert = $P/ca.pem
ca-cert = $P/ca2.pem
signer-cert = $P/ocsp.pem
signer-key = $P/ocsp.key
signer-program = $top_builddir/eseal-ocsp-signer
reload-interval = 1
state-dir = $T/$1.state
EOT
		cat
	} >"$T/$1.conf"
}

OCSPD_PIDS=""
trap 'for p in $OCSPD_PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# ocsp_start NAME: run eseal-ocspd on $T/NAME.conf; sets PORT and PID.
ocsp_start() {
	rm -f "$T/$1.port"
	"$top_builddir/eseal-ocspd" -d -f "$T/$1.conf" 2>"$T/$1.log" &
	PID=$!
	OCSPD_PIDS="$OCSPD_PIDS $PID"
	_i=0
	while [ ! -s "$T/$1.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	PORT=$(cat "$T/$1.port" 2>/dev/null || echo 0)
	URL=http://127.0.0.1:$PORT
}

# ocsp_spawner [PID]: the signer spawner of the responder PID ($PID).
ocsp_spawner() { pgrep -P "${1:-$PID}" -x ocspd-spawner; }
# ocsp_signers [PID]: the signer processes of the responder PID ($PID),
# children of its spawner.
ocsp_signers() {
	for _sp in $(ocsp_spawner "$@"); do
		pgrep -P "$_sp"
	done
}

# ocsp_query CERT... : openssl ocsp against $URL, output in $T/.out
ocsp_query() {
	openssl ocsp -url "$URL" -issuer "$P/ca.pem" -VAfile "$P/ocsp.pem" \
	    -CAfile "$P/ca.pem" "$@"
}

# mkreq OUT NONCE-LEN: a DER OCSPRequest for c1 with a nonce of that length
# (0: none) built independently of OpenSSL's request code.
mkreq() {
	openssl ocsp -issuer "$P/ca.pem" -cert "$P/c1.pem" -no_nonce \
	    -reqout "$T/base.req" >/dev/null 2>&1
	python3 - "$T/base.req" "$1" "$2" <<'EOPY'
import sys
d = open(sys.argv[1], 'rb').read()
def tlv(b, i):
    t = b[i]; l = b[i+1]; i += 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i:i+n], 'big'); i += n
    return t, i, l
def enc(t, c):
    n = len(c)
    if n < 0x80: h = bytes([n])
    else:
        lb = n.to_bytes((n.bit_length() + 7) // 8, 'big'); h = bytes([0x80 | len(lb)]) + lb
    return bytes([t]) + h + c
_, i, _ = tlv(d, 0)          # OCSPRequest
_, i, _ = tlv(d, i)          # TBSRequest
t, j, l = tlv(d, i)          # requestList
reqlist = d[i:j + l]
n = int(sys.argv[3])
tbs = reqlist
if n > 0:
    nonce_oid = bytes.fromhex('06092b0601050507300102')
    ext = enc(0x30, nonce_oid + enc(0x04, enc(0x04, bytes(range(1, n + 1)))))
    tbs += enc(0xa2, enc(0x30, ext))
open(sys.argv[2], 'wb').write(enc(0x30, enc(0x30, tbs)))
EOPY
}
