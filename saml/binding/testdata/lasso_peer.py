"""Lasso (python3-lasso) as the independent SAML peer of binding's interop
tests. Usage: lasso_peer.py COMMAND DIR [ARG]; DIR holds sp.xml, idp.xml and
the PEM keys and certificates the Go test wrote. Results go to stdout as
JSON; any failure exits non-zero with Lasso's error on stderr."""

import json
import os
import sys

import lasso


def server(d, me, other, role):
    s = lasso.Server(os.path.join(d, me + ".xml"), os.path.join(d, me + ".key"),
                     None, os.path.join(d, me + ".crt"))
    s.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
    s.addProvider(role, os.path.join(d, other + ".xml"), None, None)
    return s


def idp_entity(d):
    with open(os.path.join(d, "idp.entity")) as f:
        return f.read().strip()


def sp_authn_request(d, method):
    login = lasso.Login(server(d, "sp", "idp", lasso.PROVIDER_ROLE_IDP))
    login.initAuthnRequest(idp_entity(d), method)
    req = login.request
    req.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
    req.nameIdPolicy.allowCreate = True
    req.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
    login.msgRelayState = "lasso-rs"
    login.buildAuthnRequestMsg()
    return {"url": login.msgUrl, "body": login.msgBody or "", "relayState": login.msgRelayState or "",
            "id": login.request.iD}


def idp_verify_redirect(d, query):
    login = lasso.Login(server(d, "idp", "sp", lasso.PROVIDER_ROLE_SP))
    login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
    login.processAuthnRequestMsg(query)
    return {"id": login.request.iD, "issuer": login.remoteProviderId,
            "relayState": login.msgRelayState or ""}


def sp_accept_response(d, body):
    login = lasso.Login(server(d, "sp", "idp", lasso.PROVIDER_ROLE_IDP))
    login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
    login.processAuthnResponseMsg(body)
    login.acceptSso()
    return {"nameID": login.nameIdentifier.content, "issuer": login.remoteProviderId}


def sp_paos_request(d):
    login = lasso.Login(server(d, "sp", "idp", lasso.PROVIDER_ROLE_IDP))
    login.initAuthnRequest(idp_entity(d), lasso.HTTP_METHOD_PAOS)
    login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_PAOS
    login.msgRelayState = "lasso-ecp-rs"
    login.buildAuthnRequestMsg()
    return {"envelope": login.msgBody, "id": login.request.iD}


def idp_response(d, query):
    """A Lasso IdP answers our signed Redirect AuthnRequest with a signed
    Response (assertion signed too) for the HTTP-POST binding."""
    login = lasso.Login(server(d, "idp", "sp", lasso.PROVIDER_ROLE_SP))
    login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
    login.processAuthnRequestMsg(query)
    login.validateRequestMsg(True, True)
    login.buildAssertion(lasso.SAML2_AUTHN_CONTEXT_SMARTCARD_PKI, "2024-05-02T10:00:00Z", None,
                         "2024-05-02T10:00:00Z", "2099-01-01T00:00:00Z")
    login.buildAuthnResponseMsg()
    return {"url": login.msgUrl, "body": login.msgBody, "relayState": login.msgRelayState or ""}


def ecp_relay(d, envelopes):
    """A Lasso ECP takes the SP's PAOS request envelope, then the IdP's
    SOAP response envelope (the two separated by a form feed), and returns
    the request it forwards to the IdP and the PAOS response for the SP."""
    paos, idp_resp = envelopes.split("\f")
    srv = lasso.Server()
    srv.addProvider(lasso.PROVIDER_ROLE_IDP, os.path.join(d, "idp.xml"), None, None)
    ecp = lasso.Ecp(srv)
    ecp.processAuthnRequestMsg(paos)
    to_idp = ecp.msgBody
    ecp.processResponseMsg(idp_resp)
    return {"toIdP": to_idp, "toSP": ecp.msgBody, "acs": ecp.msgUrl or "",
            "relayState": ecp.msgRelayState or ""}


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "sp-redirect":
        out = sp_authn_request(d, lasso.HTTP_METHOD_REDIRECT)
    elif cmd == "sp-post":
        out = sp_authn_request(d, lasso.HTTP_METHOD_POST)
    elif cmd == "idp-verify-redirect":
        out = idp_verify_redirect(d, sys.stdin.read().strip())
    elif cmd == "sp-paos":
        out = sp_paos_request(d)
    elif cmd == "idp-response":
        out = idp_response(d, sys.stdin.read().strip())
    elif cmd == "ecp-relay":
        out = ecp_relay(d, sys.stdin.read())
    elif cmd == "sp-accept-response":
        out = sp_accept_response(d, sys.stdin.read().strip())
    else:
        raise SystemExit("unknown command " + cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
