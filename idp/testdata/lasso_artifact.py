"""Python Lasso (Debian's python3-lasso) as the SP of a Web SSO with Renkei's
IdP, the Response sent by HTTP-Artifact and resolved by Lasso over SOAP.

Usage: lasso_artifact.py request DIR        prints {"url": ..., "id": ...}: a
                                            signed HTTP-Redirect AuthnRequest
                                            asking for HTTP-Artifact
       lasso_artifact.py resolve DIR QUERY  QUERY is the query string the IdP
                                            redirected the browser to the
                                            artifact ACS with; prints one JSON
                                            line {"url", "body"}: Lasso's SOAP
                                            ArtifactResolve (base64) and the
                                            ArtifactResolutionService it chose
                                            from the IdP's metadata; reads the
                                            SOAP answer (base64) from standard
                                            input and prints {"sso": ...}

DIR holds idp.xml (the metadata the IdP served), sp.xml, sp.key and sp.crt.
"""
import base64
import json
import sys

import lasso
from lasso_common import sp_for

mode, d = sys.argv[1], sys.argv[2]

sp, idp_id = sp_for(d)

if mode == "request":
    login = lasso.Login(sp)
    login.initAuthnRequest(idp_id, lasso.HTTP_METHOD_REDIRECT)
    login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
    login.request.nameIdPolicy.allowCreate = True
    login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_ARTIFACT
    login.msgRelayState = "lasso-artifact"
    login.buildAuthnRequestMsg()
    print(json.dumps({"url": login.msgUrl, "id": login.request.id}))
    sys.exit(0)

out = {}
login = lasso.Login(sp)
try:
    login.initRequest(sys.argv[3], lasso.HTTP_METHOD_ARTIFACT_GET)
    login.buildRequestMsg()
except lasso.Error as e:
    print(json.dumps({"url": "", "body": ""}))
    print(json.dumps({"sso": "no resolve: %s" % e}))
    sys.exit(0)
print(json.dumps({"url": login.msgUrl, "body": base64.b64encode(login.msgBody.encode()).decode()}))
sys.stdout.flush()
answer = base64.b64decode(sys.stdin.readline())
try:
    login.processResponseMsg(answer.decode())
    login.acceptSso()
    out["sso"] = "accepted"
    out["name_id"] = login.nameIdentifier.content
    out["format"] = login.nameIdentifier.format
    out["in_response_to"] = login.response.inResponseTo or ""
    out["relay_state"] = login.msgRelayState or ""
except lasso.Error as e:
    out["sso"] = "refused: %s" % e
print(json.dumps(out))
