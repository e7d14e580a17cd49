"""What every Lasso SP script of the IdP's tests starts with.

sp_for(d, role) is the Lasso SP of directory d (sp.xml, sp.key, sp.crt),
signing with RSA-SHA256 (and decrypting with sp.key when decrypts is
set), with the IdP of d/idp.xml added in role; it returns the server and
the IdP's entityID.
"""
import os

import lasso


def sp_for(d, role=lasso.PROVIDER_ROLE_IDP, decrypts=False):
    p = lambda n: os.path.join(d, n)
    sp = lasso.Server(p("sp.xml"), p("sp.key"), None, p("sp.crt"))
    sp.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
    if decrypts:
        sp.setEncryptionPrivateKey(p("sp.key"))
    sp.addProvider(role, p("idp.xml"))
    return sp, list(sp.providers.keys())[0]
