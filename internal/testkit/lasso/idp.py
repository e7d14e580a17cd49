"""A Lasso (python3-lasso) SAML 2.0 identity provider as an HTTPS server:
the reference IdP the Lasso SP and the Lasso ECP harnesses are proved
against. The user is whoever the TLS client certificate names (or "anon"
without one); there is no login page.

Usage: idp.py CONFIG.json; the listening socket is file descriptor 3.

  GET  /metadata  the IdP's metadata, as given
  GET  /sso       HTTP-Redirect AuthnRequest
  POST /sso       HTTP-POST AuthnRequest
  POST /soap      SOAP AuthnRequest from an ECP (SAML Profiles 4.2.4)
Answers: an auto-posting form with the Response to the ACS (or the SOAP
response), with an attribute cn = the user and, when configured, a
DiscoveryEPR attribute holding the given EPR; the assertion is encrypted
when the configuration asks for it.
"""

import secrets
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import lasso

import common

DISCO = "urn:liberty:disco:2006-08:DiscoveryEPR"


def new_server(cfg):
    s = lasso.Server(cfg["metadata"], cfg["key"], None, cfg["cert"])
    s.signatureMethod = common.signature_method(cfg)
    s.addProvider(lasso.PROVIDER_ROLE_SP, cfg["spMetadata"], None, None)
    if cfg.get("encrypt"):
        for p in s.providers.values():
            p.setEncryptionMode(lasso.ENCRYPTION_MODE_ASSERTION)
    return s


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def attribute(name, value, xml=False):
    """An Attribute with one value: text, or (xml) an element such as the
    discovery bootstrap's wsa:EndpointReference."""
    if xml:
        node = lasso.MiscTextNode()
        node.setXmlContent(value)
    else:
        node = lasso.MiscTextNode.newWithString(value)
        node.textChild = True
    v = lasso.Saml2AttributeValue()
    v.any = (node,)
    a = lasso.Saml2Attribute()
    a.name = name
    a.nameFormat = lasso.SAML2_ATTRIBUTE_NAME_FORMAT_URI if xml else lasso.SAML2_ATTRIBUTE_NAME_FORMAT_BASIC
    a.attributeValue = (v,)
    return a


class IdP(BaseHTTPRequestHandler):
    identities = {}  # user -> Lasso identity dump (federations for persistent IDs)

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/metadata":
            with open(self.server.cfg["metadata"], "rb") as f:
                self.reply(200, f.read(), "application/samlmetadata+xml")
        elif path == "/sso":
            self.sso(query, None)
        else:
            self.reply(404, b"no such path", "text/plain")

    def do_POST(self):
        body = common.body_of(self).decode()
        if self.path == "/sso":
            form = dict(urllib.parse.parse_qsl(body))
            self.sso(form.get("SAMLRequest", ""), form.get("RelayState"))
        elif self.path == "/soap":
            self.sso(body, None, soap=True)
        else:
            self.reply(404, b"no such path", "text/plain")

    def sso(self, msg, relay_state, soap=False):
        user = common.peer_subject(self) or "anon"
        login = lasso.Login(new_server(self.server.cfg))
        if user in IdP.identities:
            login.setIdentityFromDump(IdP.identities[user])
        try:
            login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
            login.processAuthnRequestMsg(msg)
            if relay_state is not None:
                login.msgRelayState = relay_state
            login.validateRequestMsg(True, True)
            now = time.time()
            login.buildAssertion(lasso.SAML2_AUTHN_CONTEXT_SMARTCARD_PKI, iso(now), None,
                                 iso(now - 60), iso(now + 300))
            for an in login.assertion.authnStatement or ():
                an.sessionIndex = "s-" + secrets.token_hex(8)
            st = lasso.Saml2AttributeStatement()
            st.attribute = (attribute("cn", user),)
            if self.server.cfg.get("discoveryEPR"):
                st.attribute += (attribute(DISCO, self.server.cfg["discoveryEPR"], xml=True),)
            login.assertion.attributeStatement = (st,)
            if soap:
                login.buildResponseMsg(None)  # the ECP's SOAP response (4.2.4.2)
            else:
                login.buildAuthnResponseMsg()
        except lasso.Error as e:
            self.reply(400, ("lasso: %s" % e).encode(), "text/plain")
            return
        if login.isIdentityDirty:
            IdP.identities[user] = login.identity.dump()
        if soap:
            self.reply(200, login.msgBody.encode(), "text/xml")
            return
        self.reply(200, common.post_form(login.msgUrl, {"SAMLResponse": login.msgBody,
                                                        "RelayState": login.msgRelayState or ""}),
                   "text/html; charset=utf-8")


def main():
    cfg = common.load_config()
    new_server(cfg)
    httpd = common.Server(cfg, IdP)
    common.ready()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
