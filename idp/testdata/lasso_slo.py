"""Python Lasso (Debian's python3-lasso) as an SP that logs in to Renkei's
IdP and then logs out with SP-initiated Single Logout over HTTP-Redirect.

Usage: lasso_slo.py request DIR   prints {"url": ...}: a signed HTTP-Redirect
                                  AuthnRequest to the IdP
       lasso_slo.py response DIR  reads DIR/response.b64 (the SAMLResponse
                                  form value), keeps Lasso's session dump in
                                  DIR/session.xml and prints {"sso": ...}
       lasso_slo.py logout DIR    prints {"url": ..., "id": ...}: a signed
                                  HTTP-Redirect LogoutRequest for the session
                                  of DIR/session.xml; then reads one line, the
                                  query of the IdP's LogoutResponse, and prints
                                  {"slo": "accepted"} or {"slo": "refused: ..."}

DIR holds idp.xml (the metadata the IdP served), sp.xml, sp.key and sp.crt.
"""
import json
import os
import sys

import lasso
from lasso_common import sp_for

mode, d = sys.argv[1], sys.argv[2]
p = lambda n: os.path.join(d, n)

sp, idp_id = sp_for(d)

if mode == "request":
    login = lasso.Login(sp)
    login.initAuthnRequest(idp_id, lasso.HTTP_METHOD_REDIRECT)
    login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
    login.request.nameIdPolicy.allowCreate = True
    login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
    login.buildAuthnRequestMsg()
    print(json.dumps({"url": login.msgUrl}))
elif mode == "response":
    out = {}
    login = lasso.Login(sp)
    try:
        login.processAuthnResponseMsg(open(p("response.b64")).read())
        login.acceptSso()
        with open(p("session.xml"), "w") as f:
            f.write(login.session.dump())
        out["sso"] = "accepted"
        out["name_id"] = login.nameIdentifier.content
    except lasso.Error as e:
        out["sso"] = "refused: %s" % e
    print(json.dumps(out))
elif mode == "logout":
    logout = lasso.Logout(sp)
    logout.setSessionFromDump(open(p("session.xml")).read())
    logout.initRequest(idp_id, lasso.HTTP_METHOD_REDIRECT)
    logout.buildRequestMsg()
    print(json.dumps({"url": logout.msgUrl, "id": logout.request.id}), flush=True)
    query = sys.stdin.readline().strip()
    out = {}
    try:
        logout.processResponseMsg(query)
        out["slo"] = "accepted"
    except lasso.Error as e:
        out["slo"] = "refused: %s" % e
    print(json.dumps(out))
