"""A Lasso (python3-lasso) SAML 2.0 service provider as an HTTPS server,
the independent SP our IdP is tested against.

Usage: sp.py CONFIG.json; the listening socket is file descriptor 3.

  GET  /metadata  the SP's metadata, as given
  GET  /login?binding=redirect|post&nameid=persistent|transient|unspecified&force=0|1
                  an AuthnRequest (signed unless unsignedRequests) to the
                  IdP's SingleSignOnService,
                  as a 302 (HTTP-Redirect) or an auto-posting form (HTTP-POST)
  POST /acs       processes the Response (HTTP-POST): 200 with the JSON
                  result, or 403 with Lasso's error as JSON
  GET  /ecp       with the PAOS headers: a PAOS AuthnRequest (SAML Profiles 4.2)
  POST /ecp-acs   the ECP's PAOS response: same answers as /acs
"""

import base64
import json
import secrets
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler

import lasso

import common

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
FORMATS = {"persistent": lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT,
           "transient": lasso.SAML2_NAME_IDENTIFIER_FORMAT_TRANSIENT,
           "unspecified": lasso.SAML2_NAME_IDENTIFIER_FORMAT_UNSPECIFIED}
HINTS = {"force": lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE,
         "maybe": lasso.PROFILE_SIGNATURE_VERIFY_HINT_MAYBE}


def new_server(cfg):
    s = lasso.Server(cfg["metadata"], cfg["key"], None, cfg["cert"])
    s.signatureMethod = common.signature_method(cfg)
    if cfg.get("encKey"):
        s.setEncryptionPrivateKey(cfg["encKey"])
    s.addProvider(lasso.PROVIDER_ROLE_IDP, cfg["idpMetadata"], None, None)
    return s


class SP(BaseHTTPRequestHandler):
    issued = {}  # RelayState -> AuthnRequest ID

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, code, obj):
        self.reply(code, json.dumps(obj).encode())

    def do_GET(self):
        path, _, query = self.path.partition("?")
        q = dict(urllib.parse.parse_qsl(query))
        try:
            if path == "/metadata":
                with open(self.server.cfg["metadata"], "rb") as f:
                    self.reply(200, f.read(), "application/samlmetadata+xml")
            elif path == "/login":
                self.login(q)
            elif path == "/ecp":
                self.ecp(q)
            else:
                self.reply_json(404, {"error": "no such path " + path})
        except lasso.Error as e:
            self.reply_json(500, common.lasso_error(e))
        except (KeyError, ValueError) as e:
            self.reply_json(400, {"error": "bad request: %r" % e})

    def do_POST(self):
        try:
            body = common.body_of(self)
            if self.path == "/acs":
                form = dict(urllib.parse.parse_qsl(body.decode()))
                self.accept(form.get("SAMLResponse", ""), form.get("RelayState", ""), paos=False)
            elif self.path == "/ecp-acs":
                self.accept(body.decode(), "", paos=True)
            else:
                self.reply_json(404, {"error": "no such path " + self.path})
        except ValueError as e:
            self.reply_json(400, {"error": "bad request: %r" % e})

    def new_login(self):
        srv = new_server(self.server.cfg)
        idps = list(srv.providers.keys())
        if len(idps) != 1:
            raise ValueError("want one IdP in the metadata, have %r" % idps)
        return lasso.Login(srv), idps[0]

    def authn_request(self, q, method, binding):
        login, idp = self.new_login()
        login.initAuthnRequest(idp, method)
        req = login.request
        req.nameIdPolicy.format = FORMATS[q.get("nameid", "persistent")]
        req.nameIdPolicy.allowCreate = True
        req.forceAuthn = q.get("force", "0") == "1"
        req.protocolBinding = binding
        login.msgRelayState = "rs-" + secrets.token_hex(8)
        if self.server.cfg.get("unsignedRequests"):
            login.setSignatureHint(lasso.PROFILE_SIGNATURE_HINT_FORBID)
        login.buildAuthnRequestMsg()
        SP.issued[login.msgRelayState] = req.iD
        return login

    def login(self, q):
        binding = q.get("binding", "redirect")
        if binding == "redirect":
            login = self.authn_request(q, lasso.HTTP_METHOD_REDIRECT, lasso.SAML2_METADATA_BINDING_POST)
            self.reply(302, b"", "text/plain", [("Location", login.msgUrl)])
        elif binding == "post":
            login = self.authn_request(q, lasso.HTTP_METHOD_POST, lasso.SAML2_METADATA_BINDING_POST)
            self.reply(200, common.post_form(login.msgUrl, {"SAMLRequest": login.msgBody,
                                                            "RelayState": login.msgRelayState}),
                       "text/html; charset=utf-8")
        else:
            raise ValueError("binding " + binding)

    def ecp(self, q):
        if common.PAOS_TYPE not in self.headers.get("Accept", "") or "PAOS" not in self.headers:
            raise ValueError("not an ECP: no PAOS in Accept or no PAOS header")
        login = self.authn_request(q, lasso.HTTP_METHOD_PAOS, lasso.SAML2_METADATA_BINDING_PAOS)
        self.reply(200, login.msgBody.encode(), common.PAOS_TYPE)

    def accept(self, msg, relay_state, paos):
        login, _ = self.new_login()
        login.setSignatureVerifyHint(HINTS[self.server.cfg.get("verifyHint") or "force"])
        try:
            if paos:
                login.processPaosResponseMsg(msg)
            else:
                login.processAuthnResponseMsg(msg)
            login.acceptSso()
        except lasso.Error as e:
            out = common.lasso_error(e)
            out["status"] = status_codes(login.response)
            self.reply_json(403, out)
            return
        out = result(login, msg, paos)
        out["relayState"] = relay_state or (login.msgRelayState or "")
        out["requestID"] = SP.issued.get(out["relayState"], "")
        self.reply_json(200, out)


def status_codes(resp):
    codes, sc = [], getattr(getattr(resp, "status", None), "statusCode", None)
    while sc is not None and len(codes) < 4:
        codes.append(sc.value)
        sc = sc.statusCode
    return codes


def was_encrypted(msg, paos):
    raw = msg.encode() if paos else base64.b64decode(msg)
    root = ET.fromstring(raw)
    return any(el.tag == "{%s}EncryptedAssertion" % SAML for el in root.iter())


def result(login, msg, paos):
    a = login.assertion
    nid = login.nameIdentifier
    out = {"issuer": login.remoteProviderId, "nameID": nid.content, "format": nid.format or "",
           "nameQualifier": nid.nameQualifier or "", "spNameQualifier": nid.spNameQualifier or "",
           "inResponseTo": login.response.inResponseTo or "", "encrypted": was_encrypted(msg, paos),
           "attributes": [], "authnContext": "", "sessionIndex": ""}
    for st in a.authnStatement or ():
        out["sessionIndex"] = st.sessionIndex or ""
        ctx = st.authnContext
        out["authnContext"] = (ctx.authnContextClassRef or "") if ctx else ""
    for st in a.attributeStatement or ():
        for at in st.attribute or ():
            out["attributes"].append({"name": at.name, "nameFormat": at.nameFormat or "",
                                      "friendlyName": at.friendlyName or "",
                                      "values": [v.dump() for v in at.attributeValue or ()]})
    return out


def main():
    cfg = common.load_config()
    new_server(cfg)  # fail at start, not at the first request
    httpd = common.Server(cfg, SP)
    common.ready()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
