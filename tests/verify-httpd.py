#!/usr/bin/env python3
"""Test-only HTTP server for tests/verify.test, bound to 127.0.0.1 on a
dynamic port (written to PORTFILE).  It plays the misbehaving and the
foreign responders eseal-verify must cope with:

  /html              200 text/html (a captive portal or an error page)
  /big               50 MB application/ocsp-response, Content-Length set
  /bigstream         the same without Content-Length (read until close)
  /slow              answers nothing for 30 s
  /status/CODE       that HTTP status, empty body
  /file/NAME         DIR/NAME as application/ocsp-response (or pkix-crl
                     when NAME ends in .crl), GET or POST
  /openssl           OpenSSL's own OCSP responder: the POSTed request is
                     answered by "openssl ocsp -index DIR/index.txt ..."
                     (the arguments after DIR on the command line)

usage: verify-httpd.py PORTFILE DIR [openssl ocsp responder args...]
"""
import http.server
import os
import subprocess
import sys
import tempfile
import time

PORTFILE, DIR = sys.argv[1], sys.argv[2]
OSSL_ARGS = sys.argv[3:]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def send(self, code, ctype, body, length=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def big(self, with_length):
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        if with_length:
            self.send_header("Content-Length", str(50 * 1024 * 1024))
        self.end_headers()
        chunk = b"\0" * 65536
        try:
            for _ in range(800):
                self.wfile.write(chunk)
        except OSError:
            pass

    def openssl(self, req):
        with tempfile.TemporaryDirectory() as d:
            ri, ro = os.path.join(d, "req"), os.path.join(d, "resp")
            open(ri, "wb").write(req)
            subprocess.run(["openssl", "ocsp", "-reqin", ri, "-respout", ro]
                           + OSSL_ARGS, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            body = open(ro, "rb").read() if os.path.exists(ro) else b""
        self.send(200, "application/ocsp-response", body)

    def route(self, body):
        p = self.path
        if p == "/html":
            self.send(200, "text/html", b"<html><body>Login</body></html>")
        elif p == "/big":
            self.big(True)
        elif p == "/bigstream":
            self.big(False)
        elif p == "/slow":
            time.sleep(30)
        elif p.startswith("/status/"):
            self.send(int(p[8:]), "text/plain", b"")
        elif p.startswith("/file/"):
            name = os.path.basename(p[6:])
            data = open(os.path.join(DIR, name), "rb").read()
            ct = ("application/pkix-crl" if name.endswith(".crl")
                  else "application/ocsp-response")
            self.send(200, ct, data)
        elif p.startswith("/openssl"):
            self.openssl(body)
        else:
            self.send(404, "text/plain", b"not found")

    def do_GET(self):
        self.route(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.route(self.rfile.read(n))


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
