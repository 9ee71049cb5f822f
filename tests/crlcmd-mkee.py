#!/usr/bin/env python3
# tests/crlcmd-mkee.py ISSUER.pem SERIALHEX CRLDP NOTAFTER OUT.pem MODULE TOKEN PIN KEYID
# An end-entity certificate signed by a CA key on a PKCS#11 token: the TBS
# is built with python3-cryptography (throw-away signer of the same type),
# its SHA-256 is signed on the token with pkcs11-tool (CKM_ECDSA), and the
# certificate is assembled by hand.  Only for tests of CRLs: the real
# issuance is "eseal-ca issue".
import datetime, hashlib, subprocess, sys, tempfile, os
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

issuer_pem, serial, crldp, not_after, out, module, token, pin, keyid = sys.argv[1:10]
ca = x509.load_pem_x509_certificate(open(issuer_pem, "rb").read())
key = ec.generate_private_key(ec.SECP256R1())
na = datetime.datetime.strptime(not_after, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
b = (x509.CertificateBuilder()
     .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ee " + serial)]))
     .issuer_name(ca.subject)
     .public_key(key.public_key())
     .serial_number(int(serial, 16))
     .not_valid_before(datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc))
     .not_valid_after(na)
     .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
     .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
     .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
     .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
         [x509.UniformResourceIdentifier(crldp)], None, None, None)]), critical=False))
throwaway = ec.generate_private_key(ec.SECP256R1())
tbs = b.sign(throwaway, hashes.SHA256()).tbs_certificate_bytes
with tempfile.TemporaryDirectory() as d:
    open(os.path.join(d, "md"), "wb").write(hashlib.sha256(tbs).digest())
    subprocess.run(["pkcs11-tool", "--module", module, "--token-label", token,
                    "--login", "--pin", pin, "--id", keyid, "--sign", "-m", "ECDSA",
                    "-f", "openssl", "--input-file", os.path.join(d, "md"),
                    "--output-file", os.path.join(d, "sig")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sig = open(os.path.join(d, "sig"), "rb").read()

def tlv(tag, body):
    n = len(body)
    if n < 128:
        l = bytes([n])
    else:
        nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
        l = bytes([0x80 | len(nb)]) + nb
    return bytes([tag]) + l + body

algid = bytes.fromhex("300a06082a8648ce3d040302")
der = tlv(0x30, tbs + algid + tlv(0x03, b"\x00" + sig))
cert = x509.load_der_x509_certificate(der)
ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
open(out, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
