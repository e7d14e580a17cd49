"""A small SAML 2.0 IdP built on Lasso (python3-lasso), the interop peer of
the conformance suite's tests. Usage: lasso_idp.py DIR [sha1]

It listens on 127.0.0.1 (a port of the kernel's choice), prints the port on
stdout, then waits for one line on stdin: by then DIR holds idp.xml (its
metadata, naming that port), idp.key, idp.crt and sp.xml (the suite's SP).
Login is a form (user alice, password secret); a cookie keeps the session.
Everything the IdP decides is Lasso's: processAuthnRequestMsg,
validateRequestMsg, buildAssertion, buildAuthnResponseMsg. The optional
argument sha1 makes it sign with RSA-SHA1 (Lasso's historical default)."""

import base64
import html
import http.server
import os
import sys
import time
import urllib.parse

import lasso

DIR = sys.argv[1]
SHA1 = len(sys.argv) > 2 and sys.argv[2] == "sha1"
SESSIONS = set()
SERVER = None


def p(name):
    return os.path.join(DIR, name)


def lasso_server():
    s = lasso.Server(p("idp.xml"), p("idp.key"), None, p("idp.crt"))
    s.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA1 if SHA1 else lasso.SIGNATURE_METHOD_RSA_SHA256
    s.addProvider(lasso.PROVIDER_ROLE_SP, p("sp.xml"), None, None)
    return s


def post_form(url, body):
    return ("<!DOCTYPE html><html><body><form method=\"post\" action=\"%s\">"
            "<input type=\"hidden\" name=\"SAMLResponse\" value=\"%s\"></form></body></html>"
            % (html.escape(url, quote=True), html.escape(body, quote=True)))


def login_form(query):
    return ("<!DOCTYPE html><html><body><form method=\"post\" action=\"/login\">"
            "<input type=\"hidden\" name=\"q\" value=\"%s\">"
            "<input type=\"text\" name=\"user\"><input type=\"password\" name=\"password\">"
            "</form></body></html>" % html.escape(query, quote=True))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, cookie=None):
        b = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(b)))
        if cookie:
            self.send_header("Set-Cookie", "lasso-session=%s; Path=/" % cookie)
        self.end_headers()
        self.wfile.write(b)

    def session(self):
        for part in self.headers.get("Cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "lasso-session" and v in SESSIONS:
                return v
        return None

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/metadata":
            with open(p("idp.xml")) as f:
                return self.reply(200, f.read())
        if u.path == "/sso":
            return self.sso(u.query, self.session())
        self.reply(404, "not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > 1 << 20:
            return self.reply(413, "request too large")
        if self.path == "/ecp":
            return self.ecp(self.rfile.read(n).decode())
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path == "/login":
            if form.get("user") == ["alice"] and form.get("password") == ["secret"]:
                sid = "s%d" % (len(SESSIONS) + 1)
                SESSIONS.add(sid)
                return self.sso(form.get("q", [""])[0], sid, cookie=sid)
            return self.reply(403, "bad password")
        if self.path == "/sso":
            # HTTP-POST binding: Lasso reads the base64 message as it reads a query.
            return self.sso(form.get("SAMLRequest", [""])[0], self.session())
        self.reply(404, "not found")

    def ecp(self, envelope):
        """The SOAP SingleSignOnService of the ECP profile: HTTP Basic login."""
        want = "Basic " + base64.b64encode(b"alice:secret").decode()
        if self.headers.get("Authorization") != want:
            return self.reply(401, "login required")
        login = lasso.Login(SERVER)
        try:
            login.processAuthnRequestMsg(envelope)
        except lasso.Error as e:
            return self.reply(400, "refused: %s" % e)
        try:
            login.validateRequestMsg(True, True)
        except lasso.Error:
            pass
        try:
            if login.response.status.statusCode.value == lasso.SAML2_STATUS_CODE_SUCCESS:
                t = time.time()
                fmt = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
                login.buildAssertion(lasso.SAML2_AUTHN_CONTEXT_PASSWORD, fmt(t), None, fmt(t - 60), fmt(t + 300))
            # buildResponseMsg is Lasso's SOAP answer (ECP: with ecp:Response).
            login.buildResponseMsg(None)
        except lasso.Error as e:
            return self.reply(400, "refused: %s" % e)
        b = login.msgBody.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def sso(self, query, sid, cookie=None):
        login = lasso.Login(SERVER)
        try:
            login.processAuthnRequestMsg(query)
        except lasso.Error as e:
            return self.reply(400, "refused: %s" % e)
        if sid is None and not login.request.isPassive:
            return self.reply(200, login_form(query))
        try:
            if sid is None:
                # A passive request without a session: Lasso's
                # mustAuthenticate sets the status (NoPassive) itself.
                login.mustAuthenticate()
            else:
                login.validateRequestMsg(True, True)
        except lasso.Error:
            pass  # Lasso has set the error status; the response carries it
        try:
            if sid is not None and login.response.status.statusCode.value == lasso.SAML2_STATUS_CODE_SUCCESS:
                t = time.time()
                fmt = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
                login.buildAssertion(lasso.SAML2_AUTHN_CONTEXT_PASSWORD, fmt(t), None, fmt(t - 60), fmt(t + 300))
            login.buildAuthnResponseMsg()
        except lasso.Error as e:
            return self.reply(400, "refused: %s" % e)
        self.reply(200, post_form(login.msgUrl, login.msgBody), cookie)


def main():
    global SERVER
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(srv.server_port, flush=True)
    sys.stdin.readline()
    SERVER = lasso_server()
    srv.serve_forever()


main()
