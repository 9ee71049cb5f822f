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
